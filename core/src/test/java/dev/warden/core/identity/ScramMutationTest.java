package dev.warden.core.identity;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.time.Instant;
import java.util.Arrays;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Random mutations of valid SCRAM messages, on both ends: only {@link AuthenticationFailure} may
 * escape, a mutated proof or signature never verifies, and an unknown user always fails the same
 * way as a known one. This complements {@link ScramFuzzTest}: Jazzer 0.24 cannot instrument Java 25
 * classes, so its fuzzing here is blind, while these mutations start from valid messages and so
 * reach the deep checks. The seed is fixed so that a failure replays.
 */
class ScramMutationTest {
  private static final long SEED = 0x5C4A_1234L;
  private static final int ROUNDS = 4_000;
  private static final String CLIENT_NONCE = "mutationClientNonce";
  private static final String SERVER_NONCE = "mutationServerNonce";
  private static final byte[] SALT = "sixteen byte slt".getBytes(UTF_8);

  private final Random random = new Random(SEED);

  @Test
  void mutatedClientMessagesNeverGetInAndNeverEscapeAsAnythingElse() throws Exception {
    InMemoryUsers users = new InMemoryUsers();
    users.put(
        new LocalUser(
            "alice",
            Set.of(),
            ScramCredentials.derive(Secret.of("pencil"), SALT, 1),
            Instant.EPOCH));
    ScramServer server = new ScramServer(users, Secret.of("mock"), () -> SERVER_NONCE);
    ScramClient client = new ScramClient(Secret.of("pencil"), "", () -> CLIENT_NONCE, 10);
    byte[] first = client.clientFirstMessage();
    byte[] validFinal = client.clientFinalMessage(server.begin("alice").clientFirst(first));

    for (int round = 0; round < ROUNDS; round++) {
      boolean mutateFirst = random.nextBoolean();
      byte[] f = mutateFirst ? mutate(first) : first;
      byte[] c = mutateFirst ? validFinal : mutate(validFinal);
      for (String user : new String[] {"alice", "mallory"}) {
        ScramServer.Exchange exchange = server.begin(user);
        try {
          exchange.clientFirst(f);
          exchange.clientFinal(c);
          // Only a mutation that changed nothing may pass: any other byte is in the AuthMessage
          // or is the proof itself.
          assertThat(user).as("round %d", round).isEqualTo("alice");
          assertThat(f).as("round %d", round).isEqualTo(first);
          assertThat(c).as("round %d", round).isEqualTo(validFinal);
        } catch (AuthenticationFailure expected) {
          assertThat(expected.getMessage()).doesNotContain("pencil");
        } catch (RuntimeException e) {
          fail("round %d escaped with %s on %s", round, e, printable(mutateFirst ? f : c));
        }
      }
    }
  }

  @Test
  void mutatedServerMessagesNeverCompleteAndNeverEscapeAsAnythingElse() throws Exception {
    InMemoryUsers users = new InMemoryUsers();
    users.put(
        new LocalUser(
            "alice",
            Set.of(),
            ScramCredentials.derive(Secret.of("pencil"), SALT, 1),
            Instant.EPOCH));
    ScramServer.Exchange exchange =
        new ScramServer(users, Secret.of("mock"), () -> SERVER_NONCE).begin("alice");
    ScramClient reference = new ScramClient(Secret.of("pencil"), "", () -> CLIENT_NONCE, 10);
    byte[] serverFirst = exchange.clientFirst(reference.clientFirstMessage());
    byte[] serverFinal =
        exchange.clientFinal(reference.clientFinalMessage(serverFirst)).serverFinalMessage();

    for (int round = 0; round < ROUNDS; round++) {
      boolean mutateFirst = random.nextBoolean();
      byte[] s1 = mutateFirst ? mutate(serverFirst) : serverFirst;
      byte[] s2 = mutateFirst ? serverFinal : mutate(serverFinal);
      ScramClient client = new ScramClient(Secret.of("pencil"), "", () -> CLIENT_NONCE, 10);
      client.clientFirstMessage();
      try {
        client.clientFinalMessage(s1);
        client.verifyServerFinal(s2);
        // A changed server-first changes the AuthMessage, so the old signature must not verify.
        assertThat(s1).as("round %d", round).isEqualTo(serverFirst);
        assertThat(s2).as("round %d", round).isEqualTo(serverFinal);
      } catch (AuthenticationFailure expected) {
        assertThat(client.isComplete()).isFalse();
        assertThat(expected.getMessage()).doesNotContain("\n");
      } catch (RuntimeException e) {
        fail("round %d escaped with %s on %s", round, e, printable(mutateFirst ? s1 : s2));
      }
    }
  }

  private byte[] mutate(byte[] original) {
    byte[] out = original.clone();
    int edits = 1 + random.nextInt(3);
    for (int e = 0; e < edits; e++) {
      out =
          switch (random.nextInt(6)) {
            case 0 -> flipBit(out);
            case 1 -> replaceByte(out, interestingByte());
            case 2 -> insert(out, interestingByte());
            case 3 -> delete(out);
            case 4 -> Arrays.copyOf(out, random.nextInt(out.length + 1));
            default -> duplicateRange(out);
          };
    }
    return out;
  }

  private byte interestingByte() {
    byte[] interesting = {',', '=', 0, (byte) 0x80, (byte) 0xC3, (byte) 0xFF, 'a', '9', '/', '+'};
    return random.nextBoolean()
        ? interesting[random.nextInt(interesting.length)]
        : (byte) random.nextInt(256);
  }

  private byte[] flipBit(byte[] b) {
    if (b.length == 0) {
      return b;
    }
    byte[] out = b.clone();
    out[random.nextInt(out.length)] ^= (byte) (1 << random.nextInt(8));
    return out;
  }

  private byte[] replaceByte(byte[] b, byte value) {
    if (b.length == 0) {
      return b;
    }
    byte[] out = b.clone();
    out[random.nextInt(out.length)] = value;
    return out;
  }

  private byte[] insert(byte[] b, byte value) {
    int at = random.nextInt(b.length + 1);
    byte[] out = new byte[b.length + 1];
    System.arraycopy(b, 0, out, 0, at);
    out[at] = value;
    System.arraycopy(b, at, out, at + 1, b.length - at);
    return out;
  }

  private byte[] delete(byte[] b) {
    if (b.length == 0) {
      return b;
    }
    int at = random.nextInt(b.length);
    byte[] out = new byte[b.length - 1];
    System.arraycopy(b, 0, out, 0, at);
    System.arraycopy(b, at + 1, out, at, b.length - at - 1);
    return out;
  }

  private byte[] duplicateRange(byte[] b) {
    if (b.length == 0) {
      return b;
    }
    int from = random.nextInt(b.length);
    int to = from + random.nextInt(b.length - from) + 1;
    int times = 1 + random.nextInt(random.nextBoolean() ? 3 : 200);
    byte[] range = Arrays.copyOfRange(b, from, to);
    byte[] out = Arrays.copyOf(b, b.length + range.length * times);
    for (int t = 0; t < times; t++) {
      System.arraycopy(range, 0, out, b.length + t * range.length, range.length);
    }
    return out;
  }

  private static String printable(byte[] b) {
    StringBuilder s = new StringBuilder();
    for (byte x : b) {
      s.append(x >= 0x20 && x < 0x7F ? String.valueOf((char) x) : String.format("\\x%02x", x));
    }
    return s.toString();
  }
}
