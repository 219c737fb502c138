package dev.warden.proxy.postgres;

import dev.warden.core.gate.Verdict;
import dev.warden.protocol.postgres.ErrorResponse;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/**
 * The one place where Warden's own refusals become PostgreSQL ErrorResponse messages, so that every
 * error a client sees from Warden has a SQLSTATE, a severity PostgreSQL itself would use, and no
 * internal detail.
 */
final class ClientErrors {
  /** SQLSTATE 08P01: protocol_violation. */
  static final String PROTOCOL_VIOLATION = "08P01";

  /**
   * The audit trail cannot record a statement, so it is refused ({@code io_error}: the trail is
   * Warden's storage). Documented in docs/audit.md.
   */
  static final String AUDIT_UNAVAILABLE = "58030";

  /** SQLSTATE 08006: connection_failure. */
  static final String CONNECTION_FAILURE = "08006";

  /** SQLSTATE 28P01: invalid_password. */
  static final String INVALID_PASSWORD = "28P01";

  /** SQLSTATE 28000: invalid_authorization_specification. */
  static final String INVALID_AUTHORIZATION = "28000";

  /** SQLSTATE 53300: too_many_connections. */
  static final String TOO_MANY_CONNECTIONS = "53300";

  /** SQLSTATE 3D000: invalid_catalog_name. */
  static final String UNKNOWN_DATABASE = "3D000";

  /** SQLSTATE 57P01: admin_shutdown, as for a session ended by pg_terminate_backend. */
  static final String ADMIN_SHUTDOWN = "57P01";

  /** SQLSTATE 42501: insufficient_privilege. */
  static final String INSUFFICIENT_PRIVILEGE = "42501";

  private ClientErrors() {}

  /** An error that ends the connection. */
  static ByteBuf fatal(ByteBufAllocator alloc, String sqlState, String message) {
    return encode(alloc, ErrorResponse.of("FATAL", sqlState, message, null));
  }

  /** A statement refused by the decision point; the session goes on. */
  static ByteBuf denial(ByteBufAllocator alloc, Verdict.Deny deny) {
    return encode(alloc, ErrorResponse.of("ERROR", deny.sqlState(), deny.message(), deny.hint()));
  }

  private static ByteBuf encode(ByteBufAllocator alloc, ErrorResponse error) {
    ByteBuf out = alloc.buffer(128);
    error.encode(out);
    return out;
  }

  /** A reason to end a connection during startup, carried until it can be written. */
  record Failure(String sqlState, String message) {}
}
