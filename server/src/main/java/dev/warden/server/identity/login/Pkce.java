package dev.warden.server.identity.login;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;

/**
 * A PKCE pair (RFC 7636): a random verifier kept here and its S256 challenge sent with the
 * authorization request, so a code intercepted on its way to the loopback listener is useless.
 *
 * @param verifier 43 characters of base64url from 32 random bytes (§4.1)
 * @param challenge {@code BASE64URL(SHA256(verifier))} (§4.2)
 */
public record Pkce(String verifier, String challenge) {
  public static Pkce generate(SecureRandom random) {
    String verifier = randomToken(random);
    return new Pkce(verifier, challenge(verifier));
  }

  static String challenge(String verifier) {
    try {
      byte[] digest =
          MessageDigest.getInstance("SHA-256").digest(verifier.getBytes(StandardCharsets.US_ASCII));
      return Base64.getUrlEncoder().withoutPadding().encodeToString(digest);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java platform has SHA-256", e);
    }
  }

  /** 32 random bytes as base64url, for verifiers, states and nonces. */
  public static String randomToken(SecureRandom random) {
    byte[] bytes = new byte[32];
    random.nextBytes(bytes);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }
}
