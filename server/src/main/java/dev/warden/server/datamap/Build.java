package dev.warden.server.datamap;

import dev.warden.core.masking.ColumnHints;
import dev.warden.core.masking.ContentDetector;
import dev.warden.core.masking.DataKind;
import dev.warden.core.masking.DataMap;
import dev.warden.core.masking.Finding;
import dev.warden.core.masking.MappedColumn;
import dev.warden.core.masking.MappedRelation;
import dev.warden.core.masking.StatementTaint;
import dev.warden.core.statement.Analysis;
import dev.warden.core.statement.LexicalSettings;
import dev.warden.core.statement.SqlAnalyzer;
import dev.warden.core.statement.StatementKind;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * One build of one database's data map: the catalogue read in one snapshot, then hints from names,
 * types and comments, then sampling of tables within the budget (results of unchanged relations are
 * reused from the previous build), then views and materialised views in dependency order, so that a
 * view over a view sees its inner view's columns already classified.
 */
final class Build {
  /** What sampling found for a relation, kept for the next build while its shape is the same. */
  record Cached(String shape, Map<String, Sampler.ColumnSample> columns) {}

  /** A finished build. */
  record Result(DataMap map, BuildReport report, String signature, Map<Long, Cached> cache) {}

  private final String environment;
  private final String database;
  private final int sampleRows;
  private final int maxSampled;
  private final List<? extends ContentDetector> detectors;
  private final Map<Long, Cached> previous;
  private final Optional<SqlAnalyzer> analyzer;
  private final Clock clock;
  private Instant builtAt;
  private DataMap snapshot;

  private final Map<Long, Cached> cache = new HashMap<>();
  private final Map<Long, Column[]> classified = new HashMap<>();
  private final Map<String, Catalogue.Relation> byName = new HashMap<>();
  private final Map<Long, Catalogue.Relation> byOid = new HashMap<>();
  private int sampled;
  private int reused;
  private int skipped;
  private int unsampled;
  private int queries;

  Build(
      String environment,
      String database,
      int sampleRows,
      int maxSampled,
      List<? extends ContentDetector> detectors,
      Map<Long, Cached> previous,
      Optional<SqlAnalyzer> analyzer,
      Clock clock) {
    this.environment = environment;
    this.database = database;
    this.sampleRows = sampleRows;
    this.maxSampled = maxSampled;
    this.detectors = detectors;
    this.previous = previous;
    this.analyzer = analyzer;
    this.clock = clock;
  }

  /** One column's classification while the build runs. */
  private static final class Column {
    final Catalogue.Column column;
    Optional<DataKind> kind = Optional.empty();
    Finding finding = Finding.NAME;
    String detail = "";

    Column(Catalogue.Column column) {
      this.column = column;
    }

    void set(DataKind kind, Finding finding, String detail) {
      this.kind = Optional.of(kind);
      this.finding = finding;
      this.detail = detail;
    }

    boolean sensitive() {
      return kind.isPresent();
    }
  }

  Result run(Connection connection, long version) throws SQLException {
    long started = System.nanoTime();
    builtAt = clock.instant();
    String signature;
    List<Catalogue.Relation> relations;
    Map<Long, Catalogue.Dependencies> dependencies;
    // One snapshot for the signature and what it signs: a change made during the read shows as a
    // signature mismatch at the next poll instead of being half seen.
    connection.setAutoCommit(false);
    connection.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
    try {
      signature = Catalogue.signature(connection);
      relations = Catalogue.relations(connection);
      dependencies = Catalogue.dependencies(connection);
      connection.commit();
    } catch (SQLException e) {
      connection.rollback();
      throw e;
    }
    // Sampling and describing run each in its own transaction: one unreadable relation must not
    // abort the rest.
    connection.setAutoCommit(true);
    for (Catalogue.Relation r : relations) {
      byOid.put(r.oid(), r);
      byName.put(r.schema() + "\u0000" + r.name(), r);
      Column[] cols = new Column[r.columns().size()];
      for (int i = 0; i < cols.length; i++) {
        cols[i] = new Column(r.columns().get(i));
        hint(cols[i]);
      }
      classified.put(r.oid(), cols);
    }
    // Partitioned tables before their partitions, which take their content findings.
    List<Catalogue.Relation> tables = new ArrayList<>();
    List<Catalogue.Relation> partitions = new ArrayList<>();
    for (Catalogue.Relation r : relations) {
      switch (r.type()) {
        case TABLE, PARTITIONED_TABLE, FOREIGN_TABLE -> {
          if (r.partitionRoot() != 0 && byOid.containsKey(r.partitionRoot())) {
            partitions.add(r);
          } else {
            tables.add(r);
          }
        }
        case VIEW, MATERIALIZED_VIEW -> {}
      }
    }
    for (Catalogue.Relation r : tables) {
      sample(connection, r);
    }
    for (Catalogue.Relation r : partitions) {
      inherit(r);
    }
    for (Catalogue.Relation view : viewOrder(relations, dependencies)) {
      lineage(connection, view, dependencies.get(view.oid()), relations);
      if (view.type() == MappedRelation.Type.MATERIALIZED_VIEW) {
        sample(connection, view);
      }
      snapshot = null; // the view's columns may be sensitive now: the next view sees them
    }
    DataMap map = map(relations, version);
    int sensitive = map.sensitiveColumns().size();
    BuildReport report =
        new BuildReport(
            environment,
            database,
            version,
            builtAt,
            Duration.ofNanos(System.nanoTime() - started),
            relations.size(),
            sensitive,
            sampled,
            reused,
            skipped,
            unsampled,
            queries);
    return new Result(map, report, signature, Map.copyOf(cache));
  }

