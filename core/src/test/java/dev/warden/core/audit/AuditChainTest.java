package dev.warden.core.audit;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The chain's hashes are exactly what THREATS §6.3 and docs/audit.md say, for any seq. */
class AuditChainTest {
  private static byte[] reference(byte[] previous, long seq, byte[] payload) throws Exception {
    MessageDigest sha = MessageDigest.getInstance("SHA-256");
    sha.update((byte) 0x01);
    sha.update(previous);
    sha.update(ByteBuffer.allocate(8).putLong(seq).array());
    sha.update(payload);
    return sha.digest();
  }

  @Test
  void nextIsSha256OfTheDomainByteThePreviousHashTheBigEndianSeqAndThePayload() throws Exception {
    Random random = new Random(4);
    byte[] h = AuditChain.genesis("w-test");
    MessageDigest genesis = MessageDigest.getInstance("SHA-256");
    genesis.update((byte) 0x00);
    genesis.update("w-test".getBytes(StandardCharsets.UTF_8));
    assertThat(h).isEqualTo(genesis.digest());
    for (long seq :
        new long[] {1, 2, 255, 256, 65_537, Integer.MAX_VALUE + 3L, Long.MAX_VALUE, -1, 0}) {
      byte[] payload = new byte[random.nextInt(2000)];
      random.nextBytes(payload);
      byte[] expected = reference(h, seq, payload);
      assertThat(AuditChain.next(h, seq, payload)).as("seq " + seq).isEqualTo(expected);
      assertThat(AuditChain.next(h, seq, payload)).as("again, reused digest").isEqualTo(expected);
      h = expected;
    }
  }
}
