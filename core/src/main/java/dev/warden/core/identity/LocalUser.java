package dev.warden.core.identity;

import java.time.Instant;
import java.util.Objects;
import java.util.Set;

/** A user defined in Warden's own store, for zero-configuration password authentication. */
public record LocalUser(
    String name, Set<String> groups, ScramCredential credential, Instant created) {
  public LocalUser {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(credential, "credential");
    Objects.requireNonNull(created, "created");
    groups = Set.copyOf(groups);
  }
}