  private DataMap map(List<Catalogue.Relation> relations, long version) {
    List<MappedRelation> mapped = new ArrayList<>(relations.size());
    for (Catalogue.Relation r : relations) {
      List<MappedColumn> columns = new ArrayList<>(r.columns().size());
      for (Column c : classified.get(r.oid())) {
        columns.add(
            new MappedColumn(
                c.column.number(), c.column.name(), c.column.type(), c.kind, c.finding, c.detail));
      }
      mapped.add(new MappedRelation(r.oid(), r.schema(), r.name(), r.type(), columns));
    }
    return DataMap.of(environment, database, version, builtAt, mapped);
  }

  /**
   * The sensitive columns whose values reach the view's computed columns, by the decision point's
   * own reading of its definition ({@link StatementTaint}) against what is classified so far; empty
   * when there is no analyser or the definition cannot be read that way, and the pg_depend reading
   * applies instead.
   */
  private Optional<Map<String, DataKind>> computedByAnalysis(
      Connection connection, Catalogue.Relation view, List<Catalogue.Relation> relations) {
    if (analyzer.isEmpty()) {
      return Optional.empty();
    }
    try {
      String definition = Catalogue.viewDefinition(connection, view.oid());
      if (definition == null) {
        return Optional.empty();
      }
      Analysis analysis = analyzer.get().analyze(definition, LexicalSettings.DEFAULT);
      if (analysis.statements().size() != 1
          || analysis.statements().getFirst().kind() == StatementKind.UNKNOWN) {
        return Optional.empty();
      }
      if (snapshot == null) {
        snapshot = map(relations, 0);
      }
      StatementTaint taint = StatementTaint.of(analysis.statements().getFirst(), snapshot);
      Map<String, DataKind> out = new java.util.TreeMap<>();
      if (!taint.computedTainted()) {
        return Optional.of(out);
      }
      if (taint.opaque() && taint.computedColumns().isEmpty()) {
        // Fed from where the text does not show (a user-defined function): pg_depend decides.
        return Optional.empty();
      }
      for (String qualified : taint.computedColumns()) {
        kindOf(qualified).ifPresent(k -> out.put(qualified, k));
      }
      return out.isEmpty() ? Optional.empty() : Optional.of(out);
    } catch (SQLException | RuntimeException e) {
      return Optional.empty();
    }
  }

  /** The kind of {@code schema.table.column} as classified so far. */
  private Optional<DataKind> kindOf(String qualified) {
    int last = qualified.lastIndexOf('.');
    int first = qualified.indexOf('.');
    if (first < 0 || last == first) {
      return Optional.empty();
    }
    Catalogue.Relation r =
        byName.get(qualified.substring(0, first) + "\u0000" + qualified.substring(first + 1, last));
    if (r == null) {
      return Optional.empty();
    }
    String column = qualified.substring(last + 1);
    for (Column c : classified.get(r.oid())) {
      if (c.column.name().equals(column)) {
        return c.kind;
      }
    }
    return Optional.empty();
  }

  /** The kinds a column's name, type or comment suggest, and which of the three said so. */
  private static void hint(Column c) {
    String name = c.column.name();
    String type = c.column.type();
    String comment = c.column.comment();
    Set<DataKind> byType = ColumnHints.kindsFor(null, type, null);
    Set<DataKind> byName = EnumSet.noneOf(DataKind.class);
    byName.addAll(ColumnHints.kindsFor(name, type, null));
    byName.removeAll(byType);
    if (!byName.isEmpty()) {
      c.set(first(byName), Finding.NAME, "name '" + name + "'" + also(byName));
      return;
    }
    if (!byType.isEmpty()) {
      c.set(first(byType), Finding.TYPE, "type " + type);
      return;
    }
    if (comment != null && !comment.isBlank()) {
      Set<DataKind> all = ColumnHints.kindsFor(name, type, comment);
      if (!all.isEmpty()) {
        c.set(first(all), Finding.COMMENT, "comment '" + shorten(comment) + "'" + also(all));
      }
    }
  }

