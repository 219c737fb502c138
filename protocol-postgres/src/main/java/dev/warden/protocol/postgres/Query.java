package dev.warden.protocol.postgres;

import io.netty.buffer.ByteBuf;

/**
 * Query (F): a simple-protocol query string, possibly several statements separated by semicolons.
 *
 * @param sql the query text; {@link #toString()} shows only its length, as SQL can embed
 *     credentials ({@code ALTER ROLE ... PASSWORD})
 */
public record Query(String sql) implements FrontendMessage {
  /** The message type byte. */
  public static final byte TYPE = 'Q';

  /** Checks that {@code sql} can be written as a NUL-terminated string. */
  public Query {
    Values.text(sql, "sql");
  }

  @Override
  public void encode(ByteBuf out) {
    int lengthIndex = MessageWriter.begin(out, TYPE);
    MessageWriter.writeCString(out, sql);
    MessageWriter.end(out, lengthIndex);
  }

  @Override
  public String toString() {
    return "Query[sql=" + Values.describeText(sql) + "]";
  }

  static Query decode(MessageReader body) {
    String sql = body.readCString("query string");
    body.end();
    return new Query(sql);
  }
}
