package dev.warden.protocol.postgres;

import io.netty.buffer.ByteBuf;

/** ParseComplete (B): the Parse succeeded. */
public record ParseComplete() implements BackendMessage {
  /** The message type byte. */
  public static final byte TYPE = '1';

  @Override
  public void encode(ByteBuf out) {
    out.writeByte(TYPE);
    out.writeInt(4);
  }
}
