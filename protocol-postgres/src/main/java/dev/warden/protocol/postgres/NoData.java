package dev.warden.protocol.postgres;

import io.netty.buffer.ByteBuf;

/** NoData (B): the described statement or portal returns no rows. */
public record NoData() implements BackendMessage {
  /** The message type byte. */
  public static final byte TYPE = 'n';

  @Override
  public void encode(ByteBuf out) {
    out.writeByte(TYPE);
    out.writeInt(4);
  }
}
