package dev.warden.core.identity;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Arrays;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/** The SCRAM-SHA-256 key schedule of RFC 5802 §3, with SHA-256 as RFC 7677 fixes it. */
final class ScramKeys {
  static final int KEY_LENGTH = 32;
  private static final String HMAC = "HmacSHA256";
  private static final byte[] CLIENT_KEY = "Client Key".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] SERVER_KEY = "Server Key".getBytes(StandardCharsets.US_ASCII);

  private ScramKeys() {}

  /**
   * Hi() of RFC 5802 §2.2, which is PBKDF2 with HMAC-SHA-256 and one output block. Written out
   * rather than taken from {@code SecretKeyFactory} because that API wants a {@code char[]}, and
   * the password here is bytes that need not be valid UTF-8 (PostgreSQL hashes the raw bytes when
   * SASLprep fails).
   */
  static byte[] saltedPassword(byte[] password, byte[] salt, int iterations) {
    if (iterations < 1) {
      throw new IllegalArgumentException("iterations must be positive");
    }
    Mac mac = mac(password);
    mac.update(salt);
    byte[] u = mac.doFinal(new byte[] {0, 0, 0, 1});
    byte[] result = u.clone();
    for (int i = 1; i < iterations; i++) {
      u = mac.doFinal(u);
      for (int j = 0; j < result.length; j++) {
        result[j] ^= u[j];
      }
    }
    return result;
  }

  static byte[] clientKey(byte[] saltedPassword) {
    return hmac(saltedPassword, CLIENT_KEY);
  }

  static byte[] serverKey(byte[] saltedPassword) {
    return hmac(saltedPassword, SERVER_KEY);
  }

  static byte[] hmac(byte[] key, byte[] data) {
    return mac(key).doFinal(data);
  }

  static byte[] sha256(byte[] data) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(data);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("SHA-256 is missing from this JDK", e);
    }
  }

  static byte[] xor(byte[] a, byte[] b) {
    if (a.length != b.length) {
      throw new IllegalArgumentException("lengths differ");
    }
    byte[] out = new byte[a.length];
    for (int i = 0; i < a.length; i++) {
      out[i] = (byte) (a[i] ^ b[i]);
    }
    return out;
  }

  /** Derives the stored credential from the salted password, then forgets the salted password. */
  static ScramCredential credential(byte[] normalizedPassword, byte[] salt, int iterations) {
    byte[] salted = saltedPassword(normalizedPassword, salt, iterations);
    try {
      return new ScramCredential(salt, iterations, sha256(clientKey(salted)), serverKey(salted));
    } finally {
      Arrays.fill(salted, (byte) 0);
    }
  }

  private static Mac mac(byte[] key) {
    try {
      Mac mac = Mac.getInstance(HMAC);
      mac.init(new SecretKeySpec(key, HMAC));
      return mac;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HMAC-SHA-256 is missing from this JDK", e);
    }
  }
}
