package dev.warden.protocol.postgres;

import static dev.warden.protocol.postgres.Wire.hex;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every count and length inside a message body, replaced by a lie (negative, -1, huge, zero, off by
 * one), must be rejected with a ProtocolException before anything is sized from it (THREATS P01,
 * P14): no IndexOutOfBounds, no NegativeArraySize, no OutOfMemoryError.
 */
class LyingLengthsTest {

  private record Field(
      String name, String message, int offset, int width, Function<byte[], Object> decoder) {
    @Override
    public String toString() {
      return name;
    }
  }

  private static final Function<byte[], Object> FRONTEND = Wire::decodeFrontend;
  private static final Function<byte[], Object> BACKEND = Wire::decodeBackend;

  private static final String BIND =
      "42 00000020 703100 733100 0001 0001 0002 00000004 00000001 ffffffff 0001 0001";

  private static final String FUNCTION_CALL =
      "46 00000020 000000b1 0001 0001 0002 00000004 00000001 00000004 00000002 0001";

  private static final String DATA_ROW = "44 00000012 0002 00000003 616263 00000001 31";

  private static final List<Field> FIELDS =
      List.of(
          new Field(
              "Parse parameter type count",
              "50 00000017 733100 53454c45435420243100 0001 00000017",
              18,
              2,
              FRONTEND),
          new Field("Bind parameter format count", BIND, 11, 2, FRONTEND),
          new Field("Bind parameter count", BIND, 15, 2, FRONTEND),
          new Field("Bind parameter value length", BIND, 17, 4, FRONTEND),
          new Field("Bind result format count", BIND, 29, 2, FRONTEND),
          new Field("FunctionCall argument format count", FUNCTION_CALL, 9, 2, FRONTEND),
          new Field("FunctionCall argument count", FUNCTION_CALL, 13, 2, FRONTEND),
          new Field("FunctionCall first argument length", FUNCTION_CALL, 15, 4, FRONTEND),
          new Field("FunctionCall second argument length", FUNCTION_CALL, 23, 4, FRONTEND),
          new Field(
              "SASLInitialResponse data length",
              "70 00000021 534352414d2d5348412d323536 00 0000000b 6e2c2c6e3d2c723d616263",
              19,
              4,
              bytes -> FrontendMessages.decodeSASLInitialResponse(Wire.body(bytes))),
          new Field("DataRow column count", DATA_ROW, 5, 2, BACKEND),
          new Field("DataRow first value length", DATA_ROW, 7, 4, BACKEND),
          new Field("DataRow second value length", DATA_ROW, 14, 4, BACKEND),
          new Field(
              "RowDescription field count",
              "54 0000001b 0001 696400 00004000 0001 00000017 0004 ffffffff 0000",
              5,
              2,
              BACKEND),
          new Field(
              "ParameterDescription count", "74 0000000e 0002 00000017 00000019", 5, 2, BACKEND),
          new Field("CopyInResponse column count", "47 0000000b 00 0002 0000 0000", 6, 2, BACKEND),
          new Field("CopyOutResponse column count", "48 00000009 01 0001 0001", 6, 2, BACKEND),
          new Field("CopyBothResponse column count", "57 00000009 00 0001 0000", 6, 2, BACKEND),
          new Field(
              "NegotiateProtocolVersion option count",
              "76 00000013 00030000 00000001 5f70715f2e7800",
              9,
              4,
              BACKEND),
          new Field("FunctionCallResponse length", "56 0000000c 00000004 00000003", 5, 4, BACKEND));

  static Stream<Arguments> lies() {
    List<Arguments> cases = new ArrayList<>();
    for (Field field : FIELDS) {
      byte[] message = hex(field.message());
      long truth = 0;
      for (int i = 0; i < field.width(); i++) {
        truth = (truth << 8) | (message[field.offset() + i] & 0xFF);
      }
      long mask = field.width() == 2 ? 0xFFFFL : 0xFFFF_FFFFL;
      Set<Long> lies =
          new LinkedHashSet<>(
              List.of(
                  -2L & mask,
                  -1L & mask,
                  0L,
                  mask >>> 1,
                  (mask >>> 1) + 1,
                  (truth - 1) & mask,
                  (truth + 1) & mask));
      lies.remove(truth);
      for (long lie : lies) {
        cases.add(Arguments.of(field, lie));
      }
    }
    return cases.stream();
  }

  static Stream<Field> fields() {
    return FIELDS.stream();
  }

  @ParameterizedTest(name = "{0} is valid as written")
  @MethodSource("fields")
  void theUnalteredMessageDecodes(Field field) {
    assertThat(field.decoder().apply(hex(field.message()))).isNotNull();
  }

  @ParameterizedTest(name = "{0} = {1}")
  @MethodSource("lies")
  void aLyingCountOrLengthIsRejected(Field field, long lie) {
    byte[] message = Wire.withField(hex(field.message()), field.offset(), field.width(), lie);

    assertThatThrownBy(() -> field.decoder().apply(message)).isInstanceOf(ProtocolException.class);
  }
}
