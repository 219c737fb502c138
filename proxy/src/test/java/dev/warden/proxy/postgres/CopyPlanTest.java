package dev.warden.proxy.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warden.core.masking.ColumnMask;
import dev.warden.core.masking.DataKind;
import dev.warden.core.masking.ResultMasking;
import dev.warden.core.masking.ValueType;
import dev.warden.core.statement.CopyOut;
import dev.warden.core.statement.TableRef;
import dev.warden.protocol.postgres.CopyData;
import dev.warden.protocol.postgres.CopyOutResponse;
import dev.warden.protocol.postgres.ProtocolException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * COPY rows as PostgreSQL writes them, masked by position: values are found past escapes, quotes
 * and delimiters inside values, NULL stays NULL, a masked value is written back escaped or quoted
 * so that the client reads exactly it, and anything that is not whole rows is refused.
 */
class CopyPlanTest {
  /** What the test mask writes: characters every format must escape or quote. */
  static final String MASKED = "m\t,\"\\;\n";

  private static final ColumnMask MASK =
      new ColumnMask() {
        @Override
        public Optional<DataKind> kind() {
          return Optional.of(DataKind.EMAIL);
        }

        @Override
        public String strategy() {
          return "redact";
        }

        @Override
        public String mask(String value, ValueType type) {
          return type == ValueType.OTHER ? null : MASKED + value.length();
        }
      };

