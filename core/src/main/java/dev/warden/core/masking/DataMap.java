package dev.warden.core.masking;

import dev.warden.core.statement.TableRef;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Which column of one database holds which kind of sensitive data: what Warden masks. Built per
 * environment and database from the catalogue (names, types, comments), sampled values and policy
 * overrides. Immutable; a rebuilt map replaces the whole.
 *
 * @param environment the environment's name
 * @param database the database's name as the client asked for it
 * @param version increases with every rebuild of this environment's database
 * @param builtAt when the catalogue was read
 * @param relations every relation of the database Warden maps (system schemas excluded)
 */
public record DataMap(
    String environment,
    String database,
    long version,
    Instant builtAt,
    List<MappedRelation> relations,
    Map<Long, MappedRelation> byId,
    Map<String, List<MappedRelation>> byName) {

  public DataMap {
    Objects.requireNonNull(environment, "environment");
    Objects.requireNonNull(database, "database");
    Objects.requireNonNull(builtAt, "builtAt");
    relations = List.copyOf(relations);
    Map<Long, MappedRelation> ids = new HashMap<>();
    Map<String, List<MappedRelation>> names = new HashMap<>();
    for (MappedRelation r : relations) {
      ids.put(r.id(), r);
      names.computeIfAbsent(r.name(), n -> new ArrayList<>(1)).add(r);
    }
    byId = Map.copyOf(ids);
    names.replaceAll((n, list) -> List.copyOf(list));
    byName = Map.copyOf(names);
  }

  /** A map of {@code relations}. */
  public static DataMap of(
      String environment,
      String database,
      long version,
      Instant builtAt,
      List<MappedRelation> relations) {
    return new DataMap(environment, database, version, builtAt, relations, Map.of(), Map.of());
  }

  /** The relation with the database's identifier {@code id}, if the map has it. */
  public Optional<MappedRelation> relation(long id) {
    return Optional.ofNullable(byId.get(id));
  }

  /**
   * The relations {@code table} may denote: the one of that schema and name when it is qualified,
   * every relation of that name in any schema when it is not (the search path decides which, so a
   * caller that must not under-mask considers all of them).
   */
  public List<MappedRelation> relationsNamed(TableRef table) {
    List<MappedRelation> named = byName.getOrDefault(table.name(), List.of());
    if (!table.qualified()) {
      return named;
    }
    for (MappedRelation r : named) {
      if (r.schema().equals(table.schema())) {
        return List.of(r);
      }
    }
    return List.of();
  }

  /** The sensitive columns, relation by relation. */
  public List<Map.Entry<MappedRelation, MappedColumn>> sensitiveColumns() {
    List<Map.Entry<MappedRelation, MappedColumn>> out = new ArrayList<>();
    for (MappedRelation r : relations) {
      for (MappedColumn c : r.columns()) {
        if (c.sensitive()) {
          out.add(Map.entry(r, c));
        }
      }
    }
    return out;
  }

  /** True if any column of the database holds sensitive data. */
  public boolean anySensitive() {
    for (MappedRelation r : relations) {
      if (r.sensitive()) {
        return true;
      }
    }
    return false;
  }
}
