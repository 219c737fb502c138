package dev.warden.proxy.postgres;

import dev.warden.core.masking.ColumnMask;
import dev.warden.core.masking.ResultMasking;
import dev.warden.core.masking.ValueType;
import dev.warden.protocol.postgres.DataRow;
import dev.warden.protocol.postgres.ProtocolException;
import dev.warden.protocol.postgres.RowDescription;
import io.netty.buffer.ByteBuf;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.function.Supplier;

/**
 * What to mask in the rows of one result, decided once from its RowDescription: for each column the
 * mask its source column calls for (by table OID and attribute number), the mask of a computed
 * column fed by sensitive data, or, for a computed column of unknown origin, a content scan of each
 * value (the backstop). Rows are then rewritten column by column; a result with nothing to mask
 * gets no plan at all, and its rows are forwarded unread.
 *
 * <p>Values are decoded as the client receives them: text format in the session's client encoding,
 * binary format by type. A masked value is re-encoded as a valid value of the column's type, or
 * sent as NULL when no masked form of it is valid (a masked timestamp, an array in binary, ...).
 * Confined to the session's event loop.
 */
final class ResultPlan implements MaskedValues {
  // Built-in type OIDs (pg_type.h), fixed across PostgreSQL versions.
  private static final int BYTEA = 17;
  private static final int CHAR = 18;
  private static final int NAME = 19;
  private static final int INT8 = 20;
  private static final int INT2 = 21;
  private static final int INT4 = 23;
  private static final int TEXT = 25;
  private static final int OID = 26;
  private static final int JSON = 114;
  private static final int FLOAT4 = 700;
  private static final int FLOAT8 = 701;
  private static final int UNKNOWN = 705;
  private static final int BPCHAR = 1042;
  private static final int VARCHAR = 1043;
  private static final int DATE = 1082;
  private static final int NUMERIC = 1700;
  private static final int JSONB = 3802;

  /**
   * OIDs from here on are the database's own objects (types such as citext, enums and domains;
   * tables, views); below are PostgreSQL's, made by initdb ({@code FirstNormalObjectId}).
   */
  private static final int FIRST_USER_OID = 16384;

  private static final long FIRST_NORMAL_OBJECT_ID = FIRST_USER_OID;

  /** {@code pg_largeobject}: a catalogue that holds user data. */
  private static final long PG_LARGEOBJECT = 2613;

  private static final LocalDate POSTGRES_EPOCH = LocalDate.of(2000, 1, 1);

  private final RowDescription.Field[] fields;
  private final ColumnMask[] masks;
  private final boolean[] scanned;
  private final ValueType[] types;
  private final long[] counts;

  /** Per column: a text-type value in text format, read and written in the client encoding. */
  private final boolean[] plainText;

  private final ResultMasking masking;
  private final Charset charset;

  /**
   * Whether an all-ASCII value in {@link #charset} is those characters (so masks may work on the
   * bytes): not so in every encoding a client may choose (in Shift JIS, bytes below 0x80 may end a
   * two-byte character).
   */
  private final boolean asciiCompatible;

  private ResultPlan(
      RowDescription.Field[] fields,
      ColumnMask[] masks,
      boolean[] scanned,
      ResultMasking masking,
      Charset charset) {
    this.fields = fields;
    this.masks = masks;
    this.scanned = scanned;
    this.masking = masking;
    this.charset = charset;
    this.asciiCompatible =
        charset.equals(StandardCharsets.UTF_8)
            || charset.equals(StandardCharsets.US_ASCII)
            || charset.equals(StandardCharsets.ISO_8859_1);
    this.types = new ValueType[fields.length];
    for (int i = 0; i < fields.length; i++) {
      RowDescription.Field f = fields[i];
      // A whole row (a table's OID with attribute number 0) is a composite: no masked text is one.
      types[i] =
          f.tableOid() != 0 && f.columnNumber() == 0
              ? ValueType.OTHER
              : valueType(f.typeOid(), f.format());
    }
    this.counts = new long[fields.length];
    this.replacedScratch = new byte[fields.length][];
    this.plainText = new boolean[fields.length];
    for (int i = 0; i < fields.length; i++) {
      plainText[i] = fields[i].format() == 0 && types[i] == ValueType.TEXT;
    }
  }

