package dev.warden.protocol.postgres;

import io.netty.buffer.ByteBuf;
import java.util.Arrays;

/**
 * CopyData (F &amp; B): a chunk of a COPY data stream. Chunk boundaries need not match rows.
 *
 * @param data the chunk; {@link #toString()} shows only its size
 */
public record CopyData(byte[] data) implements FrontendMessage, BackendMessage {
  /** The message type byte. */
  public static final byte TYPE = 'd';

  /** Copies the chunk. */
  public CopyData {
    data = Values.bytes(data, "data");
  }

  /** A copy of the chunk. */
  @Override
  public byte[] data() {
    return data.clone();
  }

  @Override
  public void encode(ByteBuf out) {
    out.writeByte(TYPE);
    out.writeInt(4 + data.length);
    out.writeBytes(data);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof CopyData other && Arrays.equals(data, other.data);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(data);
  }

  @Override
  public String toString() {
    return "CopyData[data=" + Values.describeBytes(data) + "]";
  }

  static CopyData decode(MessageReader body) {
    return new CopyData(body.readRest());
  }
}
