package dev.warden.protocol.postgres;

import io.netty.buffer.ByteBuf;

/** AuthenticationCleartextPassword (B): a cleartext password is required. */
public record AuthenticationCleartextPassword() implements BackendMessage {
  @Override
  public void encode(ByteBuf out) {
    Authentication.writeHeader(out, Authentication.CLEARTEXT_PASSWORD, 0);
  }
}
