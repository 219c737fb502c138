package dev.warden.core.statement;

/** What a statement does, in the coarse classes policy is written against. */
public enum StatementKind {
  /**
   * Reads data and changes nothing (SELECT, TABLE, VALUES, SHOW, FETCH, EXPLAIN without ANALYZE).
   */
  READ,
  /** Changes rows (INSERT, UPDATE, DELETE, MERGE, COPY FROM, SELECT INTO, writable CTEs). */
  WRITE,
  /** Changes the schema (CREATE, ALTER, DROP, TRUNCATE, COMMENT, REINDEX of objects). */
  DDL,
  /** Changes privileges or roles (GRANT, REVOKE, CREATE/ALTER ROLE, ALTER DEFAULT PRIVILEGES). */
  DCL,
  /** Transaction control (BEGIN, COMMIT, ROLLBACK, SAVEPOINT, PREPARE TRANSACTION). */
  TRANSACTION,
  /** Changes session state (SET, RESET, DISCARD, SET ROLE, LISTEN, PREPARE, DEALLOCATE). */
  SESSION,
  /** Maintenance and everything else that runs (VACUUM, ANALYZE, CHECKPOINT, LOCK, DO, CALL). */
  UTILITY,
  /** Warden cannot tell what it does; {@link Statement#unknownReason()} says why. */
  UNKNOWN
}
