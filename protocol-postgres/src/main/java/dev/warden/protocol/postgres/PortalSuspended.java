package dev.warden.protocol.postgres;

import io.netty.buffer.ByteBuf;

/** PortalSuspended (B): Execute stopped at its row limit; the portal can be resumed. */
public record PortalSuspended() implements BackendMessage {
  /** The message type byte. */
  public static final byte TYPE = 's';

  @Override
  public void encode(ByteBuf out) {
    out.writeByte(TYPE);
    out.writeInt(4);
  }
}
