package dev.warden.protocol.postgres;

import io.netty.buffer.ByteBuf;
import java.util.ArrayList;
import java.util.List;

/**
 * RowDescription (B): the columns of the rows that follow. Masking binds to a column by {@link
 * Field#tableOid()} and {@link Field#columnNumber()}, never by name (a name is whatever the query's
 * alias says).
 *
 * @param fields one per column, at most 65 535
 */
public record RowDescription(List<Field> fields) implements BackendMessage {
  /** The message type byte. */
  public static final byte TYPE = 'T';

  /** Name, six fixed fields and at least the name's NUL: the fewest bytes one field can take. */
  private static final int MIN_FIELD_BYTES = 1 + 4 + 2 + 4 + 2 + 4 + 2;

  /** Copies the fields. */
  public RowDescription {
    fields = Values.list(fields, "fields");
  }

  /**
   * One result column.
   *
   * @param name the column name or alias
   * @param tableOid the source table's OID, or 0 if the column is not a plain table column
   * @param columnNumber the source column's attribute number, or 0
   * @param typeOid the data type's OID
   * @param typeSize the type's size ({@code pg_type.typlen}); negative for variable width
   * @param typeModifier the type modifier ({@code pg_attribute.atttypmod})
   * @param format 0 text, 1 binary (0 in a RowDescription answering Describe of a statement)
   */
  public record Field(
      String name,
      int tableOid,
      short columnNumber,
      int typeOid,
      short typeSize,
      int typeModifier,
      short format) {
    /** Checks the name. */
    public Field {
      Values.text(name, "name");
    }
  }

  @Override
  public void encode(ByteBuf out) {
    int lengthIndex = MessageWriter.begin(out, TYPE);
    out.writeShort(fields.size());
    for (Field field : fields) {
      MessageWriter.writeCString(out, field.name());
      out.writeInt(field.tableOid());
      out.writeShort(field.columnNumber());
      out.writeInt(field.typeOid());
      out.writeShort(field.typeSize());
      out.writeInt(field.typeModifier());
      out.writeShort(field.format());
    }
    MessageWriter.end(out, lengthIndex);
  }

  static RowDescription decode(MessageReader body) {
    int count = body.readCount("field", MIN_FIELD_BYTES);
    List<Field> fields = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      fields.add(
          new Field(
              body.readCString("field name"),
              body.readInt32(),
              body.readInt16(),
              body.readInt32(),
              body.readInt16(),
              body.readInt32(),
              body.readInt16()));
    }
    body.end();
    return new RowDescription(fields);
  }
}
