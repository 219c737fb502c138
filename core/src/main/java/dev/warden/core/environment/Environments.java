package dev.warden.core.environment;

import java.util.List;
import java.util.Optional;

/**
 * The configured environments, and the routing of a client's database name to one of them. An
 * explicit match (the environment's name or a listed database) wins over a wildcard.
 */
public final class Environments {
  private final List<Environment> all;

  public Environments(List<Environment> all) {
    this.all = List.copyOf(all);
    if (this.all.stream().map(Environment::name).distinct().count() != this.all.size()) {
      throw new IllegalArgumentException("environment names must be unique");
    }
  }

  public List<Environment> all() {
    return all;
  }

  /** The environment a client asking for {@code database} is routed to. */
  public Optional<Environment> route(String database) {
    for (Environment e : all) {
      if (e.name().equals(database) || e.databases().contains(database)) {
        return Optional.of(e);
      }
    }
    return all.stream().filter(e -> e.databases().contains(Environment.ANY_DATABASE)).findFirst();
  }
}
