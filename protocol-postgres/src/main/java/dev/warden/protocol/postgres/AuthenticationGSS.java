package dev.warden.protocol.postgres;

import io.netty.buffer.ByteBuf;

/** AuthenticationGSS (B): GSSAPI authentication is required. */
public record AuthenticationGSS() implements BackendMessage {
  @Override
  public void encode(ByteBuf out) {
    Authentication.writeHeader(out, Authentication.GSS, 0);
  }
}