  /** Samples {@code r}'s unclassified text columns, or reuses what the last build found. */
  private void sample(Connection connection, Catalogue.Relation r) {
    Column[] cols = classified.get(r.oid());
    List<Column> candidates = new ArrayList<>();
    for (Column c : cols) {
      if (c.column.textual() && !c.sensitive()) {
        candidates.add(c);
      }
    }
    if (candidates.isEmpty()) {
      return;
    }
    if (r.temporary()) {
      note(candidates, "not sampled: another session's temporary table");
      return;
    }
    Cached hit = previous.get(r.oid());
    if (hit != null
        && hit.shape().equals(r.shape())
        && candidates.stream().allMatch(c -> hit.columns().containsKey(c.column.name()))) {
      cache.put(r.oid(), hit);
      apply(candidates, hit.columns(), "");
      reused++;
      return;
    }
    if (sampled >= maxSampled) {
      unsampled++;
      note(
          candidates,
          "not sampled: this build's budget of "
              + maxSampled
              + " sampled relations was spent (classified by name, type and comment only)");
      return;
    }
    sampled++;
    queries++;
    Map<String, Sampler.ColumnSample> found;
    try {
      found =
          Sampler.sample(
              connection,
              r,
              candidates.stream().map(c -> c.column).toList(),
              sampleRows,
              detectors);
    } catch (SQLException e) {
      skipped++;
      note(candidates, "not sampled: " + reason(e));
      return;
    }
    cache.put(r.oid(), new Cached(r.shape(), Map.copyOf(found)));
    apply(candidates, found, "");
  }

  private static void apply(
      List<Column> candidates, Map<String, Sampler.ColumnSample> found, String prefix) {
    for (Column c : candidates) {
      Sampler.ColumnSample s = found.get(c.column.name());
      if (s == null) {
        continue;
      }
      if (s.kind().isPresent()) {
        c.set(s.kind().get(), Finding.CONTENT, prefix + s.detail());
      } else {
        c.finding = Finding.CONTENT;
        c.detail = prefix + s.detail();
      }
    }
  }

  private static void note(List<Column> candidates, String detail) {
    for (Column c : candidates) {
      c.detail = detail;
    }
  }

  /** A partition holds what its partitioned table's sample found, column by column. */
  private void inherit(Catalogue.Relation partition) {
    Catalogue.Relation root = byOid.get(partition.partitionRoot());
    Map<String, Column> rootColumns = new HashMap<>();
    for (Column c : classified.get(root.oid())) {
      rootColumns.put(c.column.name(), c);
    }
    for (Column c : classified.get(partition.oid())) {
      Column from = rootColumns.get(c.column.name());
      if (c.sensitive() || from == null) {
        continue;
      }
      if (from.sensitive()) {
        c.set(
            from.kind.get(),
            from.finding,
            "as its partitioned table " + root.qualifiedName() + ": " + from.detail);
      } else if (c.column.textual()) {
        c.detail = "as its partitioned table " + root.qualifiedName() + ": " + from.detail;
      }
    }
  }

  /** Views and materialised views, each after the views and materialised views it reads. */
  private List<Catalogue.Relation> viewOrder(
      List<Catalogue.Relation> relations, Map<Long, Catalogue.Dependencies> dependencies) {
    List<Catalogue.Relation> order = new ArrayList<>();
    Set<Long> done = new HashSet<>();
    Set<Long> visiting = new HashSet<>();
    for (Catalogue.Relation r : relations) {
      visit(r, dependencies, done, visiting, order);
    }
    return order;
  }

  private void visit(
      Catalogue.Relation r,
      Map<Long, Catalogue.Dependencies> dependencies,
      Set<Long> done,
      Set<Long> visiting,
      List<Catalogue.Relation> order) {
    boolean view =
        r.type() == MappedRelation.Type.VIEW || r.type() == MappedRelation.Type.MATERIALIZED_VIEW;
    if (!view || done.contains(r.oid()) || !visiting.add(r.oid())) {
      return;
    }
    Catalogue.Dependencies d = dependencies.get(r.oid());
    if (d != null) {
      for (long ref : new TreeSet<>(d.relations())) {
        Catalogue.Relation inner = byOid.get(ref);
        if (inner != null) {
          visit(inner, dependencies, done, visiting, order);
        }
      }
    }
    visiting.remove(r.oid());
    done.add(r.oid());
    order.add(r);
  }

