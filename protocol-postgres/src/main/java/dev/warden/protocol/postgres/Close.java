package dev.warden.protocol.postgres;

import io.netty.buffer.ByteBuf;

/**
 * Close (F): closes a prepared statement or portal.
 *
 * @param kind {@code 'S'} for a prepared statement or {@code 'P'} for a portal
 * @param name the statement or portal name; empty for the unnamed one
 */
public record Close(byte kind, String name) implements FrontendMessage {
  /** The message type byte. */
  public static final byte TYPE = 'C';

  /** Checks the kind and the name. */
  public Close {
    StatementOrPortal.check(kind, "Close");
    Values.text(name, "name");
  }

  @Override
  public void encode(ByteBuf out) {
    int lengthIndex = MessageWriter.begin(out, TYPE);
    out.writeByte(kind);
    MessageWriter.writeCString(out, name);
    MessageWriter.end(out, lengthIndex);
  }

  @Override
  public String toString() {
    return "Close[kind=" + (char) kind + ", name=" + name + "]";
  }

  static Close decode(MessageReader body) {
    byte kind = StatementOrPortal.read(body);
    String name = body.readCString("name");
    body.end();
    return new Close(kind, name);
  }
}
