package dev.warden.core.environment;

import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * A named set of databases governed together, such as {@code production} or {@code staging}. Tags
 * (e.g. {@code production}) select default policy.
 *
 * @param name unique name
 * @param tags free-form tags
 * @param databases client-visible database names routed to this environment; {@code "*"} matches
 *     any name
 * @param upstream where the databases live
 */
public record Environment(
    String name, Set<String> tags, List<String> databases, Upstream upstream) {
  /** Matches every database name in {@link #databases()}. */
  public static final String ANY_DATABASE = "*";

  public Environment {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(upstream, "upstream");
    tags = Set.copyOf(tags);
    databases = List.copyOf(databases);
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
