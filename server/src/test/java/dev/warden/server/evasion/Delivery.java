package dev.warden.server.evasion;

/** How a case reaches Warden: the protocol paths a client can choose for the same text. */
enum Delivery {
  /** One simple-protocol Query message (pgjdbc {@code preferQueryMode=simple}). */
  SIMPLE,
  /**
   * The extended protocol with the unnamed statement (pgjdbc {@code preferQueryMode=extended});
   * pgjdbc sends each statement of a multi-statement string as its own Parse/Bind/Execute, all
   * before one Sync.
   */
  EXTENDED,
  /**
   * A named server-side prepared statement (pgjdbc {@code prepareThreshold=1}), executed twice so
   * the second execution is Bind/Execute of an already parsed statement.
   */
  NAMED,
  /** SQL-level {@code PREPARE name AS …} then {@code EXECUTE name}, as two Query messages. */
  SQL_PREPARE,
  /** A JDBC batch: an allowed statement, then the case, pipelined before one Sync. */
  BATCH
}
