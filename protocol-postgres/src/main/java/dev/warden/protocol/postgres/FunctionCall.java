package dev.warden.protocol.postgres;

import io.netty.buffer.ByteBuf;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * FunctionCall (F): calls a function by OID outside of SQL (the fast-path interface). The proxy
 * must govern it like a statement: it can invoke any function the role may execute.
 *
 * @param functionOid the function to call
 * @param argumentFormats none (all text), one (applies to all) or one per argument
 * @param arguments argument values; a {@code null} element is SQL NULL. Never printed.
 * @param resultFormat the format of the result: 0 text, 1 binary
 */
public record FunctionCall(
    int functionOid, List<Short> argumentFormats, List<byte[]> arguments, short resultFormat)
    implements FrontendMessage {
  /** The message type byte. */
  public static final byte TYPE = 'F';

  /** Takes deep copies of the lists. */
  public FunctionCall {
    argumentFormats = Values.list(argumentFormats, "argumentFormats");
    arguments = Values.nullableBytesList(arguments, "arguments");
  }

  /** A deep copy of the arguments; {@code null} elements are SQL NULL. */
  @Override
  public List<byte[]> arguments() {
    return Values.nullableBytesList(arguments, "arguments");
  }

  @Override
  public void encode(ByteBuf out) {
    int lengthIndex = MessageWriter.begin(out, TYPE);
    out.writeInt(functionOid);
    out.writeShort(argumentFormats.size());
    for (short format : argumentFormats) {
      out.writeShort(format);
    }
    out.writeShort(arguments.size());
    for (byte[] argument : arguments) {
      MessageWriter.writeNullableValue(out, argument);
    }
    out.writeShort(resultFormat);
    MessageWriter.end(out, lengthIndex);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof FunctionCall other
        && functionOid == other.functionOid
        && argumentFormats.equals(other.argumentFormats)
        && Values.equalBytesLists(arguments, other.arguments)
        && resultFormat == other.resultFormat;
  }

  @Override
  public int hashCode() {
    return Objects.hash(
        functionOid, argumentFormats, Values.hashBytesList(arguments), resultFormat);
  }

  @Override
  public String toString() {
    return "FunctionCall[functionOid="
        + functionOid
        + ", argumentFormats="
        + argumentFormats
        + ", arguments="
        + Values.describeValues(arguments)
        + ", resultFormat="
        + resultFormat
        + "]";
  }

  static FunctionCall decode(MessageReader body) {
    int oid = body.readInt32();
    List<Short> formats = Bind.readFormats(body, "argument format");
    int count = body.readCount("argument", 4);
    List<byte[]> arguments = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      arguments.add(body.readNullableValue("argument"));
    }
    short resultFormat = body.readInt16();
    body.end();
    return new FunctionCall(oid, formats, arguments, resultFormat);
  }
}
