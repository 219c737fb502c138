package dev.warden.core.identity;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.time.Instant;
import java.util.Arrays;
import java.util.Set;

/**
 * Coverage-guided fuzzing of both ends of SCRAM: whatever the peer sends, the only failure is an
 * {@link AuthenticationFailure}, and an unknown user looks like a known one.
 *
 * <p>Each input is two messages separated by the first NUL byte. A plain {@code mvn test} replays
 * the committed seeds in {@code src/test/resources/dev/warden/core/identity/ScramFuzzTestInputs/};
 * to fuzz for real: {@code JAZZER_FUZZ=1 mvn -pl core test -Dtest=ScramFuzzTest}.
 */
class ScramFuzzTest {
  static final String CLIENT_NONCE = "fuzzClientNonce";
  static final String SERVER_NONCE = "fuzzServerNonce";
  static final String PASSWORD = "pencil";
  static final byte[] SALT = new byte[16];

  private static final ScramServer SERVER = server();

  /**
   * The known user "alice" and the unknown "mallory" get the same answer to every client-first (or
   * the same failure), and mallory never gets in.
   */
  @FuzzTest(maxDuration = "10m")
  void serverExchange(byte[] input) {
    byte[][] messages = split(input);
    ScramServer.Exchange known = SERVER.begin("alice");
    ScramServer.Exchange unknown = SERVER.begin("mallory");

    Outcome knownFirst = attempt(() -> known.clientFirst(messages[0]));
    Outcome unknownFirst = attempt(() -> unknown.clientFirst(messages[0]));
    assertThat(unknownFirst.reason()).isEqualTo(knownFirst.reason());
    if (knownFirst.reason() != null) {
      return;
    }
    assertThat(unknownFirst.bytes()).hasSameSizeAs(knownFirst.bytes());

    Outcome knownFinal = attempt(() -> known.clientFinal(messages[1]).serverFinalMessage());
    Outcome unknownFinal = attempt(() -> unknown.clientFinal(messages[1]).serverFinalMessage());
    assertThat(unknownFinal.reason()).isNotNull();
    if (knownFinal.reason() == AuthenticationFailure.Reason.BAD_PASSWORD
        || knownFinal.reason() == null) {
      assertThat(unknownFinal.reason()).isEqualTo(AuthenticationFailure.Reason.UNKNOWN_USER);
    } else {
      assertThat(unknownFinal.reason()).isEqualTo(knownFinal.reason());
    }
  }

  /** A hostile server's two messages never make the client throw anything else, or complete. */
  @FuzzTest(maxDuration = "10m")
  void clientExchange(byte[] input) {
    byte[][] messages = split(input);
    ScramClient client = new ScramClient(Secret.of(PASSWORD), "", () -> CLIENT_NONCE, 4096);
    client.clientFirstMessage();
    try {
      client.clientFinalMessage(messages[0]);
      client.verifyServerFinal(messages[1]);
      assertThat(client.isComplete()).isTrue();
    } catch (AuthenticationFailure e) {
      assertThat(client.isComplete()).isFalse();
      assertThat(e.getMessage()).doesNotContain("\n").doesNotContain("\r");
    }
  }

  private static ScramServer server() {
    InMemoryUsers users = new InMemoryUsers();
    users.put(
        new LocalUser(
            "alice",
            Set.of(),
            ScramCredentials.derive(Secret.of(PASSWORD), SALT, ScramCredentials.DEFAULT_ITERATIONS),
            Instant.EPOCH));
    return new ScramServer(users, Secret.of("fuzz mock key"), () -> SERVER_NONCE);
  }

  private static byte[][] split(byte[] input) {
    for (int i = 0; i < input.length; i++) {
      if (input[i] == 0) {
        return new byte[][] {
          Arrays.copyOfRange(input, 0, i), Arrays.copyOfRange(input, i + 1, input.length)
        };
      }
    }
    return new byte[][] {input, new byte[0]};
  }

  private record Outcome(byte[] bytes, AuthenticationFailure.Reason reason) {}

  @FunctionalInterface
  private interface Step {
    byte[] run() throws AuthenticationFailure;
  }

  private static Outcome attempt(Step step) {
    try {
      return new Outcome(step.run(), null);
    } catch (AuthenticationFailure e) {
      assertThat(e.getMessage()).doesNotContain(PASSWORD);
      return new Outcome(null, e.reason());
    }
  }
}
