package dev.warden.server.approval;

import dev.warden.core.approval.ApprovalRequest;
import dev.warden.core.approval.Approvals;
import dev.warden.core.environment.AccessWindow;
import dev.warden.core.environment.AccessWindows;
import java.time.Instant;
import java.util.Comparator;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The open access windows, kept in memory so that the proxy's question at every login is answered
 * without touching the store (which may block) and without slowing logins down: filled from the
 * store at start ({@link #load}) and kept current by every change the server's {@link Approvals}
 * makes ({@link #changed}, hooked on {@code Approvals.onChange}). Reviews made through the CLI go
 * through the server's REST API, so they are changes of this process too.
 *
 * <p>A window is answered only while the time asked about lies within it, so one whose end has
 * passed is not used even before the expiry sweep marks its request used and removes it here.
 */
public final class OpenWindows implements AccessWindows {
  /** Windows by request id. */
  private final Map<String, AccessWindow> byId = new ConcurrentHashMap<>();

  /** Fills the windows open at {@code at} from {@code approvals}' store. */
  public void load(Approvals approvals, Instant at) {
    for (ApprovalRequest r : approvals.openWindows(at)) {
      changed(r);
    }
  }

  /** Takes in a change of a request: an opened window is added, any other state removes it. */
  public void changed(ApprovalRequest r) {
    Optional<AccessWindow> window = window(r);
    if (window.isPresent()) {
      byId.put(r.id(), window.get());
    } else {
      byId.remove(r.id());
    }
  }

  @Override
  public Optional<AccessWindow> openFor(String identity, String environment, Instant at) {
    // Open windows are few (each is a person's approved elevation), so a scan is cheap.
    return byId.values().stream()
        .filter(w -> w.identity().equals(identity) && w.environment().equals(environment))
        .filter(w -> w.openAt(at))
        .max(Comparator.comparing(AccessWindow::end));
  }

  @Override
  public boolean isOpen(String id, Instant at) {
    AccessWindow w = byId.get(id);
    return w != null && w.openAt(at);
  }

  /** How many windows are kept now (open, or ended and not yet swept). */
  public int size() {
    return byId.size();
  }

  /** The window an approved access request opened, if {@code r} is one. */
  static Optional<AccessWindow> window(ApprovalRequest r) {
    if (r.status() != ApprovalRequest.Status.APPROVED || r.access().isEmpty()) {
      return Optional.empty();
    }
    ApprovalRequest.Access a = r.access().get();
    if (a.start().isEmpty() || a.end().isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(
        new AccessWindow(
            r.id(), r.requester(), r.environment(), a.role(), a.start().get(), a.end().get()));
  }
}
