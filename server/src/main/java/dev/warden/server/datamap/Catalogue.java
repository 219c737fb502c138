package dev.warden.server.datamap;

import dev.warden.core.masking.MappedRelation;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What the data map reads from PostgreSQL's catalogue: the relations of the user schemas with their
 * columns and comments, which relations views depend on, and a cheap signature that changes when
 * any of that does. Every query names its catalogue objects with their schema.
 */
final class Catalogue {
  /** The relations a data map covers: outside the system schemas and TOAST. */
  private static final String USER_RELATIONS =
      """
      FROM pg_catalog.pg_class c
      JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      LEFT JOIN pg_catalog.pg_attribute a
        ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
      LEFT JOIN pg_catalog.pg_description d
        ON d.objoid = c.oid AND d.classoid = 'pg_catalog.pg_class'::pg_catalog.regclass
        AND d.objsubid = a.attnum
      WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
        AND n.nspname <> 'pg_catalog' AND n.nspname <> 'information_schema'
        AND n.nspname !~ '^pg_toast'
      """;

  private static final String RELATIONS =
      """
      SELECT c.oid, n.nspname, c.relname, c.relkind, n.nspname ~ '^pg_temp_', c.reltuples,
             a.attnum, a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod),
             (SELECT t.typcategory FROM pg_catalog.pg_type t WHERE t.oid = a.atttypid),
             d.description
      """
          + USER_RELATIONS
          + " ORDER BY n.nspname, c.relname, c.oid, a.attnum";

  /**
   * Sums of row hashes rather than an ordered digest: no sort, one pass over the user relations'
   * attributes. A view redefined with the same columns shows in its rewrite rule's xmin.
   */
  private static final String SIGNATURE =
      """
      SELECT (SELECT pg_catalog.count(*) || ':' || COALESCE(pg_catalog.sum(
                pg_catalog.hashtext(c.oid::pg_catalog.text || '/' || c.relname || '/'
                  || c.relnamespace::pg_catalog.text || '/' || c.relkind::pg_catalog.text || '/'
                  || COALESCE(a.attnum::pg_catalog.text, '') || '/'
                  || COALESCE(a.attname::pg_catalog.text, '') || '/'
                  || COALESCE(a.atttypid::pg_catalog.text, '') || '/'
                  || COALESCE(a.atttypmod::pg_catalog.text, '') || '/'
                  || COALESCE(d.description, ''))::pg_catalog.int8), 0)
      """
          + USER_RELATIONS
          + """
      ) || ':' || (SELECT COALESCE(pg_catalog.sum(pg_catalog.hashtext(
                r.oid::pg_catalog.text || '/' || r.ev_class::pg_catalog.text || '/'
                || r.xmin::pg_catalog.text)::pg_catalog.int8), 0)
             FROM pg_catalog.pg_rewrite r
             JOIN pg_catalog.pg_class c ON c.oid = r.ev_class
             WHERE c.relkind IN ('v', 'm'))
      """;

  /**
   * What each view's rewrite rule depends on: columns ({@code refobjsubid > 0}) and whole relations
   * (every relation a view reads appears with 0), and whether the view has a whole-row reference,
   * which records no column dependency at all (PostgreSQL's dependency.c leaves that to the range
   * table entry).
   */
  private static final String DEPENDENCIES =
      """
      SELECT r.ev_class, d.refobjid, d.refobjsubid
      FROM pg_catalog.pg_rewrite r
      JOIN pg_catalog.pg_class v ON v.oid = r.ev_class AND v.relkind IN ('v', 'm')
      JOIN pg_catalog.pg_depend d
        ON d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass AND d.objid = r.oid
        AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
      WHERE d.refobjid <> r.ev_class
      """;

  private static final String WHOLE_ROW =
      """
      SELECT r.ev_class
      FROM pg_catalog.pg_rewrite r
      JOIN pg_catalog.pg_class v ON v.oid = r.ev_class AND v.relkind IN ('v', 'm')
      WHERE pg_catalog.strpos(r.ev_action::pg_catalog.text, ':varattno 0 ') > 0
      """;

  private static final String PARTITIONS =
      """
      SELECT i.inhrelid, i.inhparent
      FROM pg_catalog.pg_inherits i
      JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid
      WHERE c.relispartition
      """;

  private static final String VIEW_DEFINITION =
      "SELECT pg_catalog.pg_get_viewdef(?::pg_catalog.oid)";

  private Catalogue() {}

  /**
   * Whether a column's values are read as text when sampled: strings, and the types that hold
   * free-form text or documents (JSON, XML, arrays, bytea), where personal data may sit inside a
   * value.
   */
  static boolean sampled(String category, String type) {
    return "S".equals(category)
        || "A".equals(category)
        || type.equals("json")
        || type.equals("jsonb")
        || type.equals("xml")
        || type.equals("bytea");
  }

  /** A column as the catalogue describes it. */
  record Column(int number, String name, String type, String comment, boolean textual) {}

