package dev.warden.core.masking;

import dev.warden.core.statement.ColumnRef;
import dev.warden.core.statement.Statement;
import dev.warden.core.statement.StatementFlag;
import dev.warden.core.statement.StatementKind;
import dev.warden.core.statement.TableRef;
import java.util.Collection;
import java.util.EnumSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * What one statement does with sensitive columns: its column references resolved against a data
 * map, role by role (computed, filtered, read, written), and whether a computed result column can
 * carry sensitive data whose column the statement's text does not show. Engine-neutral: the
 * statement's facts and the map are all it reads.
 *
 * <p>Resolution is conservative, since a column missed here is a value unmasked later:
 *
 * <ul>
 *   <li>a qualified table is the map's relation of that schema and name; an unqualified one is
 *       every relation of that name in any schema (the search path picks one, the map does not know
 *       which);
 *   <li>{@code *} is every column of the table;
 *   <li>a column name the map's relation does not have (renamed or added since the map was built,
 *       while it is rebuilt) may be any column: data of unknown kind;
 *   <li>a column with an empty table name (several relations were in scope) is that column of every
 *       relation the statement reads or writes;
 *   <li>a relation the map lacks (created since the map was built, or a name that is not a
 *       relation) taints computed results while the map has any sensitive column; system catalogues
 *       ({@code pg_catalog}, {@code information_schema}, unqualified {@code pg_*} names) hold no
 *       mapped data and are not counted;
 *   <li>with no map at all, every column is sensitive, of unknown kind (fail closed).
 * </ul>
 *
 * <p>Computed results are also tainted, with data of unknown kind, when the statement's results
 * come from somewhere its text does not show and the map has a sensitive column: a user-defined
 * function ({@link StatementFlag#USER_FUNCTION}), a built-in one reading large objects or files
 * ({@code lo_get}, {@code pg_read_file}, ...) or {@code pg_largeobject} itself, {@code
 * FETCH}/{@code MOVE} (the cursor's query was another statement), {@code EXECUTE} (the prepared
 * statement's), or a statement that could not be analysed. {@code EXPLAIN}'s results are a plan,
 * never the data, so it taints nothing, though its columns still count as touched.
 */
public final class StatementTaint {
  private static final Set<String> SYSTEM_SCHEMAS = Set.of("pg_catalog", "information_schema");

  /** Columns every table has that hold no data of its own. */
  private static final Set<String> SYSTEM_COLUMNS =
      Set.of("ctid", "xmin", "xmax", "cmin", "cmax", "tableoid");

  /** Built-in functions that return data from outside any relation: large objects, files. */
  static final Set<String> OUTSIDE_DATA =
      Set.of("lo_get", "loread", "pg_read_file", "pg_read_binary_file");

  private final Hits computed;
  private final Hits filtered;
  private final Hits read;
  private final Hits written;
  private final boolean opaque;
  private final boolean readsUnmapped;

  private StatementTaint(
      Hits computed, Hits filtered, Hits read, Hits written, boolean opaque, boolean unmapped) {
    this.computed = computed;
    this.filtered = filtered;
    this.read = read;
    this.written = written;
    this.opaque = opaque;
    this.readsUnmapped = unmapped;
  }

  /**
   * The taint of {@code statement} under {@code map} (already overlaid with policy's column
   * overrides), or under no map when it is null: every column sensitive.
   */
  public static StatementTaint of(Statement statement, DataMap map) {
    return of(statement, map, map == null || map.anySensitive());
  }

  /** As {@link #of(Statement, DataMap)}, with {@code map.anySensitive()} known already. */
  static StatementTaint of(Statement statement, DataMap map, boolean anySensitive) {
    Resolver resolver = new Resolver(statement, map, anySensitive);
    Hits computed = resolver.hits(statement.columnsComputed());
    Hits filtered = resolver.hits(statement.columnsFiltered());
    Hits read = resolver.hits(statement.columnsRead());
    Hits written = resolver.hits(statement.columnsWritten());
    boolean unmapped = false;
    for (TableRef t : statement.tablesRead()) {
      unmapped |= resolver.unmapped(t);
    }
    String command = statement.command();
    boolean explain = command.equals("EXPLAIN");
    boolean hidden =
        statement.has(StatementFlag.USER_FUNCTION)
            || readsOutside(statement)
            || command.equals("FETCH")
            || command.equals("MOVE")
            || command.equals("EXECUTE")
            || statement.kind() == StatementKind.UNKNOWN
            || (unmapped && anySensitive)
            || map == null;
    boolean opaque = anySensitive && hidden && !explain;
    if (explain) {
      // a plan: nothing computed reaches the client, but the columns are still touched
      read.add(computed);
      computed = new Hits();
    }
    return new StatementTaint(computed, filtered, read, written, opaque, unmapped);
  }

  private static boolean readsOutside(Statement statement) {
    for (TableRef t : statement.tablesRead()) {
      if (t.name().equals("pg_largeobject")) {
        return true; // large objects' data, in the catalogue (M19)
      }
    }
    for (String f : statement.functions()) {
      if (OUTSIDE_DATA.contains(f.substring(f.lastIndexOf('.') + 1))) {
        return true;
      }
    }
    return false;
  }

  /**
   * Whether a result column with no origin can carry sensitive data: a sensitive column (or a whole
   * row holding one) is computed, or the results come from somewhere the text does not show.
   */
  public boolean computedTainted() {
    return opaque || computed.any();
  }

  /**
   * The one kind of sensitive data computed results can carry, when it is known: every sensitive
   * column computed holds that kind, and no whole row or hidden source is involved. Empty when
   * several kinds or an unknown one are involved (or none).
   */
  public Optional<DataKind> computedKind() {
    if (opaque || computed.opaque || computed.kinds.size() != 1) {
      return Optional.empty();
    }
    return Optional.of(computed.kinds.iterator().next());
  }

  /** The sensitive columns whose values reach computed results, by qualified name. */
  public Set<String> computedColumns() {
    return computed.columns;
  }

  /** The sensitive columns the statement filters, joins, groups, sorts or limits on. */
  public Set<String> filteredColumns() {
    return filtered.columns;
  }

  /** The sensitive columns the statement reads in any role (results, conditions, expressions). */
  public Set<String> readColumns() {
    Set<String> all = new TreeSet<>(read.columns);
    all.addAll(computed.columns);
    all.addAll(filtered.columns);
    return all;
  }

  /** True if the statement reads or writes a sensitive column in any role, or is tainted. */
  public boolean touches() {
    return computedTainted() || computed.any() || filtered.any() || read.any() || written.any();
  }

  /** True if a computed result or a read column may come from data the map cannot attribute. */
  public boolean opaque() {
    return opaque;
  }

  /** True if the statement reads a relation the map does not have (system catalogues aside). */
  public boolean readsUnmapped() {
    return readsUnmapped;
  }

  /** Sensitive columns found for a set of references. */
  static final class Hits {
    final Set<String> columns = new TreeSet<>();
    final EnumSet<DataKind> kinds = EnumSet.noneOf(DataKind.class);

    /** A whole row, a relation the map lacks, or no map: data of unknown kind. */
    boolean opaque;

    boolean any() {
      return opaque || !columns.isEmpty();
    }

    void add(Hits other) {
      columns.addAll(other.columns);
      kinds.addAll(other.kinds);
      opaque |= other.opaque;
    }
  }

  /** Column references to the map's columns, within one statement. */
  private static final class Resolver {
    private final Statement statement;
    private final DataMap map;
    private final boolean anySensitive;
    private Set<MappedRelation> named;

    Resolver(Statement statement, DataMap map, boolean anySensitive) {
      this.statement = statement;
      this.map = map;
      this.anySensitive = anySensitive;
    }

    Hits hits(Collection<ColumnRef> refs) {
      Hits hits = new Hits();
      if (refs.isEmpty() || !anySensitive) {
        return hits;
      }
      for (ColumnRef ref : refs) {
        resolve(ref, hits, refs);
      }
      return hits;
    }

    private void resolve(ColumnRef ref, Hits hits, Collection<ColumnRef> all) {
      if (map == null) {
        hits.columns.add(ref.toString());
        hits.opaque = true;
        return;
      }
      TableRef table = ref.table();
      if (table.name().isEmpty()) {
        boolean found = false;
        for (MappedRelation r : named()) {
          found |= column(r, ref.column(), hits);
        }
        if (!found && !SYSTEM_COLUMNS.contains(ref.column())) {
          hits.opaque = true; // renamed or added since the map was built, or a relation it lacks
        }
        return;
      }
      List<MappedRelation> relations = map.relationsNamed(table);
      if (relations.isEmpty()) {
        if (!system(table)) {
          hits.opaque = true; // a relation created since the map was built, or not one at all
        }
        return;
      }
      boolean found = false;
      for (MappedRelation r : relations) {
        found |= column(r, ref.column(), hits);
      }
      if (!found
          && !SYSTEM_COLUMNS.contains(ref.column())
          && !all.contains(new ColumnRef(table, "*"))) {
        // a column renamed or added since the map was built (ALTER TABLE ... RENAME COLUMN email
        // TO e, and the map is being rebuilt): its name says nothing, so it may be any column
        // (unless every column is there already: the relation's name as a whole row, u in
        // row_to_json(u), is also read as a column of that name)
        hits.opaque = true;
      }
    }

    /** Adds what {@code name} denotes in {@code r}; false if {@code r} has no such column. */
    private static boolean column(MappedRelation r, String name, Hits hits) {
      if (name.equals("*")) {
        for (MappedColumn c : r.columns()) {
          if (c.sensitive()) {
            hits.columns.add(r.qualifiedName() + "." + c.name());
            hits.opaque = true; // a whole row, or every column: the kind is not one
          }
        }
        return true;
      }
      Optional<MappedColumn> c = r.column(name);
      if (c.isPresent() && c.get().sensitive()) {
        hits.columns.add(r.qualifiedName() + "." + c.get().name());
        hits.kinds.add(c.get().kind().orElseThrow());
      }
      return c.isPresent();
    }

    /** Every mapped relation the statement reads or writes. */
    private Set<MappedRelation> named() {
      if (named == null) {
        named = new LinkedHashSet<>();
        for (TableRef t : statement.tablesRead()) {
          named.addAll(map.relationsNamed(t));
        }
        for (TableRef t : statement.tablesWritten()) {
          named.addAll(map.relationsNamed(t));
        }
      }
      return named;
    }

    boolean unmapped(TableRef table) {
      return map != null && map.relationsNamed(table).isEmpty() && !system(table);
    }

    private static boolean system(TableRef table) {
      return table.qualified()
          ? SYSTEM_SCHEMAS.contains(table.schema()) || table.schema().startsWith("pg_")
          : table.name().startsWith("pg_");
    }
  }
}
