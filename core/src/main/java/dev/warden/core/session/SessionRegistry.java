package dev.warden.core.session;

import dev.warden.core.audit.Redactor;
import dev.warden.core.gate.SessionContext;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The sessions connected through Warden now, and the counters of what its environments did, for the
 * API and the metrics. Protocol engines add a session once it is authenticated and connected and
 * remove it when it ends; the session itself stays with its engine (on its event loop), and this
 * registry only finds it. Thread-safe.
 *
 * <p>Statement text is shown as the audit trail records it: through the same {@link Redactor},
 * applied when the session is looked at rather than for every statement.
 */
public final class SessionRegistry {
  private final Redactor redactor;
  private final Map<String, LiveSession> live = new ConcurrentHashMap<>();
  private final Map<String, EnvironmentCounters> counters = new ConcurrentHashMap<>();

  /** A registry whose statement text is redacted by {@code redactor}. */
  public SessionRegistry(Redactor redactor) {
    this.redactor = Objects.requireNonNull(redactor, "redactor");
  }

  /** Adds a session that has begun; its id must be unique among the live ones. */
  public void add(LiveSession session) {
    String id = session.context().id();
    if (live.putIfAbsent(id, session) != null) {
      throw new IllegalStateException("session " + id + " is already registered");
    }
  }

  /** Removes a session that has ended (nothing when it is not there). */
  public void remove(LiveSession session) {
    live.remove(session.context().id(), session);
  }

  /** The live session {@code id}, if it is connected now. */
  public Optional<LiveSession> find(String id) {
    return Optional.ofNullable(live.get(id));
  }

  /** The live session {@code id} as the API shows it, if it is connected now. */
  public Optional<SessionSnapshot> snapshot(String id) {
    return find(id).map(this::snapshot);
  }

  /** Every live session, oldest first. */
  public List<SessionSnapshot> snapshots() {
    List<SessionSnapshot> out = new ArrayList<>(live.size());
    for (LiveSession s : live.values()) {
      out.add(snapshot(s));
    }
    out.sort(Comparator.comparing(SessionSnapshot::started).thenComparing(SessionSnapshot::id));
    return out;
  }

  /** How many sessions are connected now. */
  public int size() {
    return live.size();
  }

  /** How many sessions are connected now per environment, by name. */
  public Map<String, Integer> sizeByEnvironment() {
    Map<String, Integer> out = new TreeMap<>();
    for (LiveSession s : live.values()) {
      out.merge(s.context().environment().name(), 1, Integer::sum);
    }
    return out;
  }

  /** The counters of {@code environment} (empty for logins that named none), made on first use. */
  public EnvironmentCounters counters(String environment) {
    Objects.requireNonNull(environment, "environment");
    EnvironmentCounters c = counters.get(environment);
    return c != null ? c : counters.computeIfAbsent(environment, EnvironmentCounters::new);
  }

  /** The counters of every environment counted so far, by name. */
  public List<EnvironmentCounters> counters() {
    List<EnvironmentCounters> out = new ArrayList<>(counters.values());
    out.sort(Comparator.comparing(EnvironmentCounters::environment));
    return out;
  }

  private SessionSnapshot snapshot(LiveSession s) {
    SessionContext c = s.context();
    Optional<LiveSession.LastStatement> last = s.lastStatement();
    return new SessionSnapshot(
        c.id(),
        c.identity().name(),
        List.copyOf(new TreeSet<>(c.identity().groups())),
        c.identity().methodName(),
        c.identity().onBehalfOf(),
        c.environment().name(),
        c.database(),
        c.clientAddress(),
        c.applicationName(),
        s.upstreamRole(),
        s.started(),
        s.state(),
        s.statements(),
        last.map(l -> redactor.redact(l.text(), l.lexical())),
        last.map(LiveSession.LastStatement::at));
  }
}
