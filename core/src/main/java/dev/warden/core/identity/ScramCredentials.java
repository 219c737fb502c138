package dev.warden.core.identity;

import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Derives SCRAM-SHA-256 verifiers (RFC 5802 §3, RFC 7677) from passwords. The password is
 * normalised with SASLprep exactly as PostgreSQL does it, so a verifier made here is the one that
 * PostgreSQL would store for the same password, and psql, libpq and pgjdbc log in with it.
 */
public final class ScramCredentials {
  /** PostgreSQL's default ({@code scram_iterations}), and the count the mock exchange shows. */
  public static final int DEFAULT_ITERATIONS = 4096;

  /** PostgreSQL's salt length ({@code SCRAM_DEFAULT_SALT_LEN}). */
  static final int SALT_LENGTH = 16;

  private static final Pattern POSTGRES_SECRET =
      Pattern.compile(
          "SCRAM-SHA-256\\$([1-9][0-9]{0,9}):([A-Za-z0-9+/=]{1,88})"
              + "\\$([A-Za-z0-9+/=]{44}):([A-Za-z0-9+/=]{44})");

  private ScramCredentials() {}

  /** Derives a verifier with a fresh 16-byte random salt. */
  public static ScramCredential derive(Secret password, SecureRandom random, int iterations) {
    Objects.requireNonNull(random, "random");
    byte[] salt = new byte[SALT_LENGTH];
    random.nextBytes(salt);
    return derive(password, salt, iterations);
  }

  /** Derives a verifier with a given salt (tests, the RFC 7677 vector, imported verifiers). */
  public static ScramCredential derive(Secret password, byte[] salt, int iterations) {
    Objects.requireNonNull(password, "password");
    Objects.requireNonNull(salt, "salt");
    if (password.isEmpty()) {
      throw new IllegalArgumentException("password must not be empty");
    }
    if (salt.length == 0) {
      throw new IllegalArgumentException("salt must not be empty");
    }
    if (iterations < 1) {
      throw new IllegalArgumentException("iterations must be positive");
    }
    byte[] raw = password.bytes();
    byte[] normalized = SaslPrep.normalize(raw);
    try {
      return ScramKeys.credential(normalized, salt, iterations);
    } finally {
      Arrays.fill(raw, (byte) 0);
      Arrays.fill(normalized, (byte) 0);
    }
  }

  /**
   * The credential in PostgreSQL's {@code pg_authid.rolpassword} form, {@code
   * SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>} in base64. {@code CREATE ROLE ...
   * PASSWORD} accepts it as an already-hashed password.
   */
  public static String toPostgresSecret(ScramCredential credential) {
    return "SCRAM-SHA-256$"
        + credential.iterations()
        + ":"
        + ScramSyntax.base64(credential.salt())
        + "$"
        + ScramSyntax.base64(credential.storedKey())
        + ":"
        + ScramSyntax.base64(credential.serverKey());
  }

  /**
   * Parses PostgreSQL's {@code rolpassword} form, e.g. to import roles.
   *
   * @throws IllegalArgumentException if it is not a SCRAM-SHA-256 secret
   */
  public static ScramCredential fromPostgresSecret(String secret) {
    Objects.requireNonNull(secret, "secret");
    Matcher m = POSTGRES_SECRET.matcher(secret);
    if (!m.matches()) {
      throw new IllegalArgumentException("not a PostgreSQL SCRAM-SHA-256 secret");
    }
    long iterations = Long.parseLong(m.group(1));
    if (iterations > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("iteration count out of range");
    }
    try {
      byte[] salt = decode(m.group(2), 64);
      byte[] storedKey = decode(m.group(3), ScramKeys.KEY_LENGTH);
      byte[] serverKey = decode(m.group(4), ScramKeys.KEY_LENGTH);
      if (storedKey.length != ScramKeys.KEY_LENGTH || serverKey.length != ScramKeys.KEY_LENGTH) {
        throw new IllegalArgumentException("keys must be 32 bytes");
      }
      return new ScramCredential(salt, (int) iterations, storedKey, serverKey);
    } catch (AuthenticationFailure e) {
      throw new IllegalArgumentException("not a PostgreSQL SCRAM-SHA-256 secret: bad base64", e);
    }
  }

  private static byte[] decode(String text, int maxBytes) throws AuthenticationFailure {
    return ScramSyntax.base64(
        text, maxBytes, AuthenticationFailure.Reason.MALFORMED_MESSAGE, "secret");
  }
}
