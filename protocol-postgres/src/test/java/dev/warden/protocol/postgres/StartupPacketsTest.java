package dev.warden.protocol.postgres;

import static dev.warden.protocol.postgres.Wire.encode;
import static dev.warden.protocol.postgres.Wire.hex;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class StartupPacketsTest {
  private static final Limits LIMITS = Limits.defaults();

  private static Map<String, String> parameters(String... pairs) {
    Map<String, String> map = new LinkedHashMap<>();
    for (int i = 0; i < pairs.length; i += 2) {
      map.put(pairs[i], pairs[i + 1]);
    }
    return map;
  }

  static Stream<Arguments> goldenPackets() {
    return Stream.of(
        Arguments.of(
            new StartupMessage(3, 0, parameters("user", "alice", "database", "app")),
            "00000021 00030000 7573657200 616c69636500 646174616261736500 61707000 00"),
        Arguments.of(
            new StartupMessage(3, 2, parameters("user", "", "_pq_.x", "1")),
            "00000018 00030002 7573657200 00 5f70715f2e7800 3100 00"),
        Arguments.of(new SSLRequest(), "00000008 04d2162f"),
        Arguments.of(new GSSENCRequest(), "00000008 04d21630"),
        Arguments.of(
            new CancelRequest(1234, hex("deadbeef")), "00000010 04d2162e 000004d2 deadbeef"),
        Arguments.of(
            new CancelRequest(
                -1, hex("00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff")),
            "0000002c 04d2162e ffffffff"
                + " 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"));
  }

  @ParameterizedTest
  @MethodSource("goldenPackets")
  void encodesToGoldenBytes(FrontendMessage message, String golden) {
    assertThat(hex(encode(message))).isEqualTo(hex(hex(golden)));
  }

  @ParameterizedTest
  @MethodSource("goldenPackets")
  void decodesGoldenBytesBackToTheRecordAndConsumesExactlyThePacket(
      FrontendMessage message, String golden) {
    byte[] packet = hex(golden);
    byte[] pipelined = Arrays.copyOf(packet, packet.length + 5);
    ByteBuf in = Unpooled.wrappedBuffer(pipelined);

    assertThat(StartupPackets.packetLength(in, LIMITS)).isEqualTo(packet.length);
    assertThat(in.readerIndex()).isZero();
    assertThat(StartupPackets.decode(in, LIMITS)).isEqualTo(message);
    assertThat(in.readerIndex()).isEqualTo(packet.length);
  }

  @Test
  void startupMessageKeepsParameterOrderAndIsUnmodifiable() {
    StartupMessage message =
        (StartupMessage)
            StartupPackets.decode(
                Unpooled.wrappedBuffer(
                    hex(
                        "00000021 00030000 646174616261736500 61707000 7573657200 616c69636500 00")),
                LIMITS);

    assertThat(message.parameters().keySet()).containsExactly("database", "user");
    assertThat(message.user()).isEqualTo("alice");
    assertThatThrownBy(() -> message.parameters().put("user", "mallory"))
        .isInstanceOf(UnsupportedOperationException.class);
  }

  @Test
  void packetLengthNeedsFourBytes() {
    assertThat(StartupPackets.packetLength(Unpooled.wrappedBuffer(hex("000000")), LIMITS))
        .isEqualTo(-1);
  }

  @ParameterizedTest
  @ValueSource(longs = {0, 3, 4, 7, 10_001, 0x7FFF_FFFFL, 0x8000_0000L, 0xFFFF_FFFFL})
  void packetLengthRejectsLengthsOutsideEightToTheLimit(long length) {
    ByteBuf in = Unpooled.wrappedBuffer(Wire.withField(new byte[8], 0, 4, length));

    assertThatThrownBy(() -> StartupPackets.packetLength(in, LIMITS))
        .isInstanceOf(ProtocolException.class)
        .extracting(e -> ((ProtocolException) e).sqlState())
        .isEqualTo("08P01");
    assertThatThrownBy(() -> StartupPackets.decode(in, LIMITS))
        .isInstanceOf(ProtocolException.class);
  }

  @ParameterizedTest
  @ValueSource(ints = {8, 9, 10_000})
  void packetLengthAcceptsLengthsFromEightToTheLimit(int length) {
    ByteBuf in = Unpooled.wrappedBuffer(Wire.withField(new byte[4], 0, 4, length));

    assertThat(StartupPackets.packetLength(in, LIMITS)).isEqualTo(length);
  }

  @Test
  void incompletePacketIsRejectedByDecode() {
    ByteBuf in = Unpooled.wrappedBuffer(hex("00000010 04d2162e 000004d2 deadbe"));

    assertThatThrownBy(() -> StartupPackets.decode(in, LIMITS))
        .isInstanceOf(ProtocolException.class)
        .hasMessageContaining("incomplete");
  }

  @ParameterizedTest
  @ValueSource(strings = {"00010000", "00020000", "00040000", "00000000", "ffff0000", "04d2162d"})
  void protocolVersionsOtherThanThreeAreRejected(String version) {
    byte[] packet = hex("00000014" + version + "7573657200 616c69636500 00");
    int major = Integer.parseUnsignedInt(version.substring(0, 4), 16);
    int minor = Integer.parseUnsignedInt(version.substring(4), 16);

    assertThatThrownBy(() -> StartupPackets.decode(Unpooled.wrappedBuffer(packet), LIMITS))
        .isInstanceOf(ProtocolException.class)
        .hasMessage("unsupported frontend protocol " + major + "." + minor)
        .extracting(e -> ((ProtocolException) e).sqlState())
        .isEqualTo("0A000");
  }

  @Test
  void anyMinorVersionOfProtocolThreeIsDecodedForTheServerToNegotiate() {
    byte[] packet = hex("00000014 00030063 7573657200 616c69636500 00");

    StartupMessage message =
        (StartupMessage) StartupPackets.decode(Unpooled.wrappedBuffer(packet), LIMITS);

    assertThat(message.majorVersion()).isEqualTo(3);
    assertThat(message.minorVersion()).isEqualTo(99);
    assertThat(encode(message)).isEqualTo(packet);
  }

  static Stream<Arguments> malformedStartupMessages() {
    return Stream.of(
        Arguments.of("missing terminator", "00000013 00030000 7573657200 616c69636500"),
        Arguments.of("no parameters at all", "00000008 00030000"),
        Arguments.of("name without value", "0000000e 00030000 7573657200 00"),
        Arguments.of("odd count", "00000016 00030000 7573657200 616c69636500 7800 00"),
        Arguments.of("unterminated value", "00000012 00030000 7573657200 616c696365"),
        Arguments.of("empty name", "00000017 00030000 7573657200 616c69636500 00 7800 00"),
        Arguments.of("bytes after terminator", "00000015 00030000 7573657200 616c69636500 00 78"),
        Arguments.of(
            "duplicate name", "0000001d 00030000 7573657200 616c69636500 7573657200 626f6200 00"),
        Arguments.of("invalid UTF-8 in a value", "00000011 00030000 7573657200 c0af00 00"),
        Arguments.of("invalid UTF-8 in a name", "00000014 00030000 ff00 7800 7573657200 6100 00"),
        Arguments.of("missing user", "00000014 00030000 646174616261736500 6100 00"),
        Arguments.of("only the terminator", "00000009 00030000 00"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("malformedStartupMessages")
  void malformedStartupMessagesAreRejected(String reason, String packet) {
    byte[] bytes = hex(packet);
    assertThat(bytes.length)
        .as("test packet length field")
        .isEqualTo(StartupPackets.packetLength(Unpooled.wrappedBuffer(bytes), LIMITS));

    assertThatThrownBy(() -> StartupPackets.decode(Unpooled.wrappedBuffer(bytes), LIMITS))
        .isInstanceOf(ProtocolException.class);
  }

  @Test
  void missingUserIsRejectedWithTheServersSqlState() {
    byte[] bytes = hex("00000014 00030000 646174616261736500 6100 00");

    assertThatThrownBy(() -> StartupPackets.decode(Unpooled.wrappedBuffer(bytes), LIMITS))
        .isInstanceOf(ProtocolException.class)
        .extracting(e -> ((ProtocolException) e).sqlState())
        .isEqualTo("28000");
  }

  @ParameterizedTest
  @ValueSource(ints = {12, 13, 15, 269, 300})
  void cancelRequestKeyLengthOutsideFourTo256IsRejected(int length) {
    byte[] packet = new byte[length];
    System.arraycopy(hex("00000000 04d2162e"), 0, packet, 0, 8);
    byte[] framed = Wire.withField(packet, 0, 4, length);

    assertThatThrownBy(() -> StartupPackets.decode(Unpooled.wrappedBuffer(framed), LIMITS))
        .isInstanceOf(ProtocolException.class)
        .hasMessageContaining("CancelRequest");
  }

  @ParameterizedTest
  @ValueSource(ints = {16, 17, 44, 268})
  void cancelRequestKeyLengthFromFourTo256IsAccepted(int length) {
    byte[] packet = new byte[length];
    System.arraycopy(hex("00000000 04d2162e"), 0, packet, 0, 8);
    byte[] framed = Wire.withField(packet, 0, 4, length);

    CancelRequest cancel =
        (CancelRequest) StartupPackets.decode(Unpooled.wrappedBuffer(framed), LIMITS);

    assertThat(cancel.secretKey()).hasSize(length - 12);
    assertThat(encode(cancel)).isEqualTo(framed);
  }

  @Test
  void sslAndGssEncRequestsMustBeExactlyEightBytes() {
    assertThatThrownBy(
            () ->
                StartupPackets.decode(
                    Unpooled.wrappedBuffer(hex("0000000c 04d2162f 00000000")), LIMITS))
        .isInstanceOf(ProtocolException.class);
    assertThatThrownBy(
            () ->
                StartupPackets.decode(Unpooled.wrappedBuffer(hex("00000009 04d21630 00")), LIMITS))
        .isInstanceOf(ProtocolException.class);
  }

  @Test
  void startupMessageLargerThanTheLimitIsRejectedBeforeItsBodyIsRead() {
    Limits small = new Limits(1024, 16);
    ByteBuf in =
        Unpooled.wrappedBuffer(
            hex("00000021 00030000 7573657200 616c69636500 646174616261736500 61707000 00"));

    assertThatThrownBy(() -> StartupPackets.decode(in, small))
        .isInstanceOf(ProtocolException.class)
        .hasMessageContaining("exceeds 16");
    assertThat(in.readerIndex()).isZero();
  }

  @Test
  void toStringShowsParameterNamesButNoValuesOrKeys() {
    StartupMessage startup =
        new StartupMessage(3, 0, parameters("user", "alice", "password", "canary-1"));
    CancelRequest cancel =
        new CancelRequest(42, "canary-2".getBytes(java.nio.charset.StandardCharsets.UTF_8));

    assertThat(startup.toString()).contains("user").contains("password").doesNotContain("canary");
    assertThat(cancel.toString()).contains("42").doesNotContain("canary");
  }

  @Test
  void recordsRefuseWhatCannotBeSent() {
    assertThatThrownBy(() -> new StartupMessage(2, 0, parameters("user", "a")))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new StartupMessage(3, 0, parameters("database", "a")))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new StartupMessage(3, 0, parameters("user", "a", "", "b")))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new CancelRequest(1, new byte[3]))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new CancelRequest(1, new byte[257]))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
