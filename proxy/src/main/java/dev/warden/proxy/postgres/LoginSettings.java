package dev.warden.proxy.postgres;

import dev.warden.core.identity.CertificateVerifier;
import dev.warden.core.identity.Identity;
import dev.warden.core.identity.TokenVerifier;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * How clients may prove who they are beyond local SCRAM passwords, and what happens when the
 * credential a session was opened with expires.
 *
 * @param tokens verifies identity-provider tokens presented as the password; a client whose user
 *     name is not a local account is asked for one when {@link TokenVerifier#enabled()}
 * @param certificates turns a verified client certificate into an identity; a client presenting one
 *     on a listener that asks for certificates is not asked for a password
 * @param atExpiry what happens to a session when its credential expires
 * @param expiryGrace with {@link AtExpiry#WHEN_IDLE}, the longest a session may go on past expiry
 *     while a transaction or statement is still open
 * @param loggedIn told of every identity whose session opens (e.g. to note a service token's last
 *     use); called on an event loop, so it must not block
 */
public record LoginSettings(
    TokenVerifier tokens,
    Optional<CertificateVerifier> certificates,
    AtExpiry atExpiry,
    Duration expiryGrace,
    Consumer<Identity> loggedIn) {
  /** What Warden does with a session whose credential has expired. */
  public enum AtExpiry {
    /** End it at once, even inside a transaction (which the server rolls back). */
    TERMINATE,
    /**
     * End it as soon as it is idle (no statement running, no transaction open), and at the latest
     * after the grace period. PostgreSQL's protocol cannot authenticate a session again, so the
     * client (or its pool) reconnects with a fresh credential.
     */
    WHEN_IDLE
  }

  /** Local SCRAM users only; sessions end when idle after expiry, within five minutes. */
  public static final LoginSettings LOCAL_ONLY =
      new LoginSettings(
          TokenVerifier.NONE, Optional.empty(), AtExpiry.WHEN_IDLE, Duration.ofMinutes(5));

  public LoginSettings {
    Objects.requireNonNull(tokens, "tokens");
    Objects.requireNonNull(certificates, "certificates");
    Objects.requireNonNull(atExpiry, "atExpiry");
    Objects.requireNonNull(expiryGrace, "expiryGrace");
    if (expiryGrace.isNegative()) {
      throw new IllegalArgumentException("expiryGrace must not be negative");
    }
    Objects.requireNonNull(loggedIn, "loggedIn");
  }

  /** Logins told to no one. */
  public LoginSettings(
      TokenVerifier tokens,
      Optional<CertificateVerifier> certificates,
      AtExpiry atExpiry,
      Duration expiryGrace) {
    this(tokens, certificates, atExpiry, expiryGrace, identity -> {});
  }
}
