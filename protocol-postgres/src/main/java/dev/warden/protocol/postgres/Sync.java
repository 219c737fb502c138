package dev.warden.protocol.postgres;

import io.netty.buffer.ByteBuf;

/** Sync (F): ends an extended-query batch; the server answers with ReadyForQuery. */
public record Sync() implements FrontendMessage {
  /** The message type byte. */
  public static final byte TYPE = 'S';

  @Override
  public void encode(ByteBuf out) {
    out.writeByte(TYPE);
    out.writeInt(4);
  }
}
