package dev.warden.core.approval;

import java.util.Objects;

/**
 * An access request was refused before it was made, with a {@link Reason} a channel (the REST API,
 * the CLI) can turn into its own kind of error and a message a person can read as it is.
 */
public final class AccessRequestException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** Why. */
  public enum Reason {
    /** No environment has that name. */
    UNKNOWN_ENVIRONMENT,
    /** The environment has no role mapping of that name. */
    UNKNOWN_ROLE,
    /** The role mapping exists but cannot be reached through an access window. */
    NOT_JUST_IN_TIME,
    /** The requester is not one of those who may ask for the role. */
    NOT_REQUESTABLE,
    /** The window asked for is longer than the role allows, or shorter than a minute. */
    BAD_DURATION,
    /** No reason was given. */
    REASON_REQUIRED
  }

  private final Reason reason;

  AccessRequestException(Reason reason, String message) {
    super(message);
    this.reason = Objects.requireNonNull(reason, "reason");
  }

  /** Why the request was refused. */
  public Reason reason() {
    return reason;
  }
}
