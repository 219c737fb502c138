package dev.warden.protocol.postgres;

import io.netty.buffer.ByteBuf;

/** SSLRequest (F): asks to upgrade the connection to TLS before the StartupMessage. */
public record SSLRequest() implements FrontendMessage {
  /** The request code 1234.5679 in place of a protocol version. */
  public static final int CODE = 80877103;

  @Override
  public void encode(ByteBuf out) {
    out.writeInt(8);
    out.writeInt(CODE);
  }
}
