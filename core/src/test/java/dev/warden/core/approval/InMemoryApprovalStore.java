package dev.warden.core.approval;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * An approval store in a map, for unit tests of what is built on the port. It keeps the port's
 * contract, compare-and-set included; {@link #beforeNextReplace} lets a test make another writer's
 * change land between a read and the write that depends on it.
 */
final class InMemoryApprovalStore implements ApprovalStore {
  private final Map<String, ApprovalRequest> requests = new LinkedHashMap<>();
  private Runnable beforeReplace = () -> {};
  private boolean interfereAlways;

  @Override
  public synchronized void create(ApprovalRequest request) {
    if (requests.containsKey(request.id())) {
      throw new IllegalArgumentException("an approval request with id " + request.id() + " exists");
    }
    requests.put(request.id(), request);
  }

  @Override
  public synchronized Optional<ApprovalRequest> find(String id) {
    return Optional.ofNullable(requests.get(id));
  }

  @Override
  public synchronized List<ApprovalRequest> list(Filter filter) {
    return newestFirst().stream()
        .filter(r -> filter.status().isEmpty() || filter.status().contains(r.status()))
        .filter(r -> filter.requester().map(r.requester()::equals).orElse(true))
        .filter(r -> filter.environment().map(r.environment()::equals).orElse(true))
        .filter(r -> filter.since().map(s -> !r.created().isBefore(s)).orElse(true))
        .filter(r -> filter.kind().map(k -> r.kind() == k).orElse(true))
        .limit(filter.limit())
        .toList();
  }

  @Override
  public boolean replace(ApprovalRequest expected, ApprovalRequest updated) {
    if (!expected.id().equals(updated.id())) {
      throw new IllegalArgumentException("replace must keep the id");
    }
    Runnable hook;
    synchronized (this) {
      hook = beforeReplace;
      if (!interfereAlways) {
        beforeReplace = () -> {};
      }
    }
    hook.run();
    synchronized (this) {
      if (!expected.equals(requests.get(expected.id()))) {
        return false;
      }
      requests.put(updated.id(), updated);
      return true;
    }
  }

  @Override
  public synchronized List<ApprovalRequest> byBinding(
      String requester, String environment, String binding) {
    return newestFirst().stream()
        .filter(r -> r.requester().equals(requester))
        .filter(r -> r.environment().equals(environment))
        .filter(r -> r.binding().equals(binding))
        .toList();
  }

  @Override
  public synchronized List<ApprovalRequest> openWindows(
      Optional<String> requester, Optional<String> environment, Instant at) {
    return requests.values().stream()
        .filter(r -> r.status() == ApprovalRequest.Status.APPROVED)
        .filter(r -> r.access().map(a -> a.openAt(at)).orElse(false))
        .filter(r -> requester.map(r.requester()::equals).orElse(true))
        .filter(r -> environment.map(r.environment()::equals).orElse(true))
        .sorted(
            Comparator.comparing(
                    (ApprovalRequest r) -> r.access().orElseThrow().end().orElseThrow())
                .reversed())
        .toList();
  }

  /** Runs {@code change} once, just before the next compare-and-set compares. */
  synchronized void beforeNextReplace(Runnable change) {
    beforeReplace = change;
    interfereAlways = false;
  }

  /** Runs {@code change} before every compare-and-set from now on. */
  synchronized void beforeEveryReplace(Runnable change) {
    beforeReplace = change;
    interfereAlways = true;
  }

  /** Writes {@code request} over whatever is stored under its id: another process's change. */
  synchronized void overwrite(ApprovalRequest request) {
    requests.put(request.id(), request);
  }

  private List<ApprovalRequest> newestFirst() {
    List<ApprovalRequest> all = new ArrayList<>(requests.values());
    // Insertion order breaks ties between requests made at the same instant: later is newer.
    List<ApprovalRequest> reversed = new ArrayList<>(all.reversed());
    reversed.sort(Comparator.comparing(ApprovalRequest::created).reversed());
    return reversed;
  }
}
