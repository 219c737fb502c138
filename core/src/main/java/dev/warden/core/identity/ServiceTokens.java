package dev.warden.core.identity;

import java.security.SecureRandom;
import java.time.Clock;
import java.util.Base64;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * Issuing service tokens and logging in with them. A token string is {@value #PREFIX} followed by
 * 32 random bytes in unpadded base64url (43 characters): 256 bits, so it needs no salt stretching
 * to resist guessing, and the prefix lets secret scanners and people recognise a leaked one.
 */
public final class ServiceTokens {
  /** What every token string starts with. */
  public static final String PREFIX = "wdt_";

  /** Random bytes in a token. */
  static final int RANDOM_BYTES = 32;

  /** Length of a token string: the prefix and 43 base64url characters. */
  public static final int LENGTH = PREFIX.length() + 43;

  private ServiceTokens() {}

  /** A new token string. Show it once; store only {@link ScramCredentials#derive} of it. */
  public static Secret generate(SecureRandom random) {
    Objects.requireNonNull(random, "random");
    byte[] bytes = new byte[RANDOM_BYTES];
    random.nextBytes(bytes);
    try {
      return Secret.of(PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(bytes));
    } finally {
      java.util.Arrays.fill(bytes, (byte) 0);
    }
  }

  /** True if {@code text} has the shape of a token string (not whether any token has it). */
  public static boolean looksLikeToken(String text) {
    if (text == null || text.length() != LENGTH || !text.startsWith(PREFIX)) {
      return false;
    }
    for (int i = PREFIX.length(); i < text.length(); i++) {
      char c = text.charAt(i);
      boolean ok =
          (c >= 'a' && c <= 'z')
              || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9')
              || c == '-'
              || c == '_';
      if (!ok) {
        return false;
      }
    }
    return true;
  }

  /**
   * The check that a new token's name is no local user's in {@code users}: users and tokens share
   * one name space.
   */
  public static ServiceTokenStore.NameCheck notALocalUser(UserDirectory users) {
    return name ->
        users.find(name).isPresent()
            ? Optional.of(
                "a local user is named "
                    + name
                    + "; users and tokens share one name space, choose another name")
            : Optional.empty();
  }

  /**
   * Returns {@code name} if it may name a token: the {@link UserNames} rule, since token names are
   * login names.
   *
   * @throws IllegalArgumentException saying what is wrong
   */
  public static String requireValidName(String name) {
    return UserNames.requireValid(name, "token name");
  }

  /**
   * The tokens of {@code store} as SCRAM accounts. A revoked token is refused with {@link
   * AuthenticationFailure.Reason#REVOKED}, an expired one (as of {@code clock}, read at each
   * lookup) with {@link AuthenticationFailure.Reason#EXPIRED}; both still run the exchange against
   * their real verifier, so a wrong token reads as a wrong password. Each lookup reads the store,
   * so a revocation made by another process applies to the next login.
   *
   * <p>A lookup does not record use: it happens before the proof is checked. Record a successful
   * login with {@link #useRecorder}.
   */
  public static ScramAccounts accounts(ServiceTokenStore store, Clock clock) {
    Objects.requireNonNull(store, "store");
    Objects.requireNonNull(clock, "clock");
    return name -> store.find(name).map(token -> account(token, clock));
  }

  private static ScramAccount account(ServiceToken token, Clock clock) {
    Optional<AuthenticationFailure.Reason> refusal =
        token.revoked().isPresent()
            ? Optional.of(AuthenticationFailure.Reason.REVOKED)
            : token.expiredAt(clock.instant())
                ? Optional.of(AuthenticationFailure.Reason.EXPIRED)
                : Optional.empty();
    return new ScramAccount(token.identity(), token.credential(), refusal);
  }

  /**
   * What to call with each identity that has logged in: it records the use of service tokens in
   * {@code store} (without blocking) and ignores every other kind of identity.
   */
  public static Consumer<Identity> useRecorder(ServiceTokenStore store, Clock clock) {
    Objects.requireNonNull(store, "store");
    Objects.requireNonNull(clock, "clock");
    return identity -> {
      if (identity.method() == AuthMethod.SERVICE_TOKEN) {
        store.recordUse(identity.name(), clock.instant());
      }
    };
  }
}
