package dev.warden.protocol.postgres;

import io.netty.buffer.ByteBuf;

/** CopyDone (F &amp; B): the sender has no more CopyData to send. */
public record CopyDone() implements FrontendMessage, BackendMessage {
  /** The message type byte. */
  public static final byte TYPE = 'c';

  @Override
  public void encode(ByteBuf out) {
    out.writeByte(TYPE);
    out.writeInt(4);
  }
}
