package dev.warden.testkit;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * SCRAM-SHA-256 (RFC 5802, RFC 7677) for tests, on both sides, with the knobs an attacker has: the
 * name in {@code n=}, the GS2 header (channel-binding flag), a spoiled proof, a replaced nonce. It
 * is deliberately separate from Warden's own implementation, so that a shared bug cannot make a
 * test pass. Passwords are used as UTF-8 bytes (SASLprep is the identity for ASCII).
 */
public final class Scram {
  private static final Base64.Encoder B64 = Base64.getEncoder();
  private static final Base64.Decoder B64D = Base64.getDecoder();

  private Scram() {}

  /** One client exchange. Not thread-safe. */
  public static final class Client {
    private final byte[] password;
    private final String saslName;
    private final String gs2Header;
    private final String nonce;
    private String clientFirstBare;
    private byte[] expectedServerSignature;

    Client(String password, String saslName, String gs2Header, String nonce) {
      this.password = password.getBytes(StandardCharsets.UTF_8);
      this.saslName = saslName;
      this.gs2Header = gs2Header;
      this.nonce = nonce;
    }

    /** client-first-message: the GS2 header, {@code n=<saslName>}, {@code r=<nonce>}. */
    public byte[] clientFirst() {
      clientFirstBare = "n=" + saslName + ",r=" + nonce;
      return utf8(gs2Header + clientFirstBare);
    }

    /** client-final-message with the right proof for {@code serverFirst}. */
    public byte[] clientFinal(byte[] serverFirst) {
      return clientFinal(serverFirst, false, null);
    }

    /** client-final-message whose proof has one bit flipped. */
    public byte[] clientFinalWithWrongProof(byte[] serverFirst) {
      return clientFinal(serverFirst, true, null);
    }

    /** client-final-message that names {@code nonce} instead of the one the server chose. */
    public byte[] clientFinalWithNonce(byte[] serverFirst, String nonce) {
      return clientFinal(serverFirst, false, nonce);
    }

    private byte[] clientFinal(byte[] serverFirst, boolean spoilProof, String otherNonce) {
      String first = new String(serverFirst, StandardCharsets.UTF_8);
      String serverNonce = attribute(first, "r=");
      byte[] salt = B64D.decode(attribute(first, "s="));
      int iterations = Integer.parseInt(attribute(first, "i="));
      String withoutProof =
          "c="
              + B64.encodeToString(utf8(gs2Header))
              + ",r="
              + (otherNonce == null ? serverNonce : otherNonce);
      String authMessage = clientFirstBare + "," + first + "," + withoutProof;
      byte[] salted = saltedPassword(password, salt, iterations);
      byte[] clientKey = hmac(salted, utf8("Client Key"));
      byte[] signature = hmac(sha256(clientKey), utf8(authMessage));
      byte[] proof = new byte[clientKey.length];
      for (int i = 0; i < proof.length; i++) {
        proof[i] = (byte) (clientKey[i] ^ signature[i]);
      }
      if (spoilProof) {
        proof[0] ^= 1;
      }
      expectedServerSignature = hmac(hmac(salted, utf8("Server Key")), utf8(authMessage));
      return utf8(withoutProof + ",p=" + B64.encodeToString(proof));
    }

    /** True if {@code serverFinal} is {@code v=} with the signature a real server would send. */
    public boolean verifyServerFinal(byte[] serverFinal) {
      String text = new String(serverFinal, StandardCharsets.UTF_8);
      return text.startsWith("v=")
          && MessageDigest.isEqual(B64D.decode(text.substring(2)), expectedServerSignature);
    }
  }

  /** A client as PostgreSQL's own: no channel binding ({@code n,,}) and an empty {@code n=}. */
  public static Client client(String password) {
    return client(password, "", "n,,");
  }

  /**
   * A client with a chosen name in {@code n=} and a chosen GS2 header, e.g. {@code
   * p=tls-server-end-point,,}.
   */
  public static Client client(String password, String saslName, String gs2Header) {
    byte[] nonce = new byte[18];
    new SecureRandom().nextBytes(nonce);
    return new Client(password, saslName, gs2Header, B64.encodeToString(nonce));
  }

  /** The value of {@code key} (e.g. {@code "r="}) in a comma-separated SCRAM message. */
  public static String attribute(String message, String key) {
    for (String part : message.split(",", -1)) {
      if (part.startsWith(key)) {
        return part.substring(key.length());
      }
    }
    throw new IllegalArgumentException("no " + key + " in SCRAM message");
  }

  /** The server signature a real server with this password would send for {@code authMessage}. */
  public static byte[] serverSignature(
      String password, byte[] salt, int iterations, String authMessage) {
    byte[] salted = saltedPassword(utf8(password), salt, iterations);
    return hmac(hmac(salted, utf8("Server Key")), utf8(authMessage));
  }

  /** Hi() of RFC 5802: PBKDF2 with HMAC-SHA-256 and one block. */
  static byte[] saltedPassword(byte[] password, byte[] salt, int iterations) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(password, "HmacSHA256"));
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
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  static byte[] hmac(byte[] key, byte[] data) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      return mac.doFinal(data);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  static byte[] sha256(byte[] data) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(data);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