  /** Masks the given positions of a copied relation. */
  private static ResultMasking masking(CopyOut copy, boolean... masked) {
    return new ResultMasking() {
      @Override
      public boolean active() {
        return true;
      }

      @Override
      public Optional<CopyOut> export() {
        return Optional.of(copy);
      }

      @Override
      public List<ExportColumn> exportColumns(int count) {
        List<ExportColumn> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
          out.add(new ExportColumn("c" + i, masked[i] ? MASK : null, ValueType.TEXT));
        }
        return out;
      }

      @Override
      public ColumnMask column(long relationId, int column) {
        return null;
      }

      @Override
      public ColumnMask computed() {
        return null;
      }

      @Override
      public ColumnMask backstop(String value) {
        return null;
      }

      @Override
      public boolean scrubErrors() {
        return false;
      }

      @Override
      public String scrubText(String text) {
        return text;
      }
    };
  }

  private static CopyOut copy(CopyOut.Format format, String delimiter, String nullString) {
    return copy(format, delimiter, nullString, false, Optional.empty(), "");
  }

  private static CopyOut copy(
      CopyOut.Format format,
      String delimiter,
      String nullString,
      boolean header,
      Optional<String> encoding,
      String unsupported) {
    return new CopyOut(
        Optional.of(TableRef.unqualified("users")),
        List.of(),
        format,
        delimiter,
        nullString,
        "\"",
        "\"",
        header,
        encoding,
        unsupported);
  }

  private static CopyOutResponse response(int columns, boolean binary) {
    return new CopyOutResponse(
        (byte) (binary ? 1 : 0), Collections.nCopies(columns, (short) (binary ? 1 : 0)));
  }

  /** The row as the client receives it: {@code row} itself when the plan leaves it alone. */
  private static byte[] relay(CopyPlan plan, byte[] row) {
    ByteBuf out = Unpooled.buffer();
    ByteBuf body = Unpooled.wrappedBuffer(row);
    if (!plan.rewrite(body, () -> out)) {
      return row;
    }
    assertThat(out.readByte()).isEqualTo(CopyData.TYPE);
    assertThat(out.readInt()).isEqualTo(out.readableBytes() + 4);
    byte[] b = new byte[out.readableBytes()];
    out.readBytes(b);
    return b;
  }

  private static String relay(CopyPlan plan, String row) {
    return new String(relay(plan, row.getBytes(StandardCharsets.UTF_8)), StandardCharsets.UTF_8);
  }

  @Test
  void textValuesAreFoundPastEscapesAndWrittenBackEscaped() {
    CopyPlan plan =
        CopyPlan.of(
            response(3, false),
            masking(copy(CopyOut.Format.TEXT, "\t", "\\N"), false, true, false),
            "UTF8");
    // the masked value held an escaped tab, a backslash and a newline (7 characters)
    assertThat(relay(plan, "1\ta\\tb\\\\c\\nd\tLisbon\n"))
        .isEqualTo("1\tm\\t,\"\\\\;\\n7\tLisbon\n");
    assertThat(relay(plan, "2\t\\N\tPorto\n")).as("NULL stays NULL").isEqualTo("2\t\\N\tPorto\n");
    assertThat(relay(plan, "3\té\\\\\tFaro\n")).isEqualTo("3\tm\\t,\"\\\\;\\n2\tFaro\n");
    assertThat(plan.maskedValues()).isEqualTo(2);
    assertThat(plan.maskedColumns()).containsExactly("c1");
  }

  @Test
  void anotherDelimiterIsEscapedInMaskedValuesAndOctalEscapesAreRead() {
    CopyPlan plan =
        CopyPlan.of(
            response(2, false), masking(copy(CopyOut.Format.TEXT, ";", ""), true, false), "UTF8");
    assertThat(relay(plan, "\\101\\;x;keep\n")).isEqualTo("m\\t,\"\\\\\\;\\n3;keep\n");
    assertThat(relay(plan, ";keep\n")).as("the empty NULL string").isEqualTo(";keep\n");
  }

  @Test
  void csvValuesAreUnquotedAndMaskedValuesQuoted() {
    CopyPlan plan =
        CopyPlan.of(
            response(3, false),
            masking(
                copy(CopyOut.Format.CSV, ",", "", true, Optional.empty(), ""), false, true, true),
            "UTF8");
    assertThat(relay(plan, "id,email,note\n")).as("the header row").isEqualTo("id,email,note\n");
    String q = "\"m\t,\"\"\\;\n";
    assertThat(relay(plan, "1,\"a,\"\"b\"\"\nc\",plain\n"))
        .isEqualTo("1," + q + "7\"," + q + "5\"\n");
    assertThat(relay(plan, "2,,\"\"\n"))
        .as("an unquoted empty value is NULL, a quoted one the empty string")
        .isEqualTo("2,," + q + "0\"\n");
    assertThat(plan.maskedValues()).isEqualTo(3);
  }

  @Test
  void binaryCharacterValuesAreMaskedAsTextAndOthersBecomeNull() {
    ResultMasking masking =
        new ResultMaskingWithTypes(
            masking(copy(CopyOut.Format.BINARY, "\t", "\\N"), true, true, false));
    CopyPlan plan = CopyPlan.of(response(3, true), masking, "UTF8");
    ByteArrayOutputStream first = new ByteArrayOutputStream();
    first.writeBytes(new byte[] {'P', 'G', 'C', 'O', 'P', 'Y', '\n', (byte) 0xff, '\r', '\n', 0});
    first.writeBytes(ints(0, 0));
    first.writeBytes(row("alice@example.com", "1990-01-01", "x"));
    ByteBuffer out = ByteBuffer.wrap(relay(plan, first.toByteArray()));
    out.position(19);
    assertThat(out.getShort()).isEqualTo((short) 3);
    assertThat(value(out)).isEqualTo(MASKED + 17);
    assertThat(value(out)).as("a date in binary has no masked form").isNull();
    assertThat(value(out)).isEqualTo("x");
    assertThat(out.hasRemaining()).isFalse();
    byte[] trailer = {(byte) 0xff, (byte) 0xff};
    assertThat(relay(plan, trailer)).isSameAs(trailer);
    assertThatThrownBy(() -> relay(plan, row("a", "b", "c")))
        .isInstanceOf(ProtocolException.class)
        .hasMessageContaining("more than whole rows");
  }

  @Test
  void whatIsNotWholeRowsEndsTheSession() {
    CopyPlan text =
        CopyPlan.of(
            response(2, false),
            masking(copy(CopyOut.Format.TEXT, "\t", "\\N"), true, false),
            "UTF8");
    assertThatThrownBy(() -> relay(text, "a\tb"))
        .isInstanceOf(ProtocolException.class)
        .hasMessageContaining("does not end with its message");
    assertThatThrownBy(() -> relay(text, "a\tb\tc\n"))
        .isInstanceOf(ProtocolException.class)
        .hasMessageContaining("3 values where its CopyOutResponse announced 2");
    CopyPlan csv =
        CopyPlan.of(
            response(2, false), masking(copy(CopyOut.Format.CSV, ",", ""), true, false), "UTF8");
    assertThatThrownBy(() -> relay(csv, "\"open,x\n"))
        .isInstanceOf(ProtocolException.class)
        .hasMessageContaining("inside a quoted value");
    CopyPlan binary =
        CopyPlan.of(
            response(1, true), masking(copy(CopyOut.Format.BINARY, "\t", "\\N"), true), "UTF8");
    assertThatThrownBy(() -> relay(binary, "not a signature at all".getBytes()))
        .isInstanceOf(ProtocolException.class)
        .hasMessageContaining("signature");
  }

  @Test
  void nothingMaskedMeansNoPlanAndAStreamWardenCannotSplitIsRefused() {
    assertThat(
            CopyPlan.of(
                response(2, false),
                masking(copy(CopyOut.Format.TEXT, "\t", "\\N"), false, false),
                "UTF8"))
        .isNull();
    assertThatThrownBy(
            () ->
                CopyPlan.of(
                    response(1, false),
                    masking(copy(CopyOut.Format.TEXT, "\t", "\\N"), true),
                    "SJIS"))
        .isInstanceOf(ProtocolException.class)
        .hasMessageContaining("ASCII-safe");
    assertThatThrownBy(
            () ->
                CopyPlan.of(
                    response(1, false),
                    masking(
                        copy(CopyOut.Format.TEXT, "\t", "\\N", false, Optional.of("BIG5"), ""),
                        true),
                    "UTF8"))
        .isInstanceOf(ProtocolException.class)
        .hasMessageContaining("BIG5");
    assertThatThrownBy(
            () ->
                CopyPlan.of(
                    response(1, false),
                    masking(
                        copy(
                            CopyOut.Format.TEXT,
                            "\t",
                            "\\N",
                            false,
                            Optional.empty(),
                            "COPY option x"),
                        true),
                    "UTF8"))
        .isInstanceOf(ProtocolException.class)
        .hasMessageContaining("COPY option x");
  }

  @Test
  void aLatin1StreamIsReadAndWrittenInLatin1() {
    CopyPlan plan =
        CopyPlan.of(
            response(1, false),
            masking(copy(CopyOut.Format.TEXT, "\t", "\\N", false, Optional.of("LATIN1"), ""), true),
            "UTF8");
    byte[] row = {(byte) 0xe9, (byte) 0xe9, '\n'};
    assertThat(new String(relay(plan, row), StandardCharsets.ISO_8859_1))
        .isEqualTo("m\\t,\"\\\\;\\n2\n");
  }

  /** The second column is a date: a type whose binary form Warden does not write. */
  private static final class ResultMaskingWithTypes extends Delegating {
    ResultMaskingWithTypes(ResultMasking inner) {
      super(inner);
    }

    @Override
    public List<ExportColumn> exportColumns(int count) {
      List<ExportColumn> columns = new ArrayList<>(inner.exportColumns(count));
      ExportColumn date = columns.get(1);
      columns.set(1, new ExportColumn(date.name(), date.mask(), ValueType.DATE));
      return columns;
    }
  }

  private abstract static class Delegating implements ResultMasking {
    final ResultMasking inner;

    Delegating(ResultMasking inner) {
      this.inner = inner;
    }

    @Override
    public boolean active() {
      return inner.active();
    }

    @Override
    public Optional<CopyOut> export() {
      return inner.export();
    }

    @Override
    public ColumnMask column(long relationId, int column) {
      return inner.column(relationId, column);
    }

    @Override
    public ColumnMask computed() {
      return inner.computed();
    }

    @Override
    public ColumnMask backstop(String value) {
      return inner.backstop(value);
    }

    @Override
    public boolean scrubErrors() {
      return inner.scrubErrors();
    }

    @Override
    public String scrubText(String text) {
      return inner.scrubText(text);
    }
  }

  private static byte[] ints(int... values) {
    ByteBuffer b = ByteBuffer.allocate(values.length * 4);
    for (int v : values) {
      b.putInt(v);
    }
    return b.array();
  }

  private static byte[] row(String... values) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(0);
    out.write(values.length);
    for (String v : values) {
      byte[] b = v.getBytes(StandardCharsets.UTF_8);
      out.writeBytes(ints(b.length));
      out.writeBytes(b);
    }
    return out.toByteArray();
  }

  private static String value(ByteBuffer b) {
    int length = b.getInt();
    if (length < 0) {
      return null;
    }
    byte[] v = new byte[length];
    b.get(v);
    return new String(v, StandardCharsets.UTF_8);
  }
}
