package dev.warden.protocol.postgres;

import io.netty.buffer.ByteBuf;

/** Flush (F): asks the server to send the output it has buffered so far. */
public record Flush() implements FrontendMessage {
  /** The message type byte. */
  public static final byte TYPE = 'H';

  @Override
  public void encode(ByteBuf out) {
    out.writeByte(TYPE);
    out.writeInt(4);
  }
}
