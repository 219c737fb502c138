package dev.warden.protocol.postgres;

import io.netty.buffer.ByteBuf;

/**
 * ReadyForQuery (B): the server is ready for a new query cycle.
 *
 * @param transactionStatus {@code 'I'} idle, {@code 'T'} in a transaction block, {@code 'E'} in a
 *     failed transaction block
 */
public record ReadyForQuery(byte transactionStatus) implements BackendMessage {
  /** The message type byte. */
  public static final byte TYPE = 'Z';

  /** Checks the status is {@code 'I'}, {@code 'T'} or {@code 'E'}. */
  public ReadyForQuery {
    if (transactionStatus != 'I' && transactionStatus != 'T' && transactionStatus != 'E') {
      throw new IllegalArgumentException("transaction status must be 'I', 'T' or 'E'");
    }
  }

  @Override
  public void encode(ByteBuf out) {
    out.writeByte(TYPE);
    out.writeInt(5);
    out.writeByte(transactionStatus);
  }

  @Override
  public String toString() {
    return "ReadyForQuery[transactionStatus=" + (char) transactionStatus + "]";
  }

  static ReadyForQuery decode(MessageReader body) {
    byte status = body.readByte();
    body.end();
    if (status != 'I' && status != 'T' && status != 'E') {
      throw body.malformed("transaction status " + Values.describeType(status));
    }
    return new ReadyForQuery(status);
  }
}
