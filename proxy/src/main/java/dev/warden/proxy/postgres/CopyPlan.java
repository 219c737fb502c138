package dev.warden.proxy.postgres;

import dev.warden.core.masking.ColumnMask;
import dev.warden.core.masking.ResultMasking;
import dev.warden.core.masking.ValueType;
import dev.warden.core.statement.CopyOut;
import dev.warden.core.statement.LexicalSettings;
import dev.warden.protocol.postgres.CopyData;
import dev.warden.protocol.postgres.CopyOutResponse;
import dev.warden.protocol.postgres.ProtocolException;
import io.netty.buffer.ByteBuf;
import java.io.ByteArrayOutputStream;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.function.Supplier;

/**
 * What to mask in the rows of one {@code COPY ... TO STDOUT} stream, decided at its
 * CopyOutResponse. COPY's rows do not say where a value comes from, so values are masked by
 * position: the statement says which relation and columns are copied (or that a query is, whose
 * columns then all get the computed mask), and the data map which of them are sensitive ({@link
 * ResultMasking#exportColumns}).
 *
 * <p>PostgreSQL sends each row of a text or csv COPY in a CopyData message of its own (and a header
 * row in one before them); a binary COPY's rows likewise, the file header before the first row in
 * its message and the trailer in its own. Each message is parsed whole in the stream's format, the
 * masked values replaced, and the row written again: in text format escaped as COPY escapes, in csv
 * quoted, in binary as the text of a character column and NULL for a value of any other type. A
 * message that is not whole rows ends the session (a {@link ProtocolException}): Warden never
 * forwards what it could not read.
 *
 * <p>Confined to the session's event loop.
 */
final class CopyPlan implements MaskedValues {
  /** PGCOPY\n\377\r\n\0: the start of every binary COPY stream. */
  private static final byte[] SIGNATURE = {
    'P', 'G', 'C', 'O', 'P', 'Y', '\n', (byte) 0xff, '\r', '\n', 0
  };

  private final CopyOut.Format format;
  private final List<ResultMasking.ExportColumn> columns;
  private final ColumnMask[] masks;
  private final long[] counts;
  private final Charset charset;
  private final byte delimiter;
  private final byte quote;
  private final byte escape;
  private final byte[] nullBytes;
  private boolean headerPending;
  private boolean binaryHeaderPending;
  private boolean trailerSeen;

  private CopyPlan(
      CopyOut copy, List<ResultMasking.ExportColumn> columns, Charset charset, boolean binary) {
    this.format = binary ? CopyOut.Format.BINARY : copy.format();
    this.columns = columns;
    this.masks = new ColumnMask[columns.size()];
    for (int i = 0; i < masks.length; i++) {
      masks[i] = columns.get(i).mask();
    }
    this.counts = new long[masks.length];
    this.charset = charset;
    this.delimiter = (byte) copy.delimiter().charAt(0);
    this.quote = (byte) copy.quote().charAt(0);
    this.escape = (byte) copy.escape().charAt(0);
    this.nullBytes = copy.nullString().getBytes(charset);
    this.headerPending = copy.header() && format != CopyOut.Format.BINARY;
    this.binaryHeaderPending = format == CopyOut.Format.BINARY;
  }

  /**
   * The plan for the stream {@code response} starts, of the statement whose masking is {@code
   * masking}, or null when no column of it is masked (its rows then pass unread).
   *
   * @param clientEncoding the session's client encoding, in which the stream is written unless the
   *     statement names another
   * @throws ProtocolException when a column is masked but the stream's encoding is one Warden does
   *     not split rows in
   */
  static CopyPlan of(CopyOutResponse response, ResultMasking masking, String clientEncoding) {
    CopyOut copy = masking.export().orElse(null);
    if (copy == null || !masking.active()) {
      return null;
    }
    int count = response.columnFormats().size();
    List<ResultMasking.ExportColumn> columns = masking.exportColumns(count);
    boolean any = false;
    for (ResultMasking.ExportColumn c : columns) {
      any |= c.mask() != null;
    }
    if (!any) {
      return null;
    }
    if (!copy.readable()) {
      // (the decision point refuses such a COPY when it reads masked data; never forward it)
      throw new ProtocolException(
          "Warden cannot mask this COPY's rows (" + copy.unsupported() + ")");
    }
    String encoding = copy.encoding().orElse(clientEncoding);
    if (!LexicalSettings.asciiSafe(encoding)) {
      throw new ProtocolException(
          "Warden masks COPY rows in ASCII-safe encodings only, and this COPY writes "
              + encoding
              + "; use client_encoding UTF8 (or SELECT, whose results are masked in any encoding)");
    }
    return new CopyPlan(
        copy, columns, ClientEncodings.charset(encoding), response.overallFormat() == 1);
  }

