package dev.warden.core.environment;

import dev.warden.core.identity.Identity;
import java.util.HashSet;
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
    Set<String> names = new HashSet<>();
    for (RoleMapping role : roles) {
      if (role.name().isPresent() && !names.add(role.name().get())) {
        throw new IllegalArgumentException(
            "environment " + name + " has two role mappings named " + role.name().get());
      }
    }
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

  /** The role mapping named {@code roleName}, if there is one. */
  public Optional<RoleMapping> role(String roleName) {
    for (RoleMapping role : roles) {
      if (role.name().filter(roleName::equals).isPresent()) {
        return Optional.of(role);
      }
    }
    return Optional.empty();
  }

  /**
   * The upstream with the credentials of the role mapping named {@code roleName}, whoever it
   * applies to: what a session opened during an access window for that role logs in as.
   */
  public Optional<Upstream> upstreamAs(String roleName) {
    return role(roleName).map(r -> upstream.withCredentials(r.user(), r.password()));
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
