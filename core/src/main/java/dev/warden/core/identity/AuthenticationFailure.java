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
    UPSTREAM_REJECTED
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
