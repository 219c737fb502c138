package dev.warden.server.datamap;

import dev.warden.core.masking.ContentDetector;
import dev.warden.core.masking.DataKind;
import dev.warden.core.masking.Detectors;
import dev.warden.core.masking.MappedRelation;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Reads a bounded sample of one relation's text columns and classifies each column by content.
 *
 * <p>Cost: one query per relation, reading at most {@code rows} rows in which at least one sampled
 * column is not null, each value cut at {@link #MAX_VALUE} characters on the server. A table whose
 * planner estimate exceeds ten times {@code rows} is read with {@code TABLESAMPLE SYSTEM} at about
 * five times the needed share of its pages, so a large table costs a few page reads, not a scan.
 * The session's {@code statement_timeout} bounds each query.
 *
 * <p>A column is classified when at least {@link #MIN_MATCHES} of its sampled non-null values, and
 * at least half of them, are recognised as one kind; the kind recognised most wins. Otherwise a
 * column whose values are or hold sensitive data (free text quoting an e-mail address, a JSON
 * document with a phone number, a bytea attachment, a column of which some values are e-mail
 * addresses) is classified when at least {@link #MIN_MATCHES} values, and at least a quarter of
 * them, do: masking then covers the whole value, since a name or address next to the recognised
 * word would not be recognised. The rows of a column that is not classified pass unmasked, so the
 * bar is low.
 */
final class Sampler {
  /** Fewest recognised values for a content classification. */
  static final int MIN_MATCHES = 3;

  /**
   * Longest value read; longer ones count as unrecognised (no detector matches a value that long).
   */
  static final int MAX_VALUE = 8192;

  private Sampler() {}

  /** What sampling found for one column. */
  record ColumnSample(Optional<DataKind> kind, String detail) {}

  /**
   * The column samples of {@code relation}'s {@code columns}, by column name.
   *
   * @throws SQLException when the relation cannot be read (permission, timeout, not populated)
   */
  static Map<String, ColumnSample> sample(
      Connection connection,
      Catalogue.Relation relation,
      List<Catalogue.Column> columns,
      int rows,
      List<? extends ContentDetector> detectors)
      throws SQLException {
    String sql = query(relation, columns, rows);
    int n = columns.size();
    int[] seen = new int[n];
    List<Map<DataKind, Integer>> counts = new java.util.ArrayList<>(n);
    List<Map<DataKind, Integer>> inside = new java.util.ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      counts.add(new EnumMap<>(DataKind.class));
      inside.add(new EnumMap<>(DataKind.class));
    }
    try (Statement s = connection.createStatement()) {
      s.setFetchSize(0);
      try (ResultSet rs = s.executeQuery(sql)) {
        while (rs.next()) {
          for (int i = 0; i < n; i++) {
            String value = rs.getString(i + 1);
            if (value == null) {
              continue;
            }
            seen[i]++;
            if (value.length() > MAX_VALUE) {
              continue;
            }
            java.util.Set<DataKind> whole = Detectors.detect(detectors, value);
            for (DataKind kind : whole) {
              counts.get(i).merge(kind, 1, Integer::sum);
            }
            for (DataKind kind :
                whole.isEmpty() ? Detectors.detectWithin(detectors, value) : whole) {
              inside.get(i).merge(kind, 1, Integer::sum);
            }
          }
        }
      }
    }
    Map<String, ColumnSample> out = new LinkedHashMap<>();
    for (int i = 0; i < n; i++) {
      out.put(columns.get(i).name(), classify(seen[i], counts.get(i), inside.get(i)));
    }
    return out;
  }

  static ColumnSample classify(
      int seen, Map<DataKind, Integer> counts, Map<DataKind, Integer> inside) {
    ColumnSample whole = classify(seen, counts);
    if (whole.kind().isPresent() || seen == 0) {
      return whole;
    }
    DataKind best = null;
    int bestCount = 0;
    for (Map.Entry<DataKind, Integer> e : inside.entrySet()) {
      if (e.getValue() > bestCount) {
        best = e.getKey();
        bestCount = e.getValue();
      }
    }
    if (best != null && bestCount >= MIN_MATCHES && bestCount * 4 >= seen) {
      return new ColumnSample(
          Optional.of(best),
          bestCount + " of " + seen + " sampled values are or hold " + name(best));
    }
    return whole;
  }

  static ColumnSample classify(int seen, Map<DataKind, Integer> counts) {
    DataKind best = null;
    int bestCount = 0;
    for (Map.Entry<DataKind, Integer> e : counts.entrySet()) {
      if (e.getValue() > bestCount) {
        best = e.getKey();
        bestCount = e.getValue();
      }
    }
    if (seen == 0) {
      return new ColumnSample(Optional.empty(), "sampled: no values");
    }
    if (best != null && bestCount >= MIN_MATCHES && bestCount * 2 >= seen) {
      return new ColumnSample(
          Optional.of(best), bestCount + " of " + seen + " sampled values are " + name(best));
    }
    return new ColumnSample(
        Optional.empty(),
        best == null
            ? "sampled " + seen + " values: none recognised"
            : "sampled " + seen + " values: " + bestCount + " " + name(best) + ", too few");
  }

  /** The sampling query; package-private so tests can see what is sent. */
  static String query(Catalogue.Relation relation, List<Catalogue.Column> columns, int rows) {
    StringBuilder select = new StringBuilder("SELECT ");
    StringBuilder where = new StringBuilder();
    for (int i = 0; i < columns.size(); i++) {
      String column = quote(columns.get(i).name());
      if (i > 0) {
        select.append(", ");
        where.append(" OR ");
      }
      // bytea as text is hex; its escape form keeps the printable bytes readable.
      String asText =
          columns.get(i).type().equals("bytea")
              ? "pg_catalog.encode(" + column + ", 'escape')"
              : column + "::pg_catalog.text";
      select
          .append("pg_catalog.left(")
          .append(asText)
          .append(", ")
          .append(MAX_VALUE + 1)
          .append(')');
      where.append(column).append(" IS NOT NULL");
    }
    String from = quote(relation.schema()) + "." + quote(relation.name());
    select.append(" FROM ");
    // ONLY: an inheritance parent's own rows (children are sampled themselves); a partitioned
    // table has no rows of its own, so it is read with its partitions.
    if (relation.type() != MappedRelation.Type.PARTITIONED_TABLE) {
      select.append("ONLY ");
    }
    select.append(from);
    if (relation.type() == MappedRelation.Type.TABLE
        || relation.type() == MappedRelation.Type.MATERIALIZED_VIEW) {
      double estimate = relation.rows();
      if (estimate > 10.0 * rows) {
        double percent = Math.min(100.0, 100.0 * 5 * rows / estimate);
        select
            .append(" TABLESAMPLE SYSTEM (")
            .append(String.format(java.util.Locale.ROOT, "%.6f", percent))
            .append(')');
      }
    }
    select.append(" WHERE ").append(where).append(" LIMIT ").append(rows);
    return select.toString();
  }

  static String quote(String identifier) {
    return "\"" + identifier.replace("\"", "\"\"") + "\"";
  }

  static String name(DataKind kind) {
    return kind.name().toLowerCase(java.util.Locale.ROOT).replace('_', ' ');
  }
}
