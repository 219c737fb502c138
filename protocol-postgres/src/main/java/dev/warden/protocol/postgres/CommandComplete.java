package dev.warden.protocol.postgres;

import io.netty.buffer.ByteBuf;

/**
 * CommandComplete (B): a command finished.
 *
 * @param tag the command tag, e.g. {@code SELECT 3}, {@code INSERT 0 1}, {@code UPDATE 7}
 */
public record CommandComplete(String tag) implements BackendMessage {
  /** The message type byte. */
  public static final byte TYPE = 'C';

  /** Checks the tag. */
  public CommandComplete {
    Values.text(tag, "tag");
  }

  @Override
  public void encode(ByteBuf out) {
    int lengthIndex = MessageWriter.begin(out, TYPE);
    MessageWriter.writeCString(out, tag);
    MessageWriter.end(out, lengthIndex);
  }

  static CommandComplete decode(MessageReader body) {
    String tag = body.readCString("command tag");
    body.end();
    return new CommandComplete(tag);
  }
}
