package dev.warden.core.policy;

import dev.warden.core.gate.SessionContext;
import dev.warden.core.gate.StatementPath;
import dev.warden.core.identity.Identity;
import java.time.Instant;
import java.util.Objects;
import java.util.Set;

/**
 * Everything a condition may read besides the statement itself: who, where, how and when.
 *
 * @param session the session the statement came from
 * @param path the protocol path that carried it
 * @param time when it is judged
 */
public record PolicyInput(SessionContext session, StatementPath path, Instant time) {
  public PolicyInput {
    Objects.requireNonNull(session, "session");
    Objects.requireNonNull(path, "path");
    Objects.requireNonNull(time, "time");
  }

  /** The client's IP address without its port ({@code 10.1.2.3}, {@code ::1}). */
  public String source() {
    return sourceHost(session.clientAddress());
  }

  static String sourceHost(String clientAddress) {
    int colon = clientAddress.lastIndexOf(':');
    String host = colon < 0 ? clientAddress : clientAddress.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    return host;
  }

  /** What a judgement depends on apart from the statement and the time: a cache key. */
  ContextKey key() {
    return new ContextKey(
        session.identity(),
        session.environment().name(),
        session.environment().tags(),
        session.database(),
        session.applicationName(),
        source(),
        path);
  }

  /** The inputs a judgement reads, minus the statement and the time. */
  record ContextKey(
      Identity identity,
      String environment,
      Set<String> tags,
      String database,
      String application,
      String source,
      StatementPath path) {}
}
