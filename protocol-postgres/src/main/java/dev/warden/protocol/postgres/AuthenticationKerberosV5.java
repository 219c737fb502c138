package dev.warden.protocol.postgres;

import io.netty.buffer.ByteBuf;

/**
 * AuthenticationKerberosV5 (B): Kerberos V5 authentication is required (no longer supported by
 * PostgreSQL servers).
 */
public record AuthenticationKerberosV5() implements BackendMessage {
  @Override
  public void encode(ByteBuf out) {
    Authentication.writeHeader(out, Authentication.KERBEROS_V5, 0);
  }
}
