package dev.warden.core.gate;

import dev.warden.core.statement.LexicalSettings;
import dev.warden.core.statement.PreparedStatements;
import dev.warden.core.statement.Relations;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * One statement on its way to the database, as the decision point sees it.
 *
 * @param session the session that sent it
 * @param sql the statement text exactly as the client sent it
 * @param preparedName the prepared statement it defines, if it came through the extended protocol
 *     ({@code ""} is the unnamed statement)
 * @param path the protocol path that carried it
 * @param functionOid for {@link StatementPath#FUNCTION_CALL}, the object id of the function called
 *     (there is no SQL text then)
 * @param lexical the session settings the database will lex the text with
 * @param prepared the session's SQL-level prepared statements: {@code EXECUTE name} is judged as
 *     what {@code name} runs, and an allowed {@code PREPARE} is recorded here
 * @param relations what unqualified relation names resolve to in this session, as far as the
 *     database's catalogue is known ({@link Relations#NONE} when it is not)
 */
public record StatementRequest(
    SessionContext session,
    String sql,
    Optional<String> preparedName,
    StatementPath path,
    OptionalLong functionOid,
    LexicalSettings lexical,
    PreparedStatements prepared,
    Relations relations) {
  public StatementRequest {
    Objects.requireNonNull(session, "session");
    Objects.requireNonNull(sql, "sql");
    Objects.requireNonNull(preparedName, "preparedName");
    Objects.requireNonNull(path, "path");
    Objects.requireNonNull(functionOid, "functionOid");
    Objects.requireNonNull(lexical, "lexical");
    Objects.requireNonNull(prepared, "prepared");
    Objects.requireNonNull(relations, "relations");
    if ((path == StatementPath.FUNCTION_CALL) != functionOid.isPresent()) {
      throw new IllegalArgumentException(
          "a function OID goes with, and only with, a function call");
    }
  }

  /** A statement carried as SQL text, with no catalogue to resolve names against. */
  public static StatementRequest sql(
      SessionContext session,
      String sql,
      Optional<String> preparedName,
      StatementPath path,
      LexicalSettings lexical,
      PreparedStatements prepared) {
    return sql(session, sql, preparedName, path, lexical, prepared, Relations.NONE);
  }

  /** A statement carried as SQL text. */
  public static StatementRequest sql(
      SessionContext session,
      String sql,
      Optional<String> preparedName,
      StatementPath path,
      LexicalSettings lexical,
      PreparedStatements prepared,
      Relations relations) {
    return new StatementRequest(
        session, sql, preparedName, path, OptionalLong.empty(), lexical, prepared, relations);
  }

  /** A FunctionCall message: a function called by object id, with no SQL text. */
  public static StatementRequest functionCall(
      SessionContext session, long functionOid, PreparedStatements prepared) {
    return new StatementRequest(
        session,
        "",
        Optional.empty(),
        StatementPath.FUNCTION_CALL,
        OptionalLong.of(functionOid),
        LexicalSettings.DEFAULT,
        prepared,
        Relations.NONE);
  }
}