  /**
   * The plan for a result described by {@code description}, or null when nothing in it is masked or
   * scanned (its rows are then forwarded unread).
   */
  static ResultPlan of(RowDescription description, ResultMasking masking, Charset charset) {
    if (!masking.active()) {
      return null;
    }
    int n = description.fields().size();
    RowDescription.Field[] fields = description.fields().toArray(new RowDescription.Field[0]);
    ColumnMask[] masks = new ColumnMask[n];
    boolean[] scanned = new boolean[n];
    boolean any = false;
    for (int i = 0; i < n; i++) {
      RowDescription.Field f = fields[i];
      long table = Integer.toUnsignedLong(f.tableOid());
      if (table != 0) {
        // PostgreSQL's own catalogues and views (psql's \d, drivers' metadata queries) hold no
        // user data and are not in data maps; large objects are user data.
        masks[i] =
            table < FIRST_NORMAL_OBJECT_ID && table != PG_LARGEOBJECT
                ? null
                : masking.column(table, f.columnNumber());
      } else {
        masks[i] = masking.computed();
        // Unknown origin: a content detector is the backstop, where the value is text to read.
        scanned[i] = masks[i] == null && (f.format() == 0 || textual(f.typeOid()));
      }
      any |= masks[i] != null || scanned[i];
    }
    return any ? new ResultPlan(fields, masks, scanned, masking, charset) : null;
  }

  /**
   * Writes the masked DataRow message (type and length included) for the one whose body is {@code
   * body} to the buffer {@code out} gives, and returns true; or returns false, writing nothing,
   * when the row needs no change (only scanned columns, none recognised, or only NULLs).
   *
   * <p>The row is copied out of the buffer once and parsed as an array: reading a buffer value by
   * value costs an access check each, which showed as the largest cost of masking in profiles.
   */
  boolean rewrite(ByteBuf body, Supplier<ByteBuf> out) {
    int n = body.readableBytes();
    byte[] row = scratch(n);
    body.getBytes(body.readerIndex(), row, 0, n);
    byte[][] replaced = replacements(row, n);
    if (replaced == null) {
      return false;
    }
    int size = encode(row, replaced);
    out.get().writeBytes(encoded, 0, size);
    return true;
  }

  /** Stands for a value that becomes SQL NULL among the replacements. */
  private static final byte[] NULL = new byte[0];

  /** A row's bytes, reused from row to row (a plan lives on one event loop). */
  private byte[] scratch = new byte[512];

  private byte[] scratch(int n) {
    if (scratch.length < n) {
      scratch = new byte[Math.max(n, scratch.length * 2)];
    }
    return scratch;
  }

  /** The last row's replaced values, reused (cleared before each row). */
  private final byte[][] replacedScratch;

  /** The masked row as sent, reused from row to row. */
  private byte[] encoded = new byte[512];

