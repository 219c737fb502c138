package dev.warden.protocol.postgres;

import static dev.warden.protocol.postgres.Wire.encode;
import static dev.warden.protocol.postgres.Wire.hex;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class FrontendMessagesTest {

  /**
   * Each typed frontend message beside its wire form, worked out by hand from "Message Formats".
   */
  static Stream<Arguments> goldenMessages() {
    return Stream.of(
        Arguments.of(new Query("SELECT 1"), "51 0000000d 53454c4543542031 00"),
        Arguments.of(new Query(""), "51 00000005 00"),
        Arguments.of(
            new Parse("s1", "SELECT $1", List.of(23)),
            "50 00000017 733100 53454c45435420243100 0001 00000017"),
        Arguments.of(
            new Bind(
                "p1",
                "s1",
                List.of((short) 1),
                Arrays.asList(hex("00000001"), null),
                List.of((short) 1)),
            "42 00000020 703100 733100 0001 0001 0002 00000004 00000001 ffffffff 0001 0001"),
        Arguments.of(
            new Bind("", "", List.of(), List.of(), List.of()), "42 0000000c 00 00 0000 0000 0000"),
        Arguments.of(new Describe((byte) 'S', "s1"), "44 00000008 53 733100"),
        Arguments.of(new Describe((byte) 'P', ""), "44 00000006 50 00"),
        Arguments.of(new Execute("p1", 0), "45 0000000b 703100 00000000"),
        Arguments.of(new Execute("", 100), "45 00000009 00 00000064"),
        Arguments.of(new Close((byte) 'P', "p1"), "43 00000008 50 703100"),
        Arguments.of(new Close((byte) 'S', "s1"), "43 00000008 53 733100"),
        Arguments.of(new Sync(), "53 00000004"),
        Arguments.of(new Flush(), "48 00000004"),
        Arguments.of(new Terminate(), "58 00000004"),
        Arguments.of(new CopyDone(), "63 00000004"),
        Arguments.of(new CopyData(hex("6109620a")), "64 00000008 6109620a"),
        Arguments.of(new CopyData(new byte[0]), "64 00000004"),
        Arguments.of(new CopyFail("oops"), "66 00000009 6f6f707300"),
        Arguments.of(
            new FunctionCall(
                177, List.of((short) 1), List.of(hex("00000001"), hex("00000002")), (short) 1),
            "46 00000020 000000b1 0001 0001 0002 00000004 00000001 00000004 00000002 0001"),
        Arguments.of(
            new FunctionCall(1, List.of(), Arrays.asList((byte[]) null), (short) 0),
            "46 00000012 00000001 0000 0001 ffffffff 0000"),
        Arguments.of(new Query("SELECT 'é'"), "51 00000010 53454c45435420 27c3a927 00"));
  }

  @ParameterizedTest
  @MethodSource("goldenMessages")
  void encodesToGoldenBytes(FrontendMessage message, String golden) {
    assertThat(hex(encode(message))).isEqualTo(hex(hex(golden)));
  }

  @ParameterizedTest
  @MethodSource("goldenMessages")
  void decodesGoldenBytesBackToTheRecord(FrontendMessage message, String golden) {
    assertThat(Wire.decodeFrontend(hex(golden))).isEqualTo(message);
  }

  @Test
  void passwordMessageHasGoldenBytesAndDecodesWithItsOwnDecoder() {
    byte[] golden = hex("70 0000000b 73656372657400");
    PasswordMessage message = new PasswordMessage("secret".getBytes(StandardCharsets.UTF_8));

    assertThat(encode(message)).isEqualTo(golden);
    assertThat(FrontendMessages.decodePasswordMessage(Wire.body(golden))).isEqualTo(message);
  }

  @Test
  void saslInitialResponseHasGoldenBytesWithAndWithoutData() {
    byte[] withData =
        hex("70 00000021 5343524 14d2d5348412d323536 00 0000000b 6e2c2c6e3d2c723d616263");
    byte[] withoutData = hex("70 00000016 5343524 14d2d5348412d323536 00 ffffffff");
    SASLInitialResponse first =
        new SASLInitialResponse("SCRAM-SHA-256", "n,,n=,r=abc".getBytes(StandardCharsets.UTF_8));
    SASLInitialResponse none = new SASLInitialResponse("SCRAM-SHA-256", null);

    assertThat(encode(first)).isEqualTo(withData);
    assertThat(encode(none)).isEqualTo(withoutData);
    assertThat(FrontendMessages.decodeSASLInitialResponse(Wire.body(withData))).isEqualTo(first);
    assertThat(FrontendMessages.decodeSASLInitialResponse(Wire.body(withoutData)))
        .isEqualTo(none)
        .extracting(SASLInitialResponse::data)
        .isNull();
  }

  @Test
  void saslResponseHasGoldenBytes() {
    byte[] golden = hex("70 0000000a 633d62697773");
    SASLResponse message = new SASLResponse("c=biws".getBytes(StandardCharsets.UTF_8));

    assertThat(encode(message)).isEqualTo(golden);
    assertThat(FrontendMessages.decodeSASLResponse(Wire.body(golden))).isEqualTo(message);
  }

  @Test
  void typePIsRefusedByTheGenericDecoderBecauseItsMeaningDependsOnAuthState() {
    assertThatThrownBy(() -> FrontendMessages.decode((byte) 'p', Wire.body(hex("70 00000005 00"))))
        .isInstanceOf(ProtocolException.class)
        .hasMessageContaining("authentication state");
  }

  /** Messages whose body ends by its own structure; CopyData's payload is the rest of the body. */
  static Stream<Arguments> selfDelimitedMessages() {
    return goldenMessages().filter(arguments -> !(arguments.get()[0] instanceof CopyData));
  }

  @ParameterizedTest
  @MethodSource("selfDelimitedMessages")
  void trailingBytesAfterACompleteBodyAreRejected(FrontendMessage message, String golden) {
    byte[] bytes = hex(golden);
    byte[] longer = Arrays.copyOf(bytes, bytes.length + 1);

    assertThatThrownBy(() -> FrontendMessages.decode(longer[0], Wire.body(longer)))
        .isInstanceOf(ProtocolException.class);
  }

  @ParameterizedTest
  @MethodSource("selfDelimitedMessages")
  void truncatedBodiesAreRejected(FrontendMessage message, String golden) {
    byte[] bytes = hex(golden);
    for (int cut = 5; cut < bytes.length; cut++) {
      byte[] truncated = Arrays.copyOf(bytes, cut);
      assertThatThrownBy(() -> FrontendMessages.decode(truncated[0], Wire.body(truncated)))
          .as("body cut to %d bytes", cut - 5)
          .isInstanceOf(ProtocolException.class);
    }
  }

  @Test
  void trailingBytesAfterAuthenticationResponsesAreRejected() {
    assertThatThrownBy(
            () -> FrontendMessages.decodePasswordMessage(Wire.body(hex("70 00000007 610062"))))
        .isInstanceOf(ProtocolException.class);
    assertThatThrownBy(
            () ->
                FrontendMessages.decodeSASLInitialResponse(
                    Wire.body(hex("70 0000000c 4100 00000001 6162"))))
        .isInstanceOf(ProtocolException.class);
  }

  @Test
  void passwordWithoutTerminatorIsRejected() {
    assertThatThrownBy(
            () -> FrontendMessages.decodePasswordMessage(Wire.body(hex("70 00000006 6162"))))
        .isInstanceOf(ProtocolException.class)
        .hasMessageContaining("NUL-terminated");
  }

  @Test
  void saslInitialResponseWithEmptyMechanismIsRejected() {
    assertThatThrownBy(
            () ->
                FrontendMessages.decodeSASLInitialResponse(
                    Wire.body(hex("70 00000009 00 ffffffff"))))
        .isInstanceOf(ProtocolException.class);
  }

  @Test
  void unknownTypesAreRejected() {
    for (byte type : new byte[] {0, 'A', 'R', 'Z', 'q', (byte) 0xFF}) {
      assertThatThrownBy(() -> FrontendMessages.decode(type, Unpooled.EMPTY_BUFFER))
          .isInstanceOf(ProtocolException.class)
          .hasMessageContaining("invalid frontend message type");
    }
  }

  @Test
  void describeAndCloseRejectATargetOtherThanStatementOrPortal() {
    assertThatThrownBy(() -> Wire.decodeFrontend(hex("44 00000006 58 00")))
        .isInstanceOf(ProtocolException.class)
        .hasMessageContaining("'S' or 'P'");
    assertThatThrownBy(() -> Wire.decodeFrontend(hex("43 00000006 00 00")))
        .isInstanceOf(ProtocolException.class);
  }

  @Test
  void invalidUtf8InAStringIsRejectedWithSqlState22021() {
    // C0 AF is an overlong '/', ED A0 80 an encoded surrogate, FF never valid: all must fail.
    for (String bad : List.of("c0af", "eda080", "ff", "c3", "f4908080")) {
      byte[] message = hex("51 " + String.format("%08x", 4 + bad.length() / 2 + 1) + bad + "00");
      assertThatThrownBy(() -> Wire.decodeFrontend(message))
          .as(bad)
          .isInstanceOf(ProtocolException.class)
          .extracting(e -> ((ProtocolException) e).sqlState())
          .isEqualTo("22021");
    }
  }

  @Test
  void decodingAdvancesOnlyTheReaderIndexAndKeepsNoReferenceToTheBuffer() {
    byte[] golden =
        hex("42 00000020 703100 733100 0001 0001 0002 00000004 00000001 ffffffff 0001 0001");
    ByteBuf body = Wire.body(golden);
    byte[] before = ByteBufUtil.getBytes(body);

    Bind bind = (Bind) FrontendMessages.decode(golden[0], body);

    assertThat(body.readerIndex()).isEqualTo(body.writerIndex());
    assertThat(ByteBufUtil.getBytes(body, 0, body.capacity())).isEqualTo(before);
    assertThat(body.refCnt()).isEqualTo(1);
    body.setZero(0, body.capacity());
    assertThat(bind.parameterValues().getFirst()).isEqualTo(hex("00000001"));
    assertThat(bind.portalName()).isEqualTo("p1");
  }

  @Test
  void recordsCopyTheirArraysSoCallersCannotChangeThem() {
    byte[] value = hex("0102");
    Bind bind = new Bind("", "", List.of(), Arrays.asList(value, null), List.of());
    value[0] = 9;
    bind.parameterValues().getFirst()[1] = 9;

    assertThat(bind.parameterValues().getFirst()).isEqualTo(hex("0102"));
    assertThat(bind.parameterValues().get(1)).isNull();
    assertThat(bind)
        .isEqualTo(new Bind("", "", List.of(), Arrays.asList(hex("0102"), null), List.of()));
    assertThat(bind.hashCode())
        .isEqualTo(
            new Bind("", "", List.of(), Arrays.asList(hex("0102"), null), List.of()).hashCode());
  }

  @Test
  void bindParameterFormatFollowsTheZeroOneOrNRule() {
    List<byte[]> two = List.of(hex("00"), hex("01"));
    assertThat(new Bind("", "", List.of(), two, List.of()).parameterFormat(1)).isZero();
    assertThat(new Bind("", "", List.of((short) 1), two, List.of()).parameterFormat(1))
        .isEqualTo((short) 1);
    assertThat(new Bind("", "", List.of((short) 0, (short) 1), two, List.of()).parameterFormat(1))
        .isEqualTo((short) 1);
    Bind inconsistent = new Bind("", "", List.of((short) 0, (short) 1, (short) 1), two, List.of());
    assertThatThrownBy(() -> inconsistent.parameterFormat(0)).isInstanceOf(ProtocolException.class);
  }

  @Test
  void toStringNeverShowsSecretsSqlOrParameterValues() {
    String canary = "canary-7f3a9";
    byte[] bytes = canary.getBytes(StandardCharsets.UTF_8);
    List<Object> messages =
        List.of(
            new PasswordMessage(bytes),
            new SASLInitialResponse("SCRAM-SHA-256", bytes),
            new SASLResponse(bytes),
            new Query("ALTER ROLE x PASSWORD '" + canary + "'"),
            new Parse("", "SELECT '" + canary + "'", List.of()),
            new Bind("", "", List.of(), List.of(bytes), List.of()),
            new CopyData(bytes),
            new CopyFail(canary),
            new FunctionCall(1, List.of(), List.of(bytes), (short) 0));
    for (Object message : messages) {
      assertThat(message.toString()).doesNotContain(canary).doesNotContain("canary");
    }
    assertThat(new PasswordMessage(bytes).toString()).contains("redacted");
  }

  @Test
  void recordsRefuseValuesThatHaveNoWireForm() {
    assertThatThrownBy(() -> new Query("a\0b")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new Query("\uD800")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new Describe((byte) 'X', ""))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new PasswordMessage(hex("6100")))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new SASLInitialResponse("", null))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new Parse("", "", java.util.Collections.nCopies(65_536, 0)))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(new Parse("", "", java.util.Collections.nCopies(65_535, 0)).parameterTypeOids())
        .hasSize(65_535);
  }

  @Test
  void the65535ParameterMaximumRoundTripsBecauseCountsAreUnsigned() {
    Bind bind =
        new Bind(
            "", "", List.of(), java.util.Collections.nCopies(65_535, (byte[]) null), List.of());
    byte[] bytes = encode(bind);

    assertThat(hex(Arrays.copyOfRange(bytes, 7, 9))).isEqualTo("0000");
    assertThat(hex(Arrays.copyOfRange(bytes, 9, 11))).isEqualTo("ffff");
    assertThat(Wire.decodeFrontend(bytes)).isEqualTo(bind);
  }
}
