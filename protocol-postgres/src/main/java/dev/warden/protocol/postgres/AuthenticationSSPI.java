package dev.warden.protocol.postgres;

import io.netty.buffer.ByteBuf;

/** AuthenticationSSPI (B): SSPI authentication is required. */
public record AuthenticationSSPI() implements BackendMessage {
  @Override
  public void encode(ByteBuf out) {
    Authentication.writeHeader(out, Authentication.SSPI, 0);
  }
}
