package dev.warden.protocol.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.Arrays;

/**
 * Coverage-guided fuzzing of the backend decoder, i.e. of what a malicious upstream can send
 * (THREATS P14). Input layout: type byte, then the body.
 *
 * <p>A plain {@code mvn test} replays the committed seeds in {@code
 * src/test/resources/dev/warden/protocol/postgres/BackendMessagesFuzzTestInputs/backendMessage/}.
 * To fuzz for real: {@code JAZZER_FUZZ=1 mvn -pl protocol-postgres test -Djazzer.version=0.30.0
 * -Dtest=BackendMessagesFuzzTest}. The managed Jazzer 0.24.0 cannot instrument Java 25 class files,
 * so under it the fuzzer runs without coverage feedback; 0.30.0 can.
 */
class BackendMessagesFuzzTest {
  private static final Limits LIMITS = Limits.defaults();

  /**
   * Only ProtocolException may escape; whatever decodes consumes its whole body, leaves the input
   * untouched, passes the frame check, re-encodes to the same bytes and decodes back to an equal
   * record.
   */
  @FuzzTest(maxDuration = "10m")
  void backendMessage(byte[] input) {
    if (input.length == 0) {
      return;
    }
    byte type = input[0];
    byte[] body = Arrays.copyOfRange(input, 1, input.length);
    byte[] original = body.clone();
    ByteBuf buffer = Unpooled.wrappedBuffer(body);

    BackendMessage message;
    try {
      message = BackendMessages.decode(type, buffer);
    } catch (ProtocolException e) {
      assertThat(e.sqlState()).hasSize(5);
      assertThat(body).isEqualTo(original);
      return;
    }
    assertThat(buffer.isReadable()).isFalse();
    assertThat(body).isEqualTo(original);
    assertThat(message.toString()).isNotEmpty();
    assertThatCode(() -> Frames.checkBackend(type, body.length + 4L, LIMITS))
        .doesNotThrowAnyException();

    byte[] encoded = Wire.encode(message);
    assertThat(encoded).isEqualTo(Wire.frame(type, body));
    assertThat(BackendMessages.decode(type, Wire.body(encoded))).isEqualTo(message);
  }
}