  /**
   * Writes the masked CopyData message (type and length included) for the one whose body is {@code
   * body} to the buffer {@code out} gives, and returns true; or returns false, writing nothing,
   * when nothing in it is masked (a header row, only NULLs in masked columns).
   */
  boolean rewrite(ByteBuf body, Supplier<ByteBuf> out) {
    byte[] data = new byte[body.readableBytes()];
    body.getBytes(body.readerIndex(), data);
    byte[] rewritten =
        switch (format) {
          case TEXT -> text(data);
          case CSV -> csv(data);
          case BINARY -> binary(data);
        };
    if (rewritten == null) {
      return false;
    }
    ByteBuf buf = out.get();
    buf.writeByte(CopyData.TYPE);
    buf.writeInt(rewritten.length + 4);
    buf.writeBytes(rewritten);
    return true;
  }

  /** A text-format row masked, or null when unchanged. */
  private byte[] text(byte[] row) {
    int end = rowEnd(row);
    if (headerPending) {
      headerPending = false;
      return null;
    }
    List<int[]> fields = new ArrayList<>(masks.length);
    int start = 0;
    for (int i = 0; i < end; i++) {
      if (row[i] == '\\') {
        i++; // an escaped character, the delimiter included
      } else if (row[i] == delimiter) {
        fields.add(new int[] {start, i, 0});
        start = i + 1;
      }
    }
    fields.add(new int[] {start, end, 0});
    return rewrite(row, fields);
  }

  /** A csv row masked, or null when unchanged. */
  private byte[] csv(byte[] row) {
    int end = rowEnd(row);
    if (headerPending) {
      headerPending = false;
      return null;
    }
    List<int[]> fields = new ArrayList<>(masks.length);
    int start = 0;
    int i = 0;
    while (true) {
      boolean quoted = i < end && row[i] == quote;
      if (quoted) {
        i++;
        while (true) {
          if (i >= end) {
            throw new ProtocolException("a csv COPY row ends inside a quoted value");
          }
          if (row[i] == escape
              && escape != quote
              && i + 1 < end
              && (row[i + 1] == quote || row[i + 1] == escape)) {
            i += 2;
          } else if (row[i] == quote) {
            if (escape == quote && i + 1 < end && row[i + 1] == quote) {
              i += 2;
            } else {
              i++;
              break;
            }
          } else {
            i++;
          }
        }
        if (i < end && row[i] != delimiter) {
          throw new ProtocolException("a csv COPY value goes on after its closing quote");
        }
      } else {
        while (i < end && row[i] != delimiter) {
          i++;
        }
      }
      fields.add(new int[] {start, i, quoted ? 1 : 0});
      if (i >= end) {
        break;
      }
      i++; // the delimiter
      start = i;
    }
    return rewrite(row, fields);
  }

  /**
   * A text or csv row with its masked {@code fields} (start, end, and 1 for a quoted csv value)
   * rewritten, or null when none is: NULL stays NULL, a masked value is read as the format writes
   * it and written back escaped (text) or quoted (csv).
   */
  private byte[] rewrite(byte[] row, List<int[]> fields) {
    checkCount(fields.size());
    boolean csv = format == CopyOut.Format.CSV;
    ByteArrayOutputStream out = null;
    int previousEnd = 0;
    for (int c = 0; c < masks.length; c++) {
      int[] f = fields.get(c);
      boolean quoted = f[2] == 1;
      if (masks[c] == null
          || (!quoted && Arrays.equals(row, f[0], f[1], nullBytes, 0, nullBytes.length))) {
        continue;
      }
      if (out == null) {
        out = new ByteArrayOutputStream(row.length + 16);
      }
      out.write(row, previousEnd, f[0] - previousEnd);
      String value =
          !csv
              ? unescapeText(row, f[0], f[1])
              : new String(
                  quoted
                      ? unquoteCsv(row, f[0] + 1, f[1] - 1)
                      : Arrays.copyOfRange(row, f[0], f[1]),
                  charset);
      String masked = mask(c, value);
      if (masked == null) {
        out.writeBytes(nullBytes);
      } else if (csv) {
        quoteCsv(masked.getBytes(charset), out);
      } else {
        escapeText(masked.getBytes(charset), out);
      }
      previousEnd = f[1];
    }
    if (out == null) {
      return null;
    }
    out.write(row, previousEnd, row.length - previousEnd);
    return out.toByteArray();
  }

