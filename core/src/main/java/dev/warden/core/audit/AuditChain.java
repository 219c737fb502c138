package dev.warden.core.audit;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;

/**
 * The hash chain of an audit log (THREATS §6): {@code h_0 = SHA-256(0x00 ‖ log_id)} and {@code h_n
 * = SHA-256(0x01 ‖ h_{n-1} ‖ u64 seq_n ‖ payload_n)}. The domain bytes keep a genesis hash from
 * ever equalling a record hash; the sequence number inside the hash makes a record valid at one
 * position only. A chain alone proves nothing against someone who can rewrite the whole file: that
 * is what signed {@link Checkpoint}s held by a witness are for.
 */
public final class AuditChain {
  private AuditChain() {}

  /** The hash before the first record of the log {@code logId}. */
  public static byte[] genesis(String logId) {
    MessageDigest sha = sha256();
    sha.update((byte) 0x00);
    sha.update(logId.getBytes(StandardCharsets.UTF_8));
    return sha.digest();
  }

  /** The hash after record {@code seq} with {@code payload}, following {@code previous}. */
  public static byte[] next(byte[] previous, long seq, byte[] payload) {
    // One digest per thread: this runs for every record a writer chains or a verifier checks, and
    // looking a digest up costs more than hashing a short record.
    Hasher h = HASHER.get();
    MessageDigest sha = h.sha;
    sha.update((byte) 0x01);
    sha.update(previous);
    byte[] s = h.seq;
    for (int i = 7; i >= 0; i--) {
      s[i] = (byte) seq;
      seq >>>= 8;
    }
    sha.update(s);
    sha.update(payload);
    return sha.digest(); // digest() also resets it for the next record
  }

  private record Hasher(MessageDigest sha, byte[] seq) {}

  private static final ThreadLocal<Hasher> HASHER =
      ThreadLocal.withInitial(() -> new Hasher(sha256(), new byte[8]));

  /** Chains {@code payloads} from the start of log {@code logId}: what an honest writer stores. */
  public static List<ChainedRecord> chain(String logId, List<byte[]> payloads) {
    List<ChainedRecord> records = new ArrayList<>(payloads.size());
    byte[] h = genesis(logId);
    long seq = 0;
    for (byte[] payload : payloads) {
      h = next(h, ++seq, payload);
      records.add(new ChainedRecord(seq, payload, h));
    }
    return records;
  }

  static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no SHA-256", e);
    }
  }
}