  /**
   * A relation as the catalogue describes it.
   *
   * @param temporary in another session's temporary schema: mapped, never sampled
   * @param rows the planner's estimate ({@code reltuples}; negative when never analysed)
   * @param partitionRoot the partitioned table at the top of its tree, or 0
   */
  record Relation(
      long oid,
      String schema,
      String name,
      MappedRelation.Type type,
      boolean temporary,
      double rows,
      long partitionRoot,
      List<Column> columns) {
    String qualifiedName() {
      return schema + "." + name;
    }

    /** The columns' names and types: sampled results are reused while this stays the same. */
    String shape() {
      StringBuilder s = new StringBuilder();
      for (Column c : columns) {
        s.append(c.number()).append(' ').append(c.name()).append(' ').append(c.type()).append('\n');
      }
      return s.toString();
    }
  }

  /** A view's dependencies: the columns it reads, the relations it reads, whole rows or not. */
  record Dependencies(Map<Long, Set<Integer>> columns, Set<Long> relations, boolean wholeRow) {}

  static String signature(Connection c) throws SQLException {
    try (Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(SIGNATURE)) {
      rs.next();
      return rs.getString(1);
    }
  }

  static List<Relation> relations(Connection c) throws SQLException {
    Map<Long, Long> parents = new HashMap<>();
    try (Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(PARTITIONS)) {
      while (rs.next()) {
        parents.put(rs.getLong(1), rs.getLong(2));
      }
    }
    Map<Long, Relation> byOid = new LinkedHashMap<>();
    Map<Long, List<Column>> columns = new HashMap<>();
    try (Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(RELATIONS)) {
      while (rs.next()) {
        long oid = rs.getLong(1);
        Relation r = byOid.get(oid);
        if (r == null) {
          List<Column> list = new ArrayList<>();
          columns.put(oid, list);
          r =
              new Relation(
                  oid,
                  rs.getString(2),
                  rs.getString(3),
                  type(rs.getString(4)),
                  rs.getBoolean(5),
                  rs.getDouble(6),
                  root(oid, parents),
                  list);
          byOid.put(oid, r);
        }
        int number = rs.getInt(7);
        if (!rs.wasNull()) {
          columns
              .get(oid)
              .add(
                  new Column(
                      number,
                      rs.getString(8),
                      rs.getString(9),
                      rs.getString(11),
                      sampled(rs.getString(10), rs.getString(9))));
        }
      }
    }
    List<Relation> out = new ArrayList<>(byOid.size());
    for (Relation r : byOid.values()) {
      out.add(
          new Relation(
              r.oid(),
              r.schema(),
              r.name(),
              r.type(),
              r.temporary(),
              r.rows(),
              r.partitionRoot(),
              List.copyOf(columns.get(r.oid()))));
    }
    return out;
  }

  /** The dependencies of every view and materialised view, by the view's OID. */
  static Map<Long, Dependencies> dependencies(Connection c) throws SQLException {
    Map<Long, Map<Long, Set<Integer>>> cols = new HashMap<>();
    Map<Long, Set<Long>> rels = new HashMap<>();
    try (Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(DEPENDENCIES)) {
      while (rs.next()) {
        long view = rs.getLong(1);
        long ref = rs.getLong(2);
        int sub = rs.getInt(3);
        rels.computeIfAbsent(view, v -> new HashSet<>()).add(ref);
        if (sub > 0) {
          cols.computeIfAbsent(view, v -> new HashMap<>())
              .computeIfAbsent(ref, r -> new HashSet<>())
              .add(sub);
        }
      }
    }
    Set<Long> wholeRow = new HashSet<>();
    try (Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(WHOLE_ROW)) {
      while (rs.next()) {
        wholeRow.add(rs.getLong(1));
      }
    }
    Map<Long, Dependencies> out = new HashMap<>();
    Set<Long> views = new HashSet<>(rels.keySet());
    views.addAll(wholeRow);
    for (long view : views) {
      out.put(
          view,
          new Dependencies(
              cols.getOrDefault(view, Map.of()),
              rels.getOrDefault(view, Set.of()),
              wholeRow.contains(view)));
    }
    return out;
  }

  /** The definition of view {@code oid}, as PostgreSQL prints it. */
  static String viewDefinition(Connection c, long oid) throws SQLException {
    try (PreparedStatement s = c.prepareStatement(VIEW_DEFINITION)) {
      s.setLong(1, oid);
      try (ResultSet rs = s.executeQuery()) {
        return rs.next() ? rs.getString(1) : null;
      }
    }
  }

  private static long root(long oid, Map<Long, Long> parents) {
    Long parent = parents.get(oid);
    if (parent == null) {
      return 0;
    }
    long top = parent;
    // Partition trees are shallow; the bound only guards against a catalogue read mid-change.
    for (int depth = 0; depth < 64 && parents.containsKey(top); depth++) {
      top = parents.get(top);
    }
    return top;
  }

  private static MappedRelation.Type type(String relkind) {
    return switch (relkind) {
      case "r" -> MappedRelation.Type.TABLE;
      case "p" -> MappedRelation.Type.PARTITIONED_TABLE;
      case "v" -> MappedRelation.Type.VIEW;
      case "m" -> MappedRelation.Type.MATERIALIZED_VIEW;
      case "f" -> MappedRelation.Type.FOREIGN_TABLE;
      default -> throw new IllegalStateException("unexpected relkind " + relkind);
    };
  }
}
