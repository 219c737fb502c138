package dev.warden.protocol.postgres;

import io.netty.buffer.ByteBuf;

/**
 * CopyFail (F): the client aborts a COPY FROM STDIN.
 *
 * @param message the reason, reported by the server in its ErrorResponse
 */
public record CopyFail(String message) implements FrontendMessage {
  /** The message type byte. */
  public static final byte TYPE = 'f';

  /** Checks the message. */
  public CopyFail {
    Values.text(message, "message");
  }

  @Override
  public void encode(ByteBuf out) {
    int lengthIndex = MessageWriter.begin(out, TYPE);
    MessageWriter.writeCString(out, message);
    MessageWriter.end(out, lengthIndex);
  }

  @Override
  public String toString() {
    return "CopyFail[message=" + Values.describeText(message) + "]";
  }

  static CopyFail decode(MessageReader body) {
    String message = body.readCString("error message");
    body.end();
    return new CopyFail(message);
  }
}
