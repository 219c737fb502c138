package dev.warden.core.gate;

import java.util.Objects;
import java.util.Optional;

/**
 * One statement on its way to the database, as the decision point sees it.
 *
 * @param session the session that sent it
 * @param sql the statement text exactly as the client sent it
 * @param preparedName the prepared statement it defines, if it came through the extended protocol
 *     ({@code ""} is the unnamed statement)
 * @param path the protocol path that carried it
 */
public record StatementRequest(
    SessionContext session, String sql, Optional<String> preparedName, StatementPath path) {
  public StatementRequest {
    Objects.requireNonNull(session, "session");
    Objects.requireNonNull(sql, "sql");
    Objects.requireNonNull(preparedName, "preparedName");
    Objects.requireNonNull(path, "path");
  }
}
