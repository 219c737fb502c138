package dev.warden.protocol.postgres;

import static dev.warden.protocol.postgres.Wire.encode;
import static dev.warden.protocol.postgres.Wire.hex;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class BackendMessagesTest {

  /** Each backend message beside its wire form, worked out by hand from "Message Formats". */
  static Stream<Arguments> goldenMessages() {
    return Stream.of(
        Arguments.of(new AuthenticationOk(), "52 00000008 00000000"),
        Arguments.of(new AuthenticationKerberosV5(), "52 00000008 00000002"),
        Arguments.of(new AuthenticationCleartextPassword(), "52 00000008 00000003"),
        Arguments.of(
            new AuthenticationMD5Password(hex("01020304")), "52 0000000c 00000005 01020304"),
        Arguments.of(new AuthenticationGSS(), "52 00000008 00000007"),
        Arguments.of(new AuthenticationGSSContinue(hex("aabb")), "52 0000000a 00000008 aabb"),
        Arguments.of(new AuthenticationSSPI(), "52 00000008 00000009"),
        Arguments.of(
            new AuthenticationSASL(List.of("SCRAM-SHA-256-PLUS", "SCRAM-SHA-256")),
            "52 0000002a 0000000a 534352414d2d5348412d3235362d504c555300"
                + " 534352414d2d5348412d32353600 00"),
        Arguments.of(
            new AuthenticationSASLContinue(utf8("r=abc")), "52 0000000d 0000000b 723d616263"),
        Arguments.of(new AuthenticationSASLFinal(utf8("v=xyz")), "52 0000000d 0000000c 763d78797a"),
        Arguments.of(new BackendKeyData(1234, hex("deadbeef")), "4b 0000000c 000004d2 deadbeef"),
        Arguments.of(
            new BackendKeyData(
                7, hex("00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff")),
            "4b 00000028 00000007 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"),
        Arguments.of(new BindComplete(), "32 00000004"),
        Arguments.of(new CloseComplete(), "33 00000004"),
        Arguments.of(new CommandComplete("SELECT 1"), "43 0000000d 53454c4543542031 00"),
        Arguments.of(new CopyData(hex("6109620a")), "64 00000008 6109620a"),
        Arguments.of(new CopyDone(), "63 00000004"),
        Arguments.of(
            new CopyInResponse((byte) 0, List.of((short) 0, (short) 0)),
            "47 0000000b 00 0002 0000 0000"),
        Arguments.of(new CopyOutResponse((byte) 1, List.of((short) 1)), "48 00000009 01 0001 0001"),
        Arguments.of(new CopyBothResponse((byte) 0, List.of()), "57 00000007 00 0000"),
        Arguments.of(
            new DataRow(Arrays.asList(hex("31"), null, new byte[0])),
            "44 00000013 0003 00000001 31 ffffffff 00000000"),
        Arguments.of(new DataRow(List.of()), "44 00000006 0000"),
        Arguments.of(new EmptyQueryResponse(), "49 00000004"),
        Arguments.of(
            ErrorResponse.of("ERROR", "42501", "permission denied", "ask"),
            "45 00000032 53 4552524f5200 56 4552524f5200 43 343235303100"
                + " 4d 7065726d697373696f6e2064656e69656400 48 61736b00 00"),
        Arguments.of(
            new ErrorResponse(List.of(new ErrorField((byte) 'M', "oops"))),
            "45 0000000b 4d 6f6f707300 00"),
        Arguments.of(new ErrorResponse(List.of()), "45 00000005 00"),
        Arguments.of(new FunctionCallResponse(hex("00000003")), "56 0000000c 00000004 00000003"),
        Arguments.of(new FunctionCallResponse(null), "56 00000008 ffffffff"),
        Arguments.of(
            new NegotiateProtocolVersion(0, List.of("_pq_.x")),
            "76 00000013 00030000 00000001 5f70715f2e7800"),
        Arguments.of(new NoData(), "6e 00000004"),
        Arguments.of(
            NoticeResponse.of("NOTICE", "00000", "hi", null),
            "4e 00000020 53 4e4f5449434500 56 4e4f5449434500 43 303030303000 4d 686900 00"),
        Arguments.of(
            new NotificationResponse(1234, "ch", "hi"), "41 0000000e 000004d2 636800 686900"),
        Arguments.of(
            new ParameterDescription(List.of(23, 25)), "74 0000000e 0002 00000017 00000019"),
        Arguments.of(
            new ParameterStatus("client_encoding", "UTF8"),
            "53 00000019 636c69656e745f656e636f64696e6700 5554463800"),
        Arguments.of(new ParseComplete(), "31 00000004"),
        Arguments.of(new PortalSuspended(), "73 00000004"),
        Arguments.of(new ReadyForQuery((byte) 'I'), "5a 00000005 49"),
        Arguments.of(new ReadyForQuery((byte) 'T'), "5a 00000005 54"),
        Arguments.of(new ReadyForQuery((byte) 'E'), "5a 00000005 45"),
        Arguments.of(
            new RowDescription(
                List.of(
                    new RowDescription.Field(
                        "id", 16384, (short) 1, 23, (short) 4, -1, (short) 0))),
            "54 0000001b 0001 696400 00004000 0001 00000017 0004 ffffffff 0000"));
  }

  private static byte[] utf8(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }

  @ParameterizedTest
  @MethodSource("goldenMessages")
  void encodesToGoldenBytes(BackendMessage message, String golden) {
    assertThat(hex(encode(message))).isEqualTo(hex(hex(golden)));
  }

  @ParameterizedTest
  @MethodSource("goldenMessages")
  void decodesGoldenBytesBackToTheRecord(BackendMessage message, String golden) {
    assertThat(Wire.decodeBackend(hex(golden))).isEqualTo(message);
  }

  @ParameterizedTest
  @MethodSource("goldenMessages")
  void goldenHeadersPassTheFrameCheck(BackendMessage message, String golden) {
    byte[] bytes = hex(golden);
    Frames.checkBackend(bytes[0], bytes.length - 1, Limits.defaults());
  }

  /** Messages whose body ends by its own structure rather than with a rest-of-body payload. */
  static Stream<Arguments> selfDelimitedMessages() {
    return goldenMessages()
        .filter(arguments -> !hasOpenEndedPayload((BackendMessage) arguments.get()[0]));
  }

  @ParameterizedTest
  @MethodSource("selfDelimitedMessages")
  void trailingBytesAfterACompleteBodyAreRejected(BackendMessage message, String golden) {
    byte[] bytes = hex(golden);
    byte[] longer = Arrays.copyOf(bytes, bytes.length + 1);

    assertThatThrownBy(() -> BackendMessages.decode(longer[0], Wire.body(longer)))
        .isInstanceOf(ProtocolException.class);
  }

  @ParameterizedTest
  @MethodSource("selfDelimitedMessages")
  void truncatedBodiesAreRejected(BackendMessage message, String golden) {
    byte[] bytes = hex(golden);
    for (int cut = 5; cut < bytes.length; cut++) {
      byte[] truncated = Arrays.copyOf(bytes, cut);
      assertThatThrownBy(() -> BackendMessages.decode(truncated[0], Wire.body(truncated)))
          .as("body cut to %d bytes", cut - 5)
          .isInstanceOf(ProtocolException.class);
    }
  }

  private static boolean hasOpenEndedPayload(BackendMessage message) {
    return message instanceof CopyData
        || message instanceof AuthenticationGSSContinue
        || message instanceof AuthenticationSASLContinue
        || message instanceof AuthenticationSASLFinal
        || message instanceof BackendKeyData;
  }

  @Test
  void backendKeyDataKeyMustHave4To256Bytes() {
    assertThatThrownBy(() -> Wire.decodeBackend(hex("4b 0000000b 00000001 aabbcc")))
        .isInstanceOf(ProtocolException.class);
    byte[] longest = new byte[1 + 4 + 4 + 256];
    byte[] header = hex("4b 00000108 00000001");
    System.arraycopy(header, 0, longest, 0, header.length);
    assertThat(((BackendKeyData) Wire.decodeBackend(longest)).secretKey()).hasSize(256);
    byte[] tooLong = Arrays.copyOf(Wire.withField(longest, 1, 4, 4 + 4 + 257), longest.length + 1);
    assertThatThrownBy(() -> Wire.decodeBackend(tooLong)).isInstanceOf(ProtocolException.class);
  }

  @Test
  void errorResponseWithoutSqlStateDecodesWithAnEmptySqlState() {
    ErrorResponse error = (ErrorResponse) Wire.decodeBackend(hex("45 0000000b 4d 6f6f707300 00"));

    assertThat(error.sqlState()).isEmpty();
    assertThat(error.severity()).isEmpty();
    assertThat(error.message()).isEqualTo("oops");
  }

  @Test
  void errorResponseHelpersReadTheirFields() {
    ErrorResponse error =
        ErrorResponse.of("FATAL", "28P01", "password authentication failed", null);

    assertThat(error.sqlState()).isEqualTo("28P01");
    assertThat(error.severity()).isEqualTo("FATAL");
    assertThat(error.message()).isEqualTo("password authentication failed");
    assertThat(error.field((byte) 'H')).isEmpty();
    assertThat(error.fields())
        .extracting(ErrorField::code)
        .containsExactly((byte) 'S', (byte) 'V', (byte) 'C', (byte) 'M');
  }

  @Test
  void aRepeatedErrorFieldIsRejectedSoProxyAndClientCannotSeeDifferentErrors() {
    assertThatThrownBy(() -> Wire.decodeBackend(hex("45 0000000f 43 343200 43 343300 4d 00 00")))
        .isInstanceOf(ProtocolException.class)
        .hasMessageContaining("repeated");
  }

  @Test
  void errorResponseWithoutTerminatorIsRejected() {
    assertThatThrownBy(() -> Wire.decodeBackend(hex("45 0000000a 4d 6f6f707300")))
        .isInstanceOf(ProtocolException.class);
  }

  @Test
  void unknownAuthenticationCodesAreRejected() {
    for (int code : new int[] {1, 4, 6, 13, -1, Integer.MAX_VALUE}) {
      byte[] message = Wire.withField(hex("52 00000008 00000000"), 5, 4, code);
      assertThatThrownBy(() -> Wire.decodeBackend(message))
          .as("code %d", code)
          .isInstanceOf(ProtocolException.class)
          .hasMessageContaining("authentication request code");
    }
  }

  @Test
  void saslMechanismListWithoutTerminatorIsRejected() {
    assertThatThrownBy(() -> Wire.decodeBackend(hex("52 0000000a 0000000a 4100")))
        .isInstanceOf(ProtocolException.class)
        .hasMessageContaining("terminator");
  }

  @Test
  void readyForQueryRejectsAnUnknownTransactionStatus() {
    assertThatThrownBy(() -> Wire.decodeBackend(hex("5a 00000005 58")))
        .isInstanceOf(ProtocolException.class);
  }

  @Test
  void copyResponsesRejectAnOverallFormatOtherThanTextOrBinary() {
    assertThatThrownBy(() -> Wire.decodeBackend(hex("47 00000007 02 0000")))
        .isInstanceOf(ProtocolException.class);
  }

  @Test
  void negotiateProtocolVersionCarriesAWholeVersionCodeWhoseMajorMustBeThree() {
    NegotiateProtocolVersion negotiate =
        (NegotiateProtocolVersion) Wire.decodeBackend(hex("76 0000000c 00030002 00000000"));

    assertThat(negotiate.newestMinor()).isEqualTo(2);
    for (String version : List.of("00000002", "00020000", "00040000", "ffff0000")) {
      assertThatThrownBy(() -> Wire.decodeBackend(hex("76 0000000c" + version + "00000000")))
          .as(version)
          .isInstanceOf(ProtocolException.class);
    }
  }

  @Test
  void unknownTypesAreRejected() {
    for (byte type : new byte[] {0, 'B', 'P', 'Q', 'X', 'p', (byte) 0x80}) {
      assertThatThrownBy(() -> BackendMessages.decode(type, Unpooled.EMPTY_BUFFER))
          .isInstanceOf(ProtocolException.class)
          .hasMessageContaining("invalid backend message type");
    }
  }

  @Test
  void invalidUtf8InABackendStringIsRejected() {
    assertThatThrownBy(() -> Wire.decodeBackend(hex("43 00000007 c0af 00")))
        .isInstanceOf(ProtocolException.class)
        .extracting(e -> ((ProtocolException) e).sqlState())
        .isEqualTo("22021");
  }

  @Test
  void toStringNeverShowsKeysSaltsOrResultData() {
    String canary = "canary-51c0e";
    byte[] bytes = utf8(canary);
    List<Object> messages =
        List.of(
            new BackendKeyData(1, bytes),
            new AuthenticationMD5Password(Arrays.copyOf(bytes, 4)),
            new AuthenticationSASLContinue(bytes),
            new AuthenticationSASLFinal(bytes),
            new AuthenticationGSSContinue(bytes),
            new DataRow(List.of(bytes)),
            new CopyData(bytes),
            new FunctionCallResponse(bytes),
            new NotificationResponse(1, "ch", canary),
            ErrorResponse.of("ERROR", "23505", "duplicate key " + canary, canary),
            NoticeResponse.of("NOTICE", "00000", canary, null));
    for (Object message : messages) {
      assertThat(message.toString()).doesNotContain("canary").doesNotContain("cana");
    }
    assertThat(ErrorResponse.of("ERROR", "23505", canary, null).toString())
        .contains("23505")
        .contains("ERROR");
  }

  @Test
  void equalityOfArrayHoldingRecordsIsByValue() {
    assertThat(new DataRow(Arrays.asList(hex("01"), null)))
        .isEqualTo(new DataRow(Arrays.asList(hex("01"), null)))
        .hasSameHashCodeAs(new DataRow(Arrays.asList(hex("01"), null)))
        .isNotEqualTo(new DataRow(Arrays.asList(hex("01"), hex(""))));
    assertThat(new BackendKeyData(1, hex("01020304")))
        .isEqualTo(new BackendKeyData(1, hex("01020304")))
        .isNotEqualTo(new BackendKeyData(1, hex("01020305")));
    assertThat(new FunctionCallResponse(null)).isNotEqualTo(new FunctionCallResponse(new byte[0]));
  }
}
