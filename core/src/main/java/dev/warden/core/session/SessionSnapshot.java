package dev.warden.core.session;

import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A live session as the API shows it, at one moment: immutable, with its last statement already
 * redacted as the audit trail records it.
 *
 * @param id the session's id, the one its audit records carry
 * @param user the identity's name
 * @param groups the identity's groups, sorted
 * @param authMethod how the identity was verified, as audit records name it
 * @param onBehalfOf the person a service token acts for, if any
 * @param environment the environment the session was routed to
 * @param database the database the client asked for
 * @param source the client's address, {@code host:port}
 * @param application the client's {@code application_name}, or empty
 * @param role the role the session logged in to the database as
 * @param started when it connected
 * @param state what it is doing
 * @param statements statements recorded so far
 * @param lastStatement the last one's redacted text, if any
 * @param lastStatementAt when the last one arrived, if any
 */
public record SessionSnapshot(
    String id,
    String user,
    List<String> groups,
    String authMethod,
    Optional<String> onBehalfOf,
    String environment,
    String database,
    String source,
    String application,
    String role,
    Instant started,
    SessionState state,
    long statements,
    Optional<String> lastStatement,
    Optional<Instant> lastStatementAt) {
  public SessionSnapshot {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(user, "user");
    groups = List.copyOf(groups);
    Objects.requireNonNull(authMethod, "authMethod");
    Objects.requireNonNull(onBehalfOf, "onBehalfOf");
    Objects.requireNonNull(environment, "environment");
    Objects.requireNonNull(database, "database");
    Objects.requireNonNull(source, "source");
    Objects.requireNonNull(application, "application");
    Objects.requireNonNull(role, "role");
    Objects.requireNonNull(started, "started");
    Objects.requireNonNull(state, "state");
    Objects.requireNonNull(lastStatement, "lastStatement");
    Objects.requireNonNull(lastStatementAt, "lastStatementAt");
  }
}
