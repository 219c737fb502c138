package dev.warden.core.identity;

import java.time.Instant;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * A Warden-issued service token as the store keeps it: who it is, what it may act as, and the SCRAM
 * verifier of its secret, never the secret itself. Scripts, CI jobs and agents log in with user =
 * {@link #name} and password = the token string, verified by SCRAM-SHA-256 like a local user.
 *
 * @param name the name clients log in with; shares one name space with local users
 * @param groups the groups policy sees for it
 * @param onBehalfOf the person the token acts for (an agent working for a person), or empty
 * @param created when it was issued
 * @param expires when it stops working, or empty for a token that never expires (chosen explicitly)
 * @param revoked when it was revoked, or empty while it is in force
 * @param lastUsed when it last logged in successfully, to a precision of about a minute
 * @param createdBy who issued it, e.g. {@code os:alice}
 * @param credential the SCRAM-SHA-256 verifier of the token string
 * @param description what it is for, free text for people; may be empty
 */
public record ServiceToken(
    String name,
    Set<String> groups,
    Optional<String> onBehalfOf,
    Instant created,
    Optional<Instant> expires,
    Optional<Instant> revoked,
    Optional<Instant> lastUsed,
    String createdBy,
    ScramCredential credential,
    String description) {
  /** The longest description, in characters. */
  public static final int MAX_DESCRIPTION_LENGTH = 200;

  /** The longest {@link #createdBy}, in characters. */
  public static final int MAX_CREATED_BY_LENGTH = 200;

  public ServiceToken {
    UserNames.requireValid(name, "token name");
    groups = Set.copyOf(groups);
    for (String group : groups) {
      UserNames.requireValid(group, "group name");
    }
    Objects.requireNonNull(onBehalfOf, "onBehalfOf");
    onBehalfOf.ifPresent(person -> UserNames.requireValid(person, "on-behalf-of name"));
    Objects.requireNonNull(created, "created");
    Objects.requireNonNull(expires, "expires");
    Objects.requireNonNull(revoked, "revoked");
    Objects.requireNonNull(lastUsed, "lastUsed");
    requirePrintable(createdBy, "createdBy", MAX_CREATED_BY_LENGTH);
    if (createdBy.isEmpty()) {
      throw new IllegalArgumentException("createdBy must not be empty");
    }
    Objects.requireNonNull(credential, "credential");
    requirePrintable(description, "description", MAX_DESCRIPTION_LENGTH);
    if (expires.isPresent() && !expires.get().isAfter(created)) {
      throw new IllegalArgumentException(
          "the token would expire (" + expires.get() + ") before it is created (" + created + ")");
    }
  }

  /** A new token: not revoked, never used. */
  public static ServiceToken issue(
      String name,
      Set<String> groups,
      Optional<String> onBehalfOf,
      Instant created,
      Optional<Instant> expires,
      String createdBy,
      ScramCredential credential,
      String description) {
    return new ServiceToken(
        name,
        groups,
        onBehalfOf,
        created,
        expires,
        Optional.empty(),
        Optional.empty(),
        createdBy,
        credential,
        description);
  }

  /** True if it has expired at {@code now} (its expiry is the first instant it no longer works). */
  public boolean expiredAt(Instant now) {
    return expires.isPresent() && !now.isBefore(expires.get());
  }

  /** {@code revoked}, {@code expired} or {@code active} at {@code now}, as lists show it. */
  public String statusAt(Instant now) {
    return revoked.isPresent() ? "revoked" : expiredAt(now) ? "expired" : "active";
  }

  /** The identity a login with this token yields. */
  public Identity identity() {
    return new Identity(name, groups, AuthMethod.SERVICE_TOKEN, onBehalfOf, expires);
  }

  /**
   * Text shown in lists and stored in a table: bounded, and without control characters that could
   * forge a line in a terminal, a log or an audit record (THREATS AU13).
   */
  private static void requirePrintable(String text, String what, int maxLength) {
    Objects.requireNonNull(text, what);
    if (text.length() > maxLength) {
      throw new IllegalArgumentException(
          what + " must be at most " + maxLength + " characters, got " + text.length());
    }
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (Character.isISOControl(c)
          || Character.getType(c) == Character.FORMAT
          || Character.getType(c) == Character.LINE_SEPARATOR
          || Character.getType(c) == Character.PARAGRAPH_SEPARATOR) {
        throw new IllegalArgumentException(
            String.format(
                "%s may not contain control or format characters; found U+%04X at index %d",
                what, (int) c, i));
      }
    }
  }
}
