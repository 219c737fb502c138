package dev.warden.server.masking;

import java.net.InetSocketAddress;
import java.util.List;

/**
 * One client session through the recording relay, as one identity. Running a case never throws:
 * what the client reported (errors, a lost connection) is returned for the report, and the oracle
 * judges the bytes, not the client's view of them.
 */
interface CaseSession extends AutoCloseable {
  /** Sends {@code statements} as this client would, waits for every answer, rolls back. */
  List<String> run(List<String> statements);

  /** False once the session cannot run another case (the server or the client gave up). */
  boolean usable();

  /**
   * Starts over with a new server session in the same client, when the client can (psql's {@code
   * \connect}), so that what a case left behind (settings, cursors, temporary objects) is gone;
   * false when the caller must open a new session instead.
   */
  default boolean reconnectInPlace() {
    return false;
  }

  @Override
  void close();

  /** Who connects, to what. */
  record Login(InetSocketAddress address, String database, String user, String password) {}

  static CaseSession open(Client client, Login login) {
    return switch (client) {
      case JDBC_SIMPLE, JDBC_EXTENDED, JDBC_BINARY -> JdbcCaseSession.open(client, login);
      case PSQL -> PsqlCaseSession.open(login);
      case RAW -> RawCaseSession.open(login);
    };
  }
}
