package dev.warden.core.masking;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The secret behind the keyed strategies. Two keys are derived from the server's secret, one per
 * strategy, so that a pseudonym and a format-preserving replacement of the same value are unrelated
 * and neither reveals the other. The secret itself is not kept, and this object never prints it.
 */
final class MaskingKey {
  /** The shortest secret accepted: 128 bits. */
  static final int MIN_SECRET_BYTES = 16;

  private static final String HMAC = "HmacSHA256";

  /** What the derived key is used for; each purpose has its own key. */
  enum Purpose {
    PSEUDONYM("warden masking pseudonym v1"),
    FORMAT_PRESERVING("warden masking format-preserving v1");

    private final byte[] label;

    Purpose(String label) {
      this.label = label.getBytes(StandardCharsets.US_ASCII);
    }
  }

  private final byte[] pseudonymKey;
  private final byte[] formatKey;
  // Mac objects are not thread-safe; event loop threads are few and long-lived.
  private final ThreadLocal<Mac> pseudonymMac;
  private final ThreadLocal<Mac> formatMac;

  private MaskingKey(byte[] secret) {
    this.pseudonymKey = hmac(secret, Purpose.PSEUDONYM.label);
    this.formatKey = hmac(secret, Purpose.FORMAT_PRESERVING.label);
    this.pseudonymMac = ThreadLocal.withInitial(() -> mac(pseudonymKey));
    this.formatMac = ThreadLocal.withInitial(() -> mac(formatKey));
  }

  /**
   * A key from {@code secret}, which must hold at least {@link #MIN_SECRET_BYTES} bytes.
   *
   * @throws IllegalArgumentException when the secret is too short
   */
  static MaskingKey of(byte[] secret) {
    if (secret == null || secret.length < MIN_SECRET_BYTES) {
      throw new IllegalArgumentException(
          "the masking key must have at least " + MIN_SECRET_BYTES + " bytes");
    }
    return new MaskingKey(secret);
  }

  /** HMAC-SHA256 of the value's UTF-8 bytes under the purpose's key: 32 bytes. */
  byte[] digest(Purpose purpose, String value) {
    Mac mac = purpose == Purpose.PSEUDONYM ? pseudonymMac.get() : formatMac.get();
    return mac.doFinal(value.getBytes(StandardCharsets.UTF_8));
  }

  /**
   * An endless keyed byte stream determined by the value: the value is hashed once, and each
   * further block hashes only the seed and a counter, so the cost stays linear in what is read.
   */
  Stream stream(Purpose purpose, String value) {
    return new Stream(purpose == Purpose.PSEUDONYM ? pseudonymMac.get() : formatMac.get(), value);
  }

  /** Bytes of a keyed stream, read one at a time. Confined to the thread that made it. */
  static final class Stream {
    private final Mac mac;
    private final byte[] seed;
    private byte[] block;
    private int pos;
    private int counter;

    private Stream(Mac mac, String value) {
      this.mac = mac;
      this.seed = mac.doFinal(value.getBytes(StandardCharsets.UTF_8));
      this.block = seed;
    }

    /** The next byte, 0 to 255. */
    int next() {
      if (pos == block.length) {
        mac.update(seed);
        counter++;
        mac.update(
            new byte[] {
              (byte) (counter >>> 24),
              (byte) (counter >>> 16),
              (byte) (counter >>> 8),
              (byte) counter
            });
        block = mac.doFinal();
        pos = 0;
      }
      return block[pos++] & 0xff;
    }

    /** A number from {@code 0} to {@code bound - 1} (with the small bias of a modulo, harmless). */
    int below(int bound) {
      return next() % bound;
    }
  }

  private static byte[] hmac(byte[] key, byte[] data) {
    return mac(key).doFinal(data);
  }

  private static Mac mac(byte[] key) {
    try {
      Mac mac = Mac.getInstance(HMAC);
      mac.init(new SecretKeySpec(key, HMAC));
      return mac;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("the JDK always has " + HMAC, e);
    }
  }

  /** Same derived keys: the same secret. Compared in constant time. */
  @Override
  public boolean equals(Object o) {
    return o instanceof MaskingKey k
        && MessageDigest.isEqual(k.pseudonymKey, pseudonymKey)
        && MessageDigest.isEqual(k.formatKey, formatKey);
  }

  @Override
  public int hashCode() {
    return 1;
  }

  @Override
  public String toString() {
    return "MaskingKey[secret]";
  }
}
