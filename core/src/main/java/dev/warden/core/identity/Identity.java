package dev.warden.core.identity;

import java.util.Objects;
import java.util.Set;

/**
 * A verified person or service. Every connection through Warden belongs to exactly one identity,
 * fixed when authentication succeeds and never changed for the life of the session.
 *
 * @param name the identity's name as the person typed it (e.g. {@code alice@corp.example})
 * @param groups the groups the identity belongs to; policy and role mapping read them
 * @param method how the identity was verified
 */
public record Identity(String name, Set<String> groups, AuthMethod method) {
  public Identity {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(method, "method");
    groups = Set.copyOf(groups);
  }
}