  /**
   * A view column that shows a sensitive column holds its kind; a computed column holds the kind of
   * the sensitive columns its view reads (all of them, when the view uses whole rows or cannot be
   * described): masking a computed column that did not need it costs less than leaking one.
   */
  private void lineage(
      Connection connection,
      Catalogue.Relation view,
      Catalogue.Dependencies deps,
      List<Catalogue.Relation> relations) {
    Column[] cols = classified.get(view.oid());
    boolean open = false;
    for (Column c : cols) {
      open |= !c.sensitive();
    }
    if (!open || cols.length == 0) {
      return;
    }
    Optional<List<Optional<Lineage.Origin>>> origins = Optional.empty();
    if (!view.temporary()) {
      origins = Lineage.origins(connection, view.oid(), cols.length);
    }
    List<String> computedFrom = new ArrayList<>();
    Set<DataKind> computedKinds = new LinkedHashSet<>();
    boolean computedColumns = false;
    for (int i = 0; i < cols.length; i++) {
      computedColumns |= origins.isEmpty() || origins.get().get(i).isEmpty();
    }
    Optional<Map<String, DataKind>> analysed =
        computedColumns ? computedByAnalysis(connection, view, relations) : Optional.empty();
    if (analysed.isPresent()) {
      for (Map.Entry<String, DataKind> e : analysed.get().entrySet()) {
        computedFrom.add(e.getKey());
        computedKinds.add(e.getValue());
      }
    } else if (deps != null) {
      boolean wholeRelations = deps.wholeRow() || origins.isEmpty();
      for (long ref : new TreeSet<>(deps.relations())) {
        Catalogue.Relation source = byOid.get(ref);
        if (source == null) {
          continue;
        }
        Set<Integer> used = deps.columns().getOrDefault(ref, Set.of());
        Column[] sourceColumns = classified.get(ref);
        for (Column s : sourceColumns) {
          if (s.sensitive() && (wholeRelations || used.contains(s.column.number()))) {
            computedFrom.add(source.qualifiedName() + "." + s.column.name());
            computedKinds.add(s.kind.get());
          }
        }
      }
    }
    for (int i = 0; i < cols.length; i++) {
      Column c = cols[i];
      if (c.sensitive()) {
        continue;
      }
      Optional<Lineage.Origin> origin =
          origins.isPresent() ? origins.get().get(i) : Optional.empty();
      if (origin.isPresent()) {
        Lineage.Origin o = origin.get();
        Catalogue.Relation source = byName.get(o.schema() + "\u0000" + o.table());
        if (source == null) {
          continue;
        }
        for (Column s : classified.get(source.oid())) {
          if (s.column.name().equals(o.column()) && s.sensitive()) {
            c.set(
                s.kind.get(),
                Finding.LINEAGE,
                "view over " + source.qualifiedName() + "." + s.column.name());
          }
        }
      } else if (!computedKinds.isEmpty()) {
        c.set(
            computedKinds.iterator().next(),
            Finding.LINEAGE,
            "computed from " + String.join(", ", limit(computedFrom)));
      }
    }
  }

  private static List<String> limit(List<String> names) {
    if (names.size() <= 5) {
      return names;
    }
    List<String> out = new ArrayList<>(names.subList(0, 5));
    out.add("and " + (names.size() - 5) + " more");
    return out;
  }

  private static DataKind first(Set<DataKind> kinds) {
    return kinds.stream().min(Comparator.naturalOrder()).orElseThrow();
  }

  private static String also(Set<DataKind> kinds) {
    if (kinds.size() < 2) {
      return "";
    }
    List<String> others = new ArrayList<>();
    DataKind first = first(kinds);
    for (DataKind k : kinds) {
      if (k != first) {
        others.add(Sampler.name(k));
      }
    }
    return " (also suggests " + String.join(", ", others) + ")";
  }

  private static String shorten(String text) {
    String oneLine = text.strip().replaceAll("\\s+", " ");
    return oneLine.length() <= 60 ? oneLine : oneLine.substring(0, 57) + "...";
  }

  /** Why a relation could not be sampled, in a few words. */
  static String reason(SQLException e) {
    String state = e.getSQLState() == null ? "" : e.getSQLState();
    String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    int newline = message.indexOf('\n');
    if (newline > 0) {
      message = message.substring(0, newline);
    }
    return switch (state) {
      case "42501" -> "permission denied (" + message + ")";
      case "57014" -> "statement timeout (" + message + ")";
      case "55P03" -> "lock timeout (" + message + ")";
      default -> message + (state.isEmpty() ? "" : " (SQLSTATE " + state + ")");
    };
  }
}
