package dev.warden.core.statement;

/** Properties of a statement that policy may care about beyond its kind. */
public enum StatementFlag {
  /** Runs SQL that is not visible in the text (DO, EXECUTE of a string, CALL, dblink_exec). */
  DYNAMIC_SQL,
  /** Has effects outside the rows it touches (signals backends, reads or writes server files). */
  SIDE_EFFECTS,
  /** Changes the role the session acts as (SET ROLE, SET SESSION AUTHORIZATION, set_config). */
  ROLE_SWITCH,
  /** COPY to or from a program run on the database server. */
  COPY_PROGRAM,
  /** COPY to or from a file on the database server. */
  COPY_SERVER_FILE,
  /** ALTER SYSTEM: changes the server's configuration file. */
  ALTER_SYSTEM,
  /** EXPLAIN ANALYZE: the explained statement is executed. */
  EXPLAIN_ANALYZE,
  /** Takes explicit locks (SELECT FOR UPDATE/SHARE, LOCK TABLE, advisory locks). */
  LOCKS,
  /**
   * Changes a setting that changes how later statements are lexed (standard_conforming_strings).
   */
  CHANGES_LEXING,
  /** UPDATE or DELETE without a WHERE clause, or with one that is true for every row. */
  UNBOUNDED,
  /** Drops or empties an object (DROP, TRUNCATE). */
  DESTRUCTIVE,
  /** Makes the session read-write where it was read-only. */
  READ_WRITE_ESCAPE,
  /**
   * Calls a function that is not built into the database (a user-defined or extension function):
   * what it does, including SQL it runs, is not visible in the statement.
   */
  USER_FUNCTION,
  /** Changes the search path, and so what unqualified names resolve to (SET search_path, ...). */
  CHANGES_SEARCH_PATH,
  /**
   * Sets, resets or could set a {@code warden.*} setting, which carries the verified identity to
   * the database (row-level security reads it): {@code SET warden.identity}, {@code set_config}
   * with such a name or with a name that is not a constant, a function or role defined with a
   * {@code SET warden.*} clause, and dynamic SQL or function bodies that name one. Warden refuses
   * it for everyone, whatever the policy. A SET or RESET of its own of {@code warden.reason}, the
   * session's reason, is not flagged: it is described by {@link Statement#reasonSetting()}.
   */
  CHANGES_IDENTITY_SETTING,
  /**
   * Creates a table, view or sequence that lives only for the session ({@code CREATE TEMP TABLE},
   * {@code CREATE TABLE pg_temp.x}, ...): not a change of the database's schema.
   */
  TEMPORARY
}