  /** The replaced values of a row by column (null: unchanged), or null when none is. */
  private byte[][] replacements(byte[] row, int end) {
    if (end < 2) {
      throw new ProtocolException("DataRow message is too short");
    }
    int count = ((row[0] & 0xff) << 8) | (row[1] & 0xff);
    if (count != fields.length) {
      throw new ProtocolException(
          "DataRow has "
              + count
              + " columns where the result's RowDescription announced "
              + fields.length);
    }
    byte[][] replaced = null;
    java.util.Arrays.fill(replacedScratch, null);
    int at = 2;
    for (int i = 0; i < count; i++) {
      if (end - at < 4) {
        throw new ProtocolException("DataRow message is truncated");
      }
      int length = intAt(row, at);
      at += 4;
      if (length < -1 || (length > 0 && end - at < length)) {
        throw new ProtocolException("DataRow value length " + length + " is out of range");
      }
      if (length >= 0 && masks[i] != null && plainText[i]) {
        // The common case, a text column in text format: decoded straight from the row.
        if (replaced == null) {
          replaced = replacedScratch;
        }
        byte[] masked;
        if (asciiCompatible && ascii(row, at, length)) {
          masked = maskAscii(masks[i], row, at, length);
        } else {
          String text = mask(masks[i], i, new String(row, at, length, charset));
          masked = text == null ? null : text.getBytes(charset);
        }
        replaced[i] = masked == null ? NULL : masked;
        counts[i]++;
      } else if (length >= 0 && (masks[i] != null || scanned[i])) {
        byte[] value = java.util.Arrays.copyOfRange(row, at, at + length);
        byte[] out = masks[i] != null ? masked(i, value) : scannedValue(i, value);
        if (out != value) {
          if (replaced == null) {
            replaced = replacedScratch;
          }
          replaced[i] = out == null ? NULL : out;
          counts[i]++;
        }
      }
      at += Math.max(length, 0);
    }
    if (at != end) {
      throw new ProtocolException("DataRow message has bytes after its last value");
    }
    return replaced;
  }

  /**
   * Writes the whole DataRow message for {@code row} with the {@code replaced} values to {@link
   * #encoded}, and returns its size.
   */
  private int encode(byte[] row, byte[][] replaced) {
    int size = 1 + 4 + 2;
    int at = 2;
    for (int i = 0; i < fields.length; i++) {
      int length = intAt(row, at);
      at += 4 + Math.max(length, 0);
      byte[] value = replaced[i];
      size += 4 + (value == NULL ? 0 : value != null ? value.length : Math.max(length, 0));
    }
    if (encoded.length < size) {
      encoded = new byte[Math.max(size, encoded.length * 2)];
    }
    byte[] out = encoded;
    out[0] = DataRow.TYPE;
    putInt(out, 1, size - 1);
    out[5] = row[0];
    out[6] = row[1];
    int to = 7;
    at = 2;
    for (int i = 0; i < fields.length; i++) {
      int length = intAt(row, at);
      at += 4;
      byte[] value = replaced[i];
      if (value == NULL) {
        putInt(out, to, -1);
        to += 4;
      } else if (value != null) {
        putInt(out, to, value.length);
        System.arraycopy(value, 0, out, to + 4, value.length);
        to += 4 + value.length;
      } else {
        putInt(out, to, length);
        to += 4;
        if (length > 0) {
          System.arraycopy(row, at, out, to, length);
          to += length;
        }
      }
      at += Math.max(length, 0);
    }
    return size;
  }

  private static int intAt(byte[] b, int at) {
    return ((b[at] & 0xff) << 24)
        | ((b[at + 1] & 0xff) << 16)
        | ((b[at + 2] & 0xff) << 8)
        | (b[at + 3] & 0xff);
  }

  private static void putInt(byte[] b, int at, int v) {
    b[at] = (byte) (v >>> 24);
    b[at + 1] = (byte) (v >>> 16);
    b[at + 2] = (byte) (v >>> 8);
    b[at + 3] = (byte) v;
  }

  /** The masked form of a value of column {@code i}: its bytes, or null for SQL NULL. */
  private byte[] masked(int i, byte[] value) {
    String text = decode(i, value);
    if (text == null) {
      return null; // a binary value Warden cannot read as text: NULL is the only safe form
    }
    String out = mask(masks[i], i, text);
    return out == null ? null : encode(i, out);
  }

  /** Whether {@code row[at, at + length)} is all ASCII. */
  private static boolean ascii(byte[] row, int at, int length) {
    for (int i = at, end = at + length; i < end; i++) {
      if (row[i] < 0) {
        return false;
      }
    }
    return true;
  }

