package dev.warden.server.api;

import dev.warden.core.identity.AuthThrottle;
import dev.warden.core.identity.AuthenticationFailure;
import dev.warden.core.identity.AuthenticationFailure.Reason;
import dev.warden.core.identity.Identity;
import dev.warden.core.identity.ScramAccount;
import dev.warden.core.identity.ScramAccounts;
import dev.warden.core.identity.ScramCredential;
import dev.warden.core.identity.ScramCredentials;
import dev.warden.core.identity.Secret;
import dev.warden.core.identity.TokenVerifier;
import dev.warden.core.identity.UserDirectory;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * HTTP Basic authentication of Warden identities, with what they log in to the proxy with: a local
 * user's password or a service token ({@code wdt_...}) is checked against its SCRAM-SHA-256
 * verifier (the same key schedule, {@link ScramCredentials#derive}: SASLprep, PBKDF2-HMAC-SHA-256
 * with the account's salt and iteration count, ClientKey, StoredKey, the StoredKey compared in
 * constant time; a revoked or expired token is refused even with the right secret), and, when an
 * identity provider is configured, a token from it (a JWT given as the password) is verified as the
 * proxy verifies it, for the user name given. Warden never stores anything a password could be read
 * back from, and there is no second password to manage.
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

  /** How long a token's verification (the provider's keys, perhaps fetched) may take. */
  static final Duration TOKEN_TIMEOUT = Duration.ofSeconds(15);

  private final ScramAccounts accounts;
  private final TokenVerifier tokens;
  private final AuthThrottle throttle;

  BasicAuthenticator(ScramAccounts accounts, TokenVerifier tokens, AuthThrottle throttle) {
    this.accounts = Objects.requireNonNull(accounts, "accounts");
    this.tokens = Objects.requireNonNull(tokens, "tokens");
    this.throttle = Objects.requireNonNull(throttle, "throttle");
  }

  /** Local users only. */
  BasicAuthenticator(UserDirectory users, AuthThrottle throttle) {
    this(ScramAccounts.of(users), TokenVerifier.NONE, throttle);
  }

  /** What an Authorization header proved. */
  sealed interface Result {}

  /** The header named an identity and proved it. */
  record Authenticated(Identity identity) implements Result {}

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
    Result result;
    if (password.length == 0) {
      result = new Refused(claimed, "empty password");
    } else if (tokens.enabled() && looksLikeJwt(password)) {
      result = verifyToken(claimed, name, new String(password, StandardCharsets.US_ASCII));
    } else {
      result = verifySecret(claimed, name, password);
    }
    long remaining = delay.toNanos() - (System.nanoTime() - started);
    if (remaining > 0) {
      Thread.sleep(Duration.ofNanos(remaining));
    }
    if (result instanceof Authenticated) {
      throttle.success(claimed, source);
    } else {
      throttle.failure(claimed, source);
    }
    return result;
  }

  /** A local user's password or a service token, against the account's SCRAM verifier. */
  private Result verifySecret(String claimed, String name, byte[] password) {
    Optional<ScramAccount> account =
        name.length() <= MAX_NAME_LENGTH ? accounts.find(name) : Optional.empty();
    ScramCredential credential = account.map(ScramAccount::credential).orElse(UNKNOWN_USER);
    ScramCredential derived =
        ScramCredentials.derive(
            Secret.ofBytes(password), credential.salt(), credential.iterations());
    boolean match = MessageDigest.isEqual(derived.storedKey(), credential.storedKey());
    if (account.isEmpty()) {
      return new Refused(claimed, "unknown user");
    }
    if (!match) {
      return new Refused(claimed, "wrong password");
    }
    if (account.get().refusal().isPresent()) {
      return new Refused(claimed, AuthenticationFailure.label(account.get().refusal().get()));
    }
    return new Authenticated(account.get().identity());
  }

  /** A token from the identity provider, for the user name given. */
  private Result verifyToken(String claimed, String name, String token)
      throws InterruptedException {
    try {
      Identity identity =
          tokens.verify(name, token).get(TOKEN_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      return new Authenticated(identity);
    } catch (ExecutionException e) {
      return new Refused(
          claimed,
          e.getCause() instanceof AuthenticationFailure f
              ? AuthenticationFailure.label(f.reason())
              : "token could not be verified");
    } catch (TimeoutException e) {
      return new Refused(claimed, AuthenticationFailure.label(Reason.PROVIDER_UNAVAILABLE));
    }
  }

  /** Three dot-separated base64url parts, the first a JSON object: a compact JWS. */
  static boolean looksLikeJwt(byte[] password) {
    if (password.length < 16 || password[0] != 'e' || password[1] != 'y' || password[2] != 'J') {
      return false;
    }
    int dots = 0;
    for (byte b : password) {
      if (b == '.') {
        dots++;
      } else if (!((b >= 'A' && b <= 'Z')
          || (b >= 'a' && b <= 'z')
          || (b >= '0' && b <= '9')
          || b == '-'
          || b == '_')) {
        return false;
      }
    }
    return dots == 2;
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
