package dev.warden.protocol.postgres;

import io.netty.buffer.ByteBuf;

/** Terminate (F): the client is closing the connection. */
public record Terminate() implements FrontendMessage {
  /** The message type byte. */
  public static final byte TYPE = 'X';

  @Override
  public void encode(ByteBuf out) {
    out.writeByte(TYPE);
    out.writeInt(4);
  }
}
