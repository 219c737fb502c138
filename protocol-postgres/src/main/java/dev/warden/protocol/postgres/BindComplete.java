package dev.warden.protocol.postgres;

import io.netty.buffer.ByteBuf;

/** BindComplete (B): the Bind succeeded. */
public record BindComplete() implements BackendMessage {
  /** The message type byte. */
  public static final byte TYPE = '2';

  @Override
  public void encode(ByteBuf out) {
    out.writeByte(TYPE);
    out.writeInt(4);
  }
}
