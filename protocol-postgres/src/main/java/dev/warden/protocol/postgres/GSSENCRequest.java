package dev.warden.protocol.postgres;

import io.netty.buffer.ByteBuf;

/** GSSENCRequest (F): asks to wrap the connection in GSSAPI encryption. */
public record GSSENCRequest() implements FrontendMessage {
  /** The request code 1234.5680 in place of a protocol version. */
  public static final int CODE = 80877104;

  @Override
  public void encode(ByteBuf out) {
    out.writeInt(8);
    out.writeInt(CODE);
  }
}
