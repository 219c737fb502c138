package dev.warden.core.masking;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A relation of a {@link DataMap}: a table, view, materialised view, foreign or partitioned table.
 *
 * @param id the database's identifier for it (PostgreSQL: the {@code pg_class} OID), as result
 *     descriptions name it
 * @param schema its schema (PostgreSQL) or database (MySQL)
 * @param name its name
 * @param type what it is
 * @param columns its columns, in the order of {@link MappedColumn#number()}
 */
public record MappedRelation(
    long id, String schema, String name, Type type, List<MappedColumn> columns) {
  /** The kinds of relation a data map covers. */
  public enum Type {
    TABLE,
    PARTITIONED_TABLE,
    VIEW,
    MATERIALIZED_VIEW,
    FOREIGN_TABLE
  }

  public MappedRelation {
    Objects.requireNonNull(schema, "schema");
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(type, "type");
    columns = List.copyOf(columns);
  }

  /** The column numbered {@code number}, if the relation has it. */
  public Optional<MappedColumn> column(int number) {
    // Usually columns.get(number - 1); dropped columns leave gaps, so check and search otherwise.
    if (number >= 1 && number <= columns.size() && columns.get(number - 1).number() == number) {
      return Optional.of(columns.get(number - 1));
    }
    for (MappedColumn c : columns) {
      if (c.number() == number) {
        return Optional.of(c);
      }
    }
    return Optional.empty();
  }

  /** The column named {@code name}, if any. */
  public Optional<MappedColumn> column(String name) {
    for (MappedColumn c : columns) {
      if (c.name().equals(name)) {
        return Optional.of(c);
      }
    }
    return Optional.empty();
  }

  /** True if any column holds sensitive data. */
  public boolean sensitive() {
    for (MappedColumn c : columns) {
      if (c.sensitive()) {
        return true;
      }
    }
    return false;
  }

  public String qualifiedName() {
    return schema + "." + name;
  }
}
