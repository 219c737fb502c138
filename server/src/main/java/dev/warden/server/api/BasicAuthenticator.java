package dev.warden.server.api;

import dev.warden.core.identity.AuthThrottle;
import dev.warden.core.identity.LocalUser;
import dev.warden.core.identity.ScramCredential;
import dev.warden.core.identity.ScramCredentials;
import dev.warden.core.identity.Secret;
import dev.warden.core.identity.UserDirectory;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.Objects;
import java.util.Optional;

/**
 * HTTP Basic authentication of Warden's local users against the SCRAM-SHA-256 verifiers they log in
 * to the proxy with: the password is put through the same key schedule ({@link
 * ScramCredentials#derive}: SASLprep, PBKDF2-HMAC-SHA-256 with the user's salt and iteration count,
 * ClientKey, StoredKey) and the StoredKey compared in constant time. Warden never stores anything a
 * password could be read back from, and there is no second password to manage.
 *
 * <p>An unknown user costs the same work as a known one (a derivation against a fixed verifier), so
 * response times do not tell which names exist. Every answer, success or failure, is held for the
 * {@link AuthThrottle}'s delay for the (user, source) pair.
 */
final class BasicAuthenticator {
  /** The longest Authorization header read; a longer one is refused unparsed. */
  static final int MAX_HEADER_LENGTH = 4096;

  private static final int MAX_NAME_LENGTH = 256;
  private static final ScramCredential UNKNOWN_USER =
      new ScramCredential(
          "warden-no-such-user".getBytes(StandardCharsets.US_ASCII),
          ScramCredentials.DEFAULT_ITERATIONS,
          new byte[32],
          new byte[32]);

  private final UserDirectory users;
  private final AuthThrottle throttle;

  BasicAuthenticator(UserDirectory users, AuthThrottle throttle) {
    this.users = Objects.requireNonNull(users, "users");
    this.throttle = Objects.requireNonNull(throttle, "throttle");
  }

  /** What an Authorization header proved. */
  sealed interface Result {}

  /** The header named a user and the right password. */
  record Authenticated(LocalUser user) implements Result {}

  /** There was no Basic header: the client has not tried yet. */
  record Missing() implements Result {}

  /**
   * The attempt failed.
   *
   * @param claimed the user name the client gave (shortened), or empty when none could be read
   * @param reason why, for the audit trail only; clients get one answer for every failure
   */
  record Refused(String claimed, String reason) implements Result {}

  /**
   * Checks {@code header} for a request from {@code source}, holding the answer for the throttle's
   * delay; blocks, so call it on a virtual thread.
   */
  Result authenticate(String header, String source) throws InterruptedException {
    if (header == null || header.isBlank()) {
      return new Missing();
    }
    if (header.length() > MAX_HEADER_LENGTH) {
      return new Refused("", "authorization header too long");
    }
    int space = header.indexOf(' ');
    if (space < 0 || !header.substring(0, space).equalsIgnoreCase("Basic")) {
      return new Missing();
    }
    byte[] decoded;
    try {
      decoded = Base64.getDecoder().decode(header.substring(space + 1).strip());
    } catch (IllegalArgumentException e) {
      return new Refused("", "malformed Basic credentials");
    }
    try {
      int colon = indexOf(decoded, (byte) ':');
      if (colon < 0) {
        return new Refused("", "malformed Basic credentials");
      }
      String name = new String(decoded, 0, colon, StandardCharsets.UTF_8);
      byte[] password = Arrays.copyOfRange(decoded, colon + 1, decoded.length);
      try {
        return verify(shorten(name), name, password, source);
      } finally {
        Arrays.fill(password, (byte) 0);
      }
    } finally {
      Arrays.fill(decoded, (byte) 0);
    }
  }

  /**
   * Checks a user name and password given some other way than a Basic header (the console's sign-in
   * form), with the same work, throttle and answers; blocks, so call it on a virtual thread.
   */
  Result password(String name, byte[] password, String source) throws InterruptedException {
    return verify(shorten(name), name, password, source);
  }

  private Result verify(String claimed, String name, byte[] password, String source)
      throws InterruptedException {
    Duration delay = throttle.delayFor(claimed, source);
    long started = System.nanoTime();
    Optional<LocalUser> user =
        name.length() <= MAX_NAME_LENGTH ? users.find(name) : Optional.empty();
    ScramCredential credential = user.map(LocalUser::credential).orElse(UNKNOWN_USER);
    boolean match = false;
    String reason;
    if (password.length == 0) {
      reason = "empty password";
    } else {
      ScramCredential derived =
          ScramCredentials.derive(
              Secret.ofBytes(password), credential.salt(), credential.iterations());
      match = MessageDigest.isEqual(derived.storedKey(), credential.storedKey());
      reason = user.isEmpty() ? "unknown user" : "wrong password";
    }
    long remaining = delay.toNanos() - (System.nanoTime() - started);
    if (remaining > 0) {
      Thread.sleep(Duration.ofNanos(remaining));
    }
    if (user.isPresent() && match) {
      throttle.success(claimed, source);
      return new Authenticated(user.get());
    }
    throttle.failure(claimed, source);
    return new Refused(claimed, reason);
  }

  private static int indexOf(byte[] bytes, byte b) {
    for (int i = 0; i < bytes.length; i++) {
      if (bytes[i] == b) {
        return i;
      }
    }
    return -1;
  }

  private static String shorten(String name) {
    return name.length() <= 128 ? name : name.substring(0, 125) + "...";
  }
}
