package dev.warden.protocol.postgres;

import io.netty.buffer.ByteBuf;

/** EmptyQueryResponse (B): the query string was empty; stands in for CommandComplete. */
public record EmptyQueryResponse() implements BackendMessage {
  /** The message type byte. */
  public static final byte TYPE = 'I';

  @Override
  public void encode(ByteBuf out) {
    out.writeByte(TYPE);
    out.writeInt(4);
  }
}
