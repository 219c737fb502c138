package dev.warden.core.identity;

import dev.warden.core.identity.AuthenticationFailure.Reason;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.function.Supplier;

/**
 * The grammar of RFC 5802 §7, shared by both ends. Every check fails with the reason the caller
 * chose, so the server reports {@code MALFORMED_MESSAGE} and the client {@code UPSTREAM_REJECTED}
 * for the same defect.
 */
final class ScramSyntax {
  /** Longest nonce accepted from a peer, in characters (THREATS P15: a 100 KB nonce). */
  static final int MAX_NONCE_LENGTH = 256;

  /** Random bytes in a nonce we make; PostgreSQL uses the same ({@code SCRAM_RAW_NONCE_LEN}). */
  static final int RAW_NONCE_LENGTH = 18;

  private ScramSyntax() {}

  /** A nonce source of base64 text, which is always printable and never holds a comma. */
  static Supplier<String> randomNonces(java.security.SecureRandom random) {
    return () -> {
      byte[] raw = new byte[RAW_NONCE_LENGTH];
      random.nextBytes(raw);
      return Base64.getEncoder().encodeToString(raw);
    };
  }

  /** Strict UTF-8 decoding after the size check, so nothing large is ever decoded. */
  static String text(byte[] message, int maxBytes, Reason reason, String what)
      throws AuthenticationFailure {
    if (message == null) {
      throw new AuthenticationFailure(reason, what + " is missing");
    }
    if (message.length > maxBytes) {
      throw new AuthenticationFailure(
          reason, what + " is " + message.length + " bytes, more than " + maxBytes);
    }
    try {
      return StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(message))
          .toString();
    } catch (CharacterCodingException e) {
      throw new AuthenticationFailure(reason, what + " is not valid UTF-8");
    }
  }

  /** Splits on commas, keeping empty fields: "a,,b" is three fields. */
  static List<String> fields(String message) {
    return List.of(message.split(",", -1));
  }

  /**
   * The value of an {@code x=value} field, or a failure naming the attribute that was expected.
   * Only the attribute name of what arrived is described: values can be proofs, which must not
   * reach a log (a proof with its AuthMessage is enough for an offline dictionary attack).
   */
  static String attribute(String field, char name, Reason reason, String what)
      throws AuthenticationFailure {
    if (field.length() < 2 || field.charAt(0) != name || field.charAt(1) != '=') {
      throw new AuthenticationFailure(
          reason,
          what
              + ": expected attribute '"
              + name
              + "', got "
              + describe(field.substring(0, Math.min(2, field.length()))));
    }
    return field.substring(2);
  }

  /** RFC 5802 {@code printable}: %x21-2B / %x2D-7E, at most {@link #MAX_NONCE_LENGTH} chars. */
  static boolean validNonce(String nonce) {
    if (nonce.isEmpty() || nonce.length() > MAX_NONCE_LENGTH) {
      return false;
    }
    for (int i = 0; i < nonce.length(); i++) {
      char c = nonce.charAt(i);
      if (c < 0x21 || c > 0x7E || c == ',') {
        return false;
      }
    }
    return true;
  }

  /**
   * RFC 5802 {@code saslname}: no NUL, and '=' only in the escapes =2C and =3D. PostgreSQL clients
   * send it empty, which RFC 5802 does not allow but PostgreSQL does.
   */
  static boolean validSaslName(String name) {
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      if (c == 0) {
        return false;
      }
      if (c == '=') {
        if (!(name.startsWith("=2C", i) || name.startsWith("=3D", i))) {
          return false;
        }
        i += 2;
      }
    }
    return true;
  }

  /**
   * Decodes canonical base64 only: the JDK decoder tolerates missing padding and stray low bits,
   * and two encodings of one value would let a peer vary bytes that are hashed into the
   * AuthMessage. The length is checked before decoding.
   */
  static byte[] base64(String value, int maxBytes, Reason reason, String what)
      throws AuthenticationFailure {
    long maxChars = 4L * ((maxBytes + 2L) / 3L);
    if (value.isEmpty() || value.length() > maxChars) {
      throw new AuthenticationFailure(reason, what + " has a bad length");
    }
    byte[] decoded;
    try {
      decoded = Base64.getDecoder().decode(value);
    } catch (IllegalArgumentException e) {
      throw new AuthenticationFailure(reason, what + " is not base64");
    }
    if (decoded.length == 0
        || decoded.length > maxBytes
        || !Base64.getEncoder().encodeToString(decoded).equals(value)) {
      throw new AuthenticationFailure(reason, what + " is not canonical base64");
    }
    return decoded;
  }

  static String base64(byte[] value) {
    return Base64.getEncoder().encodeToString(value);
  }

  static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  /**
   * A peer's text, made safe for a log line: printable ASCII only and at most 32 characters, so a
   * hostile peer can neither inject lines nor flood the log.
   */
  static String describe(String peerText) {
    StringBuilder out = new StringBuilder("'");
    int n = Math.min(peerText.length(), 32);
    for (int i = 0; i < n; i++) {
      char c = peerText.charAt(i);
      out.append(c >= 0x20 && c < 0x7F ? c : '?');
    }
    return out.append(peerText.length() > n ? "...'" : "'").toString();
  }
}
