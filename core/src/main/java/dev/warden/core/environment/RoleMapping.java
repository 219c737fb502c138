package dev.warden.core.environment;

import dev.warden.core.identity.Identity;
import dev.warden.core.identity.Secret;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Which database role an environment's sessions log in as, by the identity's groups: e.g. analysts
 * as a read-only role, engineers as a read-write one, so that the database's own privileges are the
 * backstop behind Warden's guardrails. Warden logs in as the role itself (it holds the role's
 * password), rather than as a privileged role that switches with {@code SET ROLE}, which a client
 * could undo with {@code RESET ROLE}.
 *
 * <p>A mapping may have a name (e.g. {@code reader}, {@code writer}); a named mapping with {@link
 * JustInTime} settings can also be reached for a while through an approved access window, and one
 * that names no groups or identities is reachable only that way.
 *
 * @param groups the identity groups this mapping applies to (any of them)
 * @param identities identity names this mapping applies to, for exceptions (any of them)
 * @param user the upstream role to log in as
 * @param password its password; empty for trust or certificate authentication upstream
 * @param name the mapping's name, unique in its environment; needed for just-in-time access
 * @param justInTime how the mapping is reached through an access window, if it is
 */
public record RoleMapping(
    Set<String> groups,
    Set<String> identities,
    String user,
    Secret password,
    Optional<String> name,
    Optional<JustInTime> justInTime) {
  /** What a mapping's name may look like. */
  public static final Pattern NAME = Pattern.compile("[a-z][a-z0-9_-]{0,62}");

  public RoleMapping {
    groups = Set.copyOf(groups);
    identities = Set.copyOf(identities);
    Objects.requireNonNull(user, "user");
    Objects.requireNonNull(password, "password");
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(justInTime, "justInTime");
    if (name.isPresent() && !NAME.matcher(name.get()).matches()) {
      throw new IllegalArgumentException(
          "a role mapping's name is lower-case letters, digits, '_' and '-', starting with a"
              + " letter, e.g. writer");
    }
    if (justInTime.isPresent() && name.isEmpty()) {
      throw new IllegalArgumentException(
          "a role mapping with just-in-time access needs a name, which requests ask for");
    }
    if (groups.isEmpty() && identities.isEmpty() && justInTime.isEmpty()) {
      throw new IllegalArgumentException(
          "a role mapping names at least one group or identity, or is reachable just in time");
    }
    if (user.isBlank()) {
      throw new IllegalArgumentException("a role mapping names the upstream role");
    }
  }

  /** An unnamed mapping for these groups and identities. */
  public RoleMapping(Set<String> groups, Set<String> identities, String user, Secret password) {
    this(groups, identities, user, password, Optional.empty(), Optional.empty());
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

  /** How this mapping is named in messages: its name, else its upstream role. */
  public String shownName() {
    return name.orElse(user);
  }
}
