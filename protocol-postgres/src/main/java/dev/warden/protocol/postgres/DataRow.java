package dev.warden.protocol.postgres;

import io.netty.buffer.ByteBuf;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * DataRow (B): one row of a result. A proxy forwards rows it does not mask as the original bytes;
 * decoding is for the rows it must rewrite.
 *
 * @param values the column values in RowDescription order; a {@code null} element is SQL NULL.
 *     Never printed: they are result data.
 */
public record DataRow(List<byte[]> values) implements BackendMessage {
  /** The message type byte. */
  public static final byte TYPE = 'D';

  /** Takes a deep copy of the values. */
  public DataRow {
    values = Values.nullableBytesList(values, "values");
  }

  /** A deep copy of the values; {@code null} elements are SQL NULL. */
  @Override
  public List<byte[]> values() {
    return Values.nullableBytesList(values, "values");
  }

  /** The number of columns. */
  public int columnCount() {
    return values.size();
  }

  /** A copy of the value of column {@code index}, or {@code null} for SQL NULL. */
  public byte[] value(int index) {
    return Values.nullableBytes(values.get(index));
  }

  @Override
  public void encode(ByteBuf out) {
    int lengthIndex = MessageWriter.begin(out, TYPE);
    out.writeShort(values.size());
    for (byte[] value : values) {
      MessageWriter.writeNullableValue(out, value);
    }
    MessageWriter.end(out, lengthIndex);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof DataRow other && Values.equalBytesLists(values, other.values);
  }

  @Override
  public int hashCode() {
    return Objects.hash(Values.hashBytesList(values));
  }

  @Override
  public String toString() {
    return "DataRow[" + Values.describeValues(values) + "]";
  }

  static DataRow decode(MessageReader body) {
    int count = body.readCount("column", 4);
    List<byte[]> values = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      values.add(body.readNullableValue("column value"));
    }
    body.end();
    return new DataRow(values);
  }
}
