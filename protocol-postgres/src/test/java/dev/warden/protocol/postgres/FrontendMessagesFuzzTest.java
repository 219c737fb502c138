package dev.warden.protocol.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.Arrays;

/**
 * Coverage-guided fuzzing of the typed frontend decoders, the three {@code 'p'} variants included.
 * Input layout: type byte, then the body; for type {@code 'p'} a second byte chooses the decoder (0
 * PasswordMessage, 1 SASLInitialResponse, 2 SASLResponse, modulo 3).
 *
 * <p>A plain {@code mvn test} replays the committed seeds in {@code
 * src/test/resources/dev/warden/protocol/postgres/FrontendMessagesFuzzTestInputs/frontendMessage/}.
 * To fuzz for real: {@code JAZZER_FUZZ=1 mvn -pl protocol-postgres test -Djazzer.version=0.30.0
 * -Dtest=FrontendMessagesFuzzTest}. The managed Jazzer 0.24.0 cannot instrument Java 25 class
 * files, so under it the fuzzer runs without coverage feedback; 0.30.0 can.
 */
class FrontendMessagesFuzzTest {
  private static final Limits LIMITS = Limits.defaults();

  /**
   * Only ProtocolException may escape; whatever decodes consumes its whole body, leaves the input
   * untouched, passes the frame check, re-encodes to the same bytes and decodes back to an equal
   * record.
   */
  @FuzzTest(maxDuration = "10m")
  void frontendMessage(byte[] input) {
    if (input.length == 0) {
      return;
    }
    byte type = input[0];
    int variant = type == PasswordMessage.TYPE && input.length > 1 ? (input[1] & 0xFF) % 3 : 0;
    int bodyStart = type == PasswordMessage.TYPE ? Math.min(2, input.length) : 1;
    byte[] body = Arrays.copyOfRange(input, bodyStart, input.length);
    byte[] original = body.clone();
    ByteBuf buffer = Unpooled.wrappedBuffer(body);

    FrontendMessage message;
    try {
      message = decode(type, variant, buffer);
    } catch (ProtocolException e) {
      assertThat(e.sqlState()).hasSize(5);
      assertThat(body).isEqualTo(original);
      return;
    }
    assertThat(buffer.isReadable()).isFalse();
    assertThat(body).isEqualTo(original);
    assertThat(message.toString()).isNotEmpty();
    assertThatCode(() -> Frames.checkFrontend(type, body.length + 4L, LIMITS))
        .doesNotThrowAnyException();

    byte[] encoded = Wire.encode(message);
    assertThat(encoded).isEqualTo(Wire.frame(type, body));
    assertThat(decode(type, variant, Wire.body(encoded))).isEqualTo(message);
  }

  private static FrontendMessage decode(byte type, int variant, ByteBuf body) {
    if (type != PasswordMessage.TYPE) {
      return FrontendMessages.decode(type, body);
    }
    return switch (variant) {
      case 0 -> FrontendMessages.decodePasswordMessage(body);
      case 1 -> FrontendMessages.decodeSASLInitialResponse(body);
      default -> FrontendMessages.decodeSASLResponse(body);
    };
  }
}