  /** A binary message (rows, and the stream's header or trailer) masked, or null when unchanged. */
  private byte[] binary(byte[] data) {
    int at = 0;
    if (binaryHeaderPending) {
      if (data.length < SIGNATURE.length + 8
          || !Arrays.equals(data, 0, SIGNATURE.length, SIGNATURE, 0, SIGNATURE.length)) {
        throw new ProtocolException("a binary COPY stream does not start with its signature");
      }
      at = SIGNATURE.length;
      int flags = intAt(data, at);
      int extension = intAt(data, at + 4);
      at += 8;
      if ((flags & (1 << 16)) != 0 || extension < 0 || data.length - at < extension) {
        throw new ProtocolException("a binary COPY header Warden cannot read");
      }
      at += extension;
      binaryHeaderPending = false;
    }
    ByteArrayOutputStream out = null;
    int copied = 0;
    while (at < data.length) {
      if (trailerSeen || data.length - at < 2) {
        throw new ProtocolException("a binary COPY message holds more than whole rows");
      }
      int count = (short) (((data[at] & 0xff) << 8) | (data[at + 1] & 0xff));
      at += 2;
      if (count == -1) {
        trailerSeen = true;
        continue;
      }
      checkCount(count);
      for (int i = 0; i < count; i++) {
        if (data.length - at < 4) {
          throw new ProtocolException("a binary COPY row is truncated");
        }
        int length = intAt(data, at);
        if (length < -1 || data.length - at - 4 < Math.max(length, 0)) {
          throw new ProtocolException("a binary COPY value length " + length + " is out of range");
        }
        if (length >= 0 && masks[i] != null) {
          if (out == null) {
            out = new ByteArrayOutputStream(data.length + 16);
          }
          out.write(data, copied, at - copied);
          byte[] masked = binaryMasked(i, Arrays.copyOfRange(data, at + 4, at + 4 + length));
          out.writeBytes(intBytes(masked == null ? -1 : masked.length));
          if (masked != null) {
            out.writeBytes(masked);
          }
          copied = at + 4 + length;
        }
        at += 4 + Math.max(length, 0);
      }
    }
    if (out == null) {
      return null;
    }
    out.write(data, copied, data.length - copied);
    return out.toByteArray();
  }

  /**
   * A binary value masked: a character column's value is its text in the stream's encoding; a value
   * of any other type, whose binary layout Warden does not write, becomes NULL.
   */
  private byte[] binaryMasked(int i, byte[] value) {
    ValueType type = columns.get(i).type();
    String masked;
    if (type == ValueType.TEXT) {
      masked = mask(i, new String(value, charset));
      return masked == null ? null : masked.getBytes(charset);
    }
    if (type == ValueType.BYTES) {
      masked = mask(i, new String(value, StandardCharsets.UTF_8));
      return masked == null ? null : masked.getBytes(StandardCharsets.UTF_8);
    }
    counts[i]++;
    return null;
  }

  /**
   * {@code text} (a value of column {@code i} as COPY's text and csv formats write it) masked as
   * its type allows; null for NULL.
   */
  private String mask(int i, String text) {
    counts[i]++;
    ValueType type = columns.get(i).type();
    try {
      if (type == ValueType.BYTES) {
        // bytea is written as \x and hex digits (or escaped): mask the bytes it stands for
        String bytes =
            new String(
                ResultPlan.byteaText(text.getBytes(StandardCharsets.US_ASCII)),
                StandardCharsets.UTF_8);
        String masked = masks[i].mask(bytes, type);
        return masked == null
            ? null
            : "\\x" + HexFormat.of().formatHex(masked.getBytes(StandardCharsets.UTF_8));
      }
      return masks[i].mask(text, type);
    } catch (RuntimeException e) {
      return null; // masks never throw; if one did, nothing of the value may pass
    }
  }

