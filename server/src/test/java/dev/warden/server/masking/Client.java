package dev.warden.server.masking;

/** The ways a case reaches Warden; each has its own session and sees its own bytes. */
enum Client {
  /** pgjdbc, {@code preferQueryMode=simple}: a case's statements in one Query message. */
  JDBC_SIMPLE,
  /** pgjdbc, {@code preferQueryMode=extended}: Parse/Bind/Describe/Execute per statement. */
  JDBC_EXTENDED,
  /**
   * pgjdbc with binary transfer forced from the first execution ({@code prepareThreshold=-1}) and
   * enabled for text, dates, inet, jsonb and arrays, so results come in binary format.
   */
  JDBC_BINARY,
  /** psql 15 reading the statements on standard input, as a person would type them. */
  PSQL,
  /**
   * Raw protocol messages: Parse, Bind with binary result format codes, Execute with a row limit of
   * 2 repeated after each PortalSuspended, no Describe, then Sync.
   */
  RAW
}
