package dev.warden.protocol.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.Arrays;

/**
 * Coverage-guided fuzzing of the startup-packet decoder (THREATS P01–P03, P13).
 *
 * <p>A plain {@code mvn test} replays the committed seeds in {@code
 * src/test/resources/dev/warden/protocol/postgres/StartupPacketsFuzzTestInputs/startupPacket/}. To
 * fuzz for real: {@code JAZZER_FUZZ=1 mvn -pl protocol-postgres test -Djazzer.version=0.30.0
 * -Dtest=StartupPacketsFuzzTest}; a run stops after the {@code maxDuration} below. The managed
 * Jazzer 0.24.0 cannot instrument Java 25 class files, so under it the fuzzer runs without coverage
 * feedback; 0.30.0 can. A finding (a crash-* file) committed to the directory above is replayed by
 * every build.
 */
class StartupPacketsFuzzTest {
  private static final Limits LIMITS = Limits.defaults();

  /**
   * Only ProtocolException may escape; whatever decodes consumes exactly its packet, leaves the
   * input untouched, re-encodes to the same bytes and decodes back to an equal record.
   */
  @FuzzTest(maxDuration = "10m")
  void startupPacket(byte[] input) {
    byte[] original = input.clone();
    ByteBuf in = Unpooled.wrappedBuffer(input);
    FrontendMessage message;
    int length;
    try {
      length = StartupPackets.packetLength(in, LIMITS);
      message = StartupPackets.decode(in, LIMITS);
    } catch (ProtocolException e) {
      assertThat(e.sqlState()).hasSize(5);
      assertThat(input).isEqualTo(original);
      return;
    }
    assertThat(in.readerIndex()).isEqualTo(length);
    assertThat(input).isEqualTo(original);
    assertThat(message.toString()).isNotEmpty();

    byte[] encoded = Wire.encode(message);
    assertThat(encoded).isEqualTo(Arrays.copyOf(input, length));
    assertThat(StartupPackets.decode(Unpooled.wrappedBuffer(encoded), LIMITS)).isEqualTo(message);
  }
}
