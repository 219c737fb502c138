package dev.warden.core.statement;

import java.util.Objects;

/**
 * A column a statement reads or writes.
 *
 * @param table the relation the column belongs to, or empty when the statement does not say and
 *     several relations are in scope ({@link TableRef#name()} is {@code ""} then)
 * @param column the column's name, case-folded as the server does; {@code "*"} for every column
 */
public record ColumnRef(TableRef table, String column) {
  public ColumnRef {
    Objects.requireNonNull(table, "table");
    Objects.requireNonNull(column, "column");
  }

  @Override
  public String toString() {
    return table.name().isEmpty() ? column : table.qualifiedName() + "." + column;
  }
}
