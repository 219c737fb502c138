package dev.warden.server.datamap;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.postgresql.PGResultSetMetaData;

/**
 * Where each column of a view or materialised view comes from. PostgreSQL describes a query's
 * result columns with the table and column each plain column reference comes from (RowDescription's
 * table OID and attribute number, set at parse analysis before views are expanded, so a view over a
 * view names the inner view's column); pgjdbc resolves them to names. Describing the view's own
 * definition therefore gives, column by column, the relation column it shows under whatever name (a
 * renamed {@code email AS contact} included), or nothing for a computed column.
 */
final class Lineage {
  private Lineage() {}

  /** The origin of one view column: a relation's column, or empty when computed. */
  record Origin(String schema, String table, String column) {}

  /**
   * The origin of each of the view's columns, in order; empty when the definition cannot be
   * described (the caller then treats every column as computed).
   */
  static Optional<List<Optional<Origin>>> origins(
      Connection connection, long viewOid, int columns) {
    List<Optional<Origin>> out = new ArrayList<>(columns);
    try {
      String definition = Catalogue.viewDefinition(connection, viewOid);
      if (definition == null) {
        return Optional.empty();
      }
      return describe(connection, definition.strip(), columns, out);
    } catch (SQLException e) {
      // A definition pgjdbc cannot send as written (e.g. the jsonb ? operator, which it takes for
      // a parameter marker), or a view dropped since the catalogue was read: every column counts
      // as computed, which over-marks rather than leaks.
      return Optional.empty();
    }
  }

  private static Optional<List<Optional<Origin>>> describe(
      Connection connection, String definition, int columns, List<Optional<Origin>> out)
      throws SQLException {
    String sql =
        definition.endsWith(";") ? definition.substring(0, definition.length() - 1) : definition;
    try (PreparedStatement s = connection.prepareStatement(sql)) {
      ResultSetMetaData md = s.getMetaData();
      if (md == null || md.getColumnCount() != columns) {
        return Optional.empty();
      }
      PGResultSetMetaData pg = md.unwrap(PGResultSetMetaData.class);
      for (int i = 1; i <= columns; i++) {
        String table = pg.getBaseTableName(i);
        String column = pg.getBaseColumnName(i);
        if (table == null || table.isEmpty() || column == null || column.isEmpty()) {
          out.add(Optional.empty());
        } else {
          out.add(Optional.of(new Origin(pg.getBaseSchemaName(i), table, column)));
        }
      }
    }
    return Optional.of(out);
  }
}
