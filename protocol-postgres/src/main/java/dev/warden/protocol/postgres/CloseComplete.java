package dev.warden.protocol.postgres;

import io.netty.buffer.ByteBuf;

/** CloseComplete (B): the Close succeeded. */
public record CloseComplete() implements BackendMessage {
  /** The message type byte. */
  public static final byte TYPE = '3';

  @Override
  public void encode(ByteBuf out) {
    out.writeByte(TYPE);
    out.writeInt(4);
  }
}