  /** Where a text or csv row's values end: before its newline. */
  private static int rowEnd(byte[] row) {
    if (row.length == 0 || row[row.length - 1] != '\n') {
      throw new ProtocolException("a COPY row Warden masks does not end with its message");
    }
    return row.length - 1;
  }

  private void checkCount(int count) {
    if (count != masks.length) {
      throw new ProtocolException(
          "a COPY row has "
              + count
              + " values where its CopyOutResponse announced "
              + masks.length);
    }
  }

  /** A text-format value's bytes with COPY's backslash escapes undone, decoded. */
  private String unescapeText(byte[] row, int from, int to) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(to - from);
    for (int i = from; i < to; i++) {
      byte b = row[i];
      if (b != '\\' || i + 1 >= to) {
        out.write(b);
        continue;
      }
      byte c = row[++i];
      switch (c) {
        case 'b' -> out.write('\b');
        case 'f' -> out.write('\f');
        case 'n' -> out.write('\n');
        case 'r' -> out.write('\r');
        case 't' -> out.write('\t');
        case 'v' -> out.write(0x0b);
        case 'x' -> {
          int value = 0;
          int digits = 0;
          while (digits < 2 && i + 1 < to && Character.digit(row[i + 1], 16) >= 0) {
            value = value * 16 + Character.digit(row[++i], 16);
            digits++;
          }
          out.write(digits == 0 ? 'x' : value);
        }
        default -> {
          if (c >= '0' && c <= '7') {
            int value = c - '0';
            for (int digits = 1;
                digits < 3 && i + 1 < to && row[i + 1] >= '0' && row[i + 1] <= '7';
                digits++) {
              value = value * 8 + (row[++i] - '0');
            }
            out.write(value);
          } else {
            out.write(c);
          }
        }
      }
    }
    return out.toString(charset);
  }

  /** {@code value} written as COPY's text format escapes it. */
  private void escapeText(byte[] value, ByteArrayOutputStream out) {
    for (byte b : value) {
      switch (b) {
        case '\\' -> out.writeBytes(new byte[] {'\\', '\\'});
        case '\b' -> out.writeBytes(new byte[] {'\\', 'b'});
        case '\f' -> out.writeBytes(new byte[] {'\\', 'f'});
        case '\n' -> out.writeBytes(new byte[] {'\\', 'n'});
        case '\r' -> out.writeBytes(new byte[] {'\\', 'r'});
        case '\t' -> out.writeBytes(new byte[] {'\\', 't'});
        case 0x0b -> out.writeBytes(new byte[] {'\\', 'v'});
        default -> {
          if (b == delimiter) {
            out.write('\\');
          }
          out.write(b);
        }
      }
    }
  }

  /** A quoted csv value's bytes without its quotes and escapes. */
  private byte[] unquoteCsv(byte[] row, int from, int to) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(to - from);
    for (int i = from; i < to; i++) {
      if (row[i] == escape && i + 1 < to && (row[i + 1] == quote || row[i + 1] == escape)) {
        i++;
      }
      out.write(row[i]);
    }
    return out.toByteArray();
  }

  /** {@code value} written as a quoted csv value (quoted, so it never reads as NULL). */
  private void quoteCsv(byte[] value, ByteArrayOutputStream out) {
    out.write(quote);
    for (byte b : value) {
      if (b == quote || b == escape) {
        out.write(escape);
      }
      out.write(b);
    }
    out.write(quote);
  }

  private static int intAt(byte[] b, int at) {
    return ((b[at] & 0xff) << 24)
        | ((b[at + 1] & 0xff) << 16)
        | ((b[at + 2] & 0xff) << 8)
        | (b[at + 3] & 0xff);
  }

  private static byte[] intBytes(int v) {
    return new byte[] {(byte) (v >>> 24), (byte) (v >>> 16), (byte) (v >>> 8), (byte) v};
  }

  @Override
  public List<String> maskedColumns() {
    List<String> names = new ArrayList<>();
    for (int i = 0; i < masks.length; i++) {
      if (counts[i] > 0) {
        names.add(columns.get(i).name());
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
}
