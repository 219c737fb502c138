package dev.warden.protocol.postgres;

import io.netty.buffer.ByteBuf;

/** AuthenticationOk (B): authentication succeeded. */
public record AuthenticationOk() implements BackendMessage {
  /** The message type byte shared by all authentication requests. */
  public static final byte TYPE = 'R';

  @Override
  public void encode(ByteBuf out) {
    Authentication.writeHeader(out, Authentication.OK, 0);
  }
}
