package dev.warden.core.identity;

import java.time.Instant;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * A verified person or service. Every connection through Warden belongs to exactly one identity,
 * fixed when authentication succeeds and never changed for the life of the session.
 *
 * @param name the identity's name as the person typed it (e.g. {@code alice@corp.example})
 * @param groups the groups the identity belongs to; policy and role mapping read them
 * @param method how the identity was verified
 * @param onBehalfOf the person a service token acts for (an AI agent working for a person), or
 *     empty
 * @param expiresAt when the credential that proved the identity stops being valid (an OIDC token's
 *     {@code exp}, a certificate's {@code notAfter}, a service token's expiry); a session does not
 *     outlive it. Empty for credentials without an end (local passwords)
 */
public record Identity(
    String name,
    Set<String> groups,
    AuthMethod method,
    Optional<String> onBehalfOf,
    Optional<Instant> expiresAt) {
  public Identity {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(method, "method");
    groups = Set.copyOf(groups);
    Objects.requireNonNull(onBehalfOf, "onBehalfOf");
    Objects.requireNonNull(expiresAt, "expiresAt");
  }

  /** An identity acting for itself, with a credential that does not expire. */
  public Identity(String name, Set<String> groups, AuthMethod method) {
    this(name, groups, method, Optional.empty(), Optional.empty());
  }

  /** The method's name as audit records and policy conditions spell it. */
  public String methodName() {
    return method.label();
  }
}
