package dev.warden.core.identity;

import java.util.Objects;

/**
 * Thrown when authentication fails. {@link #getMessage()} is safe to log (it never contains a
 * password, a proof or a key), but clients only ever see a generic message: the {@link Reason} is
 * for Warden's own audit, so that an unknown user and a wrong password look the same from outside
 * (THREATS AU10).
 */
public final class AuthenticationFailure extends Exception {
  /** Why authentication failed, for the audit record. */
  public enum Reason {
    /** No such user; the exchange was run against a mock credential. */
    UNKNOWN_USER,
    /** The user exists but the proof did not verify. */
    BAD_PASSWORD,
    /** A message broke the SCRAM grammar, a length bound or the exchange's order. */
    MALFORMED_MESSAGE,
    /** A valid request for something Warden does not do (channel binding, authzid, extensions). */
    UNSUPPORTED,
    /** The upstream server refused us, or answered in a way that is not to be trusted. */
    UPSTREAM_REJECTED,
    /**
     * A token that is not acceptable: malformed, oversized, unsigned, signed with an algorithm or
     * key the provider does not use, or for another issuer or audience.
     */
    TOKEN_INVALID,
    /** A token or certificate past its expiry, or not valid yet (beyond the allowed clock skew). */
    EXPIRED,
    /** A valid credential for someone else: the user name does not match its subject. */
    USER_MISMATCH,
    /** A service token that has been revoked. */
    REVOKED,
    /** A client certificate whose chain, usage or identity does not verify. */
    CERTIFICATE_INVALID,
    /** The identity provider could not be reached to verify the token (discovery or keys). */
    PROVIDER_UNAVAILABLE,
    /** A verified identity that policy does not let into the environment it asked for. */
    NOT_PERMITTED,
    /** Too many failures for this name from this source; the attempt was not verified. */
    THROTTLED
  }

  /** The reason as audit records spell it, e.g. {@code bad-password}. */
  public static String label(Reason reason) {
    return reason.name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
  }

  private final Reason reason;

  public AuthenticationFailure(Reason reason, String detail) {
    super(Objects.requireNonNull(reason, "reason") + ": " + detail);
    this.reason = reason;
  }

  public Reason reason() {
    return reason;
  }
}
