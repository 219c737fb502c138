package dev.warden.protocol.postgres;

import io.netty.buffer.ByteBuf;
import java.util.ArrayList;
import java.util.List;

/**
 * Parse (F): prepares a statement in the extended query protocol.
 *
 * @param statementName the prepared statement's name; empty for the unnamed statement
 * @param sql the statement text; {@link #toString()} shows only its length
 * @param parameterTypeOids the declared parameter types (0 = unspecified), at most 65 535
 */
public record Parse(String statementName, String sql, List<Integer> parameterTypeOids)
    implements FrontendMessage {
  /** The message type byte. */
  public static final byte TYPE = 'P';

  /** Checks the strings and copies the type list. */
  public Parse {
    Values.text(statementName, "statementName");
    Values.text(sql, "sql");
    parameterTypeOids = Values.list(parameterTypeOids, "parameterTypeOids");
  }

  @Override
  public void encode(ByteBuf out) {
    int lengthIndex = MessageWriter.begin(out, TYPE);
    MessageWriter.writeCString(out, statementName);
    MessageWriter.writeCString(out, sql);
    out.writeShort(parameterTypeOids.size());
    for (int oid : parameterTypeOids) {
      out.writeInt(oid);
    }
    MessageWriter.end(out, lengthIndex);
  }

  @Override
  public String toString() {
    return "Parse[statementName="
        + statementName
        + ", sql="
        + Values.describeText(sql)
        + ", parameterTypeOids="
        + parameterTypeOids
        + "]";
  }

  static Parse decode(MessageReader body) {
    String name = body.readCString("statement name");
    String sql = body.readCString("query string");
    int count = body.readCount("parameter type", 4);
    List<Integer> oids = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      oids.add(body.readInt32());
    }
    body.end();
    return new Parse(name, sql, oids);
  }
}