  /** An ASCII text value masked on its bytes; null for NULL. */
  private byte[] maskAscii(ColumnMask mask, byte[] row, int at, int length) {
    try {
      return mask.maskAscii(row, at, length, charset);
    } catch (RuntimeException e) {
      return null; // masks never throw; if one did, nothing of the value may pass
    }
  }

  /** {@code text} masked by {@code mask} as a value of column {@code i}'s type; null for NULL. */
  private String mask(ColumnMask mask, int i, String text) {
    try {
      return mask.mask(text, types[i]);
    } catch (RuntimeException e) {
      return null; // masks never throw; if one did, nothing of the value may pass
    }
  }

  /**
   * A value of unknown origin: masked whole, as a valid value of its type, when a content detector
   * recognises all of it; else with every word a detector recognises masked.
   */
  private byte[] scannedValue(int i, byte[] value) {
    String text = decode(i, value);
    if (text == null) {
      return value;
    }
    ColumnMask whole = masking.backstop(text);
    if (whole != null) {
      String out = mask(whole, i, text);
      return out == null ? null : encode(i, out);
    }
    String out = masking.scrubText(text);
    if (out.equals(text)) {
      return value;
    }
    return types[i] == ValueType.TEXT || types[i] == ValueType.JSON || types[i] == ValueType.BYTES
        ? encode(i, out)
        : fields[i].format() == 0 ? out.getBytes(charset) : null;
  }

  /** A value as text, or null when it is binary of a type Warden does not read. */
  private String decode(int i, byte[] value) {
    RowDescription.Field f = fields[i];
    int oid = f.typeOid();
    if (f.format() == 0) {
      if (oid == BYTEA) {
        return new String(byteaText(value), StandardCharsets.UTF_8);
      }
      return new String(value, charset);
    }
    try {
      return switch (oid) {
        case TEXT, VARCHAR, BPCHAR, NAME, CHAR, UNKNOWN, JSON -> new String(value, charset);
        case JSONB ->
            value.length > 0 && value[0] == 1
                ? new String(value, 1, value.length - 1, charset)
                : null;
        case BYTEA -> new String(value, StandardCharsets.UTF_8);
        case INT2 -> value.length == 2 ? Short.toString(shortOf(value)) : null;
        case INT4 -> value.length == 4 ? Integer.toString(intOf(value)) : null;
        case INT8 -> value.length == 8 ? Long.toString(longOf(value)) : null;
        case FLOAT4 ->
            value.length == 4 ? Float.toString(Float.intBitsToFloat(intOf(value))) : null;
        case FLOAT8 ->
            value.length == 8 ? Double.toString(Double.longBitsToDouble(longOf(value))) : null;
        case DATE -> value.length == 4 ? POSTGRES_EPOCH.plusDays(intOf(value)).toString() : null;
        default -> null;
      };
    } catch (RuntimeException e) {
      return null; // infinity dates and the like: no masked form, so NULL
    }
  }

  /** {@code text} as a value of column {@code i} in its format, or null when it is not valid. */
  private byte[] encode(int i, String text) {
    RowDescription.Field f = fields[i];
    int oid = f.typeOid();
    if (f.format() == 0) {
      if (oid == BYTEA) {
        return ("\\x" + HexFormat.of().formatHex(text.getBytes(StandardCharsets.UTF_8)))
            .getBytes(charset);
      }
      return text.getBytes(charset);
    }
    try {
      return switch (oid) {
        case TEXT, VARCHAR, BPCHAR, NAME, CHAR, UNKNOWN, JSON -> text.getBytes(charset);
        case JSONB -> {
          byte[] t = text.getBytes(charset);
          byte[] out = new byte[t.length + 1];
          out[0] = 1;
          System.arraycopy(t, 0, out, 1, t.length);
          yield out;
        }
        case BYTEA -> text.getBytes(StandardCharsets.UTF_8);
        case INT2 -> bytes(Short.parseShort(text), 2);
        case INT4 -> bytes(Integer.parseInt(text), 4);
        case INT8 -> bytes(Long.parseLong(text), 8);
        case FLOAT4 -> bytes(Float.floatToIntBits(Float.parseFloat(text)), 4);
        case FLOAT8 -> bytes(Double.doubleToLongBits(Double.parseDouble(text)), 8);
        case DATE -> bytes(ChronoUnit.DAYS.between(POSTGRES_EPOCH, LocalDate.parse(text)), 4);
        default -> null;
      };
    } catch (NumberFormatException | DateTimeParseException e) {
      return null;
    }
  }

