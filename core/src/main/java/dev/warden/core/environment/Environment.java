package dev.warden.core.environment;

import dev.warden.core.identity.Identity;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * A named set of databases governed together, such as {@code production} or {@code staging}. Tags
 * (e.g. {@code production}) select default policy.
 *
 * @param name unique name
 * @param tags free-form tags
 * @param databases client-visible database names routed to this environment; {@code "*"} matches
 *     any name
 * @param upstream where the databases live, and the role Warden logs in as when {@code roles} is
 *     empty
 * @param roles the upstream role per group, first match wins; when not empty, an identity no
 *     mapping applies to is refused rather than given {@code upstream}'s role (THREATS AU12)
 */
public record Environment(
    String name,
    Set<String> tags,
    List<String> databases,
    Upstream upstream,
    List<RoleMapping> roles) {
  /** Matches every database name in {@link #databases()}. */
  public static final String ANY_DATABASE = "*";

  public Environment {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(upstream, "upstream");
    tags = Set.copyOf(tags);
    databases = List.copyOf(databases);
    roles = List.copyOf(roles);
  }

  /** An environment whose sessions all log in as {@code upstream}'s role. */
  public Environment(String name, Set<String> tags, List<String> databases, Upstream upstream) {
    this(name, tags, databases, upstream, List.of());
  }

  /**
   * The upstream, with the credentials of the role {@code identity}'s sessions log in as; empty
   * when role mappings are configured and none applies to the identity.
   */
  public Optional<Upstream> upstreamFor(Identity identity) {
    if (roles.isEmpty()) {
      return Optional.of(upstream);
    }
    for (RoleMapping role : roles) {
      if (role.appliesTo(identity)) {
        return Optional.of(upstream.withCredentials(role.user(), role.password()));
      }
    }
    return Optional.empty();
  }

  /** True if this environment serves the client-visible database {@code database}. */
  public boolean serves(String database) {
    return name.equals(database)
        || databases.contains(database)
        || databases.contains(ANY_DATABASE);
  }

  public boolean hasTag(String tag) {
    return tags.contains(tag);
  }
}
