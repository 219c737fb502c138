package dev.warden.core.environment;

import dev.warden.core.identity.Identity;
import dev.warden.core.identity.Secret;
import java.util.Objects;
import java.util.Set;

/**
 * Which database role an environment's sessions log in as, by the identity's groups: e.g. analysts
 * as a read-only role, engineers as a read-write one, so that the database's own privileges are the
 * backstop behind Warden's guardrails. Warden logs in as the role itself (it holds the role's
 * password), rather than as a privileged role that switches with {@code SET ROLE}, which a client
 * could undo with {@code RESET ROLE}.
 *
 * @param groups the identity groups this mapping applies to (any of them)
 * @param identities identity names this mapping applies to, for exceptions (any of them)
 * @param user the upstream role to log in as
 * @param password its password; empty for trust or certificate authentication upstream
 */
public record RoleMapping(
    Set<String> groups, Set<String> identities, String user, Secret password) {
  public RoleMapping {
    groups = Set.copyOf(groups);
    identities = Set.copyOf(identities);
    Objects.requireNonNull(user, "user");
    Objects.requireNonNull(password, "password");
    if (groups.isEmpty() && identities.isEmpty()) {
      throw new IllegalArgumentException("a role mapping names at least one group or identity");
    }
    if (user.isBlank()) {
      throw new IllegalArgumentException("a role mapping names the upstream role");
    }
  }

  /** True if {@code identity} is one this mapping names, directly or by one of its groups. */
  public boolean appliesTo(Identity identity) {
    if (identities.contains(identity.name())) {
      return true;
    }
    for (String group : identity.groups()) {
      if (groups.contains(group)) {
        return true;
      }
    }
    return false;
  }
}
