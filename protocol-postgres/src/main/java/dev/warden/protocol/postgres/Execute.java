package dev.warden.protocol.postgres;

import io.netty.buffer.ByteBuf;

/**
 * Execute (F): runs a portal.
 *
 * @param portalName the portal; empty for the unnamed portal
 * @param maxRows the most rows to return before PortalSuspended; 0 means no limit
 */
public record Execute(String portalName, int maxRows) implements FrontendMessage {
  /** The message type byte. */
  public static final byte TYPE = 'E';

  /** Checks the portal name. */
  public Execute {
    Values.text(portalName, "portalName");
  }

  @Override
  public void encode(ByteBuf out) {
    int lengthIndex = MessageWriter.begin(out, TYPE);
    MessageWriter.writeCString(out, portalName);
    out.writeInt(maxRows);
    MessageWriter.end(out, lengthIndex);
  }

  static Execute decode(MessageReader body) {
    String portal = body.readCString("portal name");
    int maxRows = body.readInt32();
    body.end();
    return new Execute(portal, maxRows);
  }
}