  /** The bytes a bytea in text format stands for ({@code \x} hex, or the escape format). */
  static byte[] byteaText(byte[] value) {
    if (value.length >= 2 && value[0] == '\\' && value[1] == 'x') {
      try {
        return HexFormat.of()
            .parseHex(new String(value, 2, value.length - 2, StandardCharsets.US_ASCII));
      } catch (IllegalArgumentException e) {
        return value;
      }
    }
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream(value.length);
    for (int i = 0; i < value.length; i++) {
      if (value[i] == '\\' && i + 1 < value.length && value[i + 1] == '\\') {
        out.write('\\');
        i++;
      } else if (value[i] == '\\' && i + 3 < value.length) {
        out.write(((value[i + 1] - '0') << 6) | ((value[i + 2] - '0') << 3) | (value[i + 3] - '0'));
        i += 3;
      } else {
        out.write(value[i]);
      }
    }
    return out.toByteArray();
  }

  /** What a masked value of a type must still be, for the strategies. */
  static ValueType valueType(int oid, short format) {
    return switch (oid) {
      case TEXT, VARCHAR, BPCHAR, NAME, CHAR, UNKNOWN -> ValueType.TEXT;
      case JSON, JSONB -> ValueType.JSON;
      case BYTEA -> ValueType.BYTES;
      case DATE -> ValueType.DATE;
      case INT2, INT4, INT8, FLOAT4, FLOAT8, OID -> ValueType.NUMBER;
      case NUMERIC -> format == 0 ? ValueType.NUMBER : ValueType.OTHER;
      default ->
          // The database's own types (citext, enums, domains over text) read as text in text
          // format; in binary Warden cannot know their layout.
          oid >= FIRST_USER_OID && format == 0 ? ValueType.TEXT : ValueType.OTHER;
    };
  }

  private static boolean textual(int oid) {
    return switch (oid) {
      case TEXT, VARCHAR, BPCHAR, NAME, CHAR, UNKNOWN, JSON, JSONB -> true;
      default -> false;
    };
  }

  @Override
  public List<String> maskedColumns() {
    List<String> names = new ArrayList<>();
    for (int i = 0; i < fields.length; i++) {
      if (counts[i] > 0) {
        names.add(fields[i].name());
      }
    }
    return names;
  }

  @Override
  public long maskedValues() {
    long n = 0;
    for (long c : counts) {
      n += c;
    }
    return n;
  }

  private static short shortOf(byte[] b) {
    return (short) (((b[0] & 0xff) << 8) | (b[1] & 0xff));
  }

  private static int intOf(byte[] b) {
    return ((b[0] & 0xff) << 24) | ((b[1] & 0xff) << 16) | ((b[2] & 0xff) << 8) | (b[3] & 0xff);
  }

  private static long longOf(byte[] b) {
    long v = 0;
    for (int i = 0; i < 8; i++) {
      v = (v << 8) | (b[i] & 0xff);
    }
    return v;
  }

  private static byte[] bytes(long v, int n) {
    byte[] out = new byte[n];
    for (int i = n - 1; i >= 0; i--) {
      out[i] = (byte) v;
      v >>= 8;
    }
    return out;
  }
}
