package dev.warden.protocol.postgres;

import io.netty.buffer.ByteBuf;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Bind (F): binds parameter values to a prepared statement, creating a portal.
 *
 * @param portalName the portal to create; empty for the unnamed portal
 * @param statementName the prepared statement; empty for the unnamed statement
 * @param parameterFormats none (all text), one (applies to all) or one per parameter; 0 = text, 1 =
 *     binary
 * @param parameterValues parameter values; a {@code null} element is SQL NULL. Never printed.
 * @param resultFormats none (all text), one (applies to all) or one per result column
 */
public record Bind(
    String portalName,
    String statementName,
    List<Short> parameterFormats,
    List<byte[]> parameterValues,
    List<Short> resultFormats)
    implements FrontendMessage {
  /** The message type byte. */
  public static final byte TYPE = 'B';

  /** Checks the names and takes deep copies of the lists. */
  public Bind {
    Values.text(portalName, "portalName");
    Values.text(statementName, "statementName");
    parameterFormats = Values.list(parameterFormats, "parameterFormats");
    parameterValues = Values.nullableBytesList(parameterValues, "parameterValues");
    resultFormats = Values.list(resultFormats, "resultFormats");
  }

  /** A deep copy of the values; {@code null} elements are SQL NULL. */
  @Override
  public List<byte[]> parameterValues() {
    return Values.nullableBytesList(parameterValues, "parameterValues");
  }

  /**
   * The format code of parameter {@code index}, applying the rule of the Bind message: no codes
   * means text, one code applies to every parameter, otherwise one code per parameter.
   *
   * @throws ProtocolException if the number of format codes matches none of these cases, which the
   *     server also rejects
   */
  public short parameterFormat(int index) {
    Objects.checkIndex(index, parameterValues.size());
    return switch (parameterFormats.size()) {
      case 0 -> 0;
      case 1 -> parameterFormats.getFirst();
      default -> {
        if (parameterFormats.size() != parameterValues.size()) {
          throw new ProtocolException(
              "bind message has "
                  + parameterFormats.size()
                  + " parameter formats but "
                  + parameterValues.size()
                  + " parameters");
        }
        yield parameterFormats.get(index);
      }
    };
  }

  @Override
  public void encode(ByteBuf out) {
    int lengthIndex = MessageWriter.begin(out, TYPE);
    MessageWriter.writeCString(out, portalName);
    MessageWriter.writeCString(out, statementName);
    out.writeShort(parameterFormats.size());
    for (short format : parameterFormats) {
      out.writeShort(format);
    }
    out.writeShort(parameterValues.size());
    for (byte[] value : parameterValues) {
      MessageWriter.writeNullableValue(out, value);
    }
    out.writeShort(resultFormats.size());
    for (short format : resultFormats) {
      out.writeShort(format);
    }
    MessageWriter.end(out, lengthIndex);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Bind other
        && portalName.equals(other.portalName)
        && statementName.equals(other.statementName)
        && parameterFormats.equals(other.parameterFormats)
        && Values.equalBytesLists(parameterValues, other.parameterValues)
        && resultFormats.equals(other.resultFormats);
  }

  @Override
  public int hashCode() {
    return Objects.hash(
        portalName,
        statementName,
        parameterFormats,
        Values.hashBytesList(parameterValues),
        resultFormats);
  }

  @Override
  public String toString() {
    return "Bind[portalName="
        + portalName
        + ", statementName="
        + statementName
        + ", parameterFormats="
        + parameterFormats
        + ", parameterValues="
        + Values.describeValues(parameterValues)
        + ", resultFormats="
        + resultFormats
        + "]";
  }

  static Bind decode(MessageReader body) {
    String portal = body.readCString("portal name");
    String statement = body.readCString("statement name");
    List<Short> parameterFormats = readFormats(body, "parameter format");
    int count = body.readCount("parameter value", 4);
    List<byte[]> values = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      values.add(body.readNullableValue("parameter value"));
    }
    List<Short> resultFormats = readFormats(body, "result format");
    body.end();
    return new Bind(portal, statement, parameterFormats, values, resultFormats);
  }

  static List<Short> readFormats(MessageReader body, String what) {
    int count = body.readCount(what, 2);
    List<Short> formats = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      formats.add(body.readInt16());
    }
    return formats;
  }
}
