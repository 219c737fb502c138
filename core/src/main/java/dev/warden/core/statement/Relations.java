package dev.warden.core.statement;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The relations of one database and a session's search path, as the database's catalogue reported
 * them: what an unqualified relation name resolves to (THREATS S02, G15).
 *
 * <p>Resolution follows the server's: the schemas of the search path in order, with {@code
 * pg_catalog} first unless the path names it later; the first schema holding a relation of that
 * name wins. Temporary schemas are not in it: a session's own temporary relations shadow the
 * others, but they are the session's own, so resolving past them can only point policy at the
 * relation the session did not create. A name no schema holds stays unqualified (policy then
 * matches it against every schema).
 *
 * @param schemasByName for each relation name, the schemas that hold a relation of that name
 * @param searchPath the effective search path, implicit schemas included, in the order the server
 *     searches ({@code current_schemas(true)})
 */
public record Relations(Map<String, Set<String>> schemasByName, List<String> searchPath) {
  /** Nothing known: names stay as the statement writes them. */
  public static final Relations NONE = new Relations(Map.of(), List.of());

  public Relations {
    Map<String, Set<String>> copy = new HashMap<>();
    schemasByName.forEach((name, schemas) -> copy.put(name, Set.copyOf(schemas)));
    schemasByName = Map.copyOf(copy);
    searchPath = List.copyOf(searchPath);
  }

  public boolean known() {
    return !searchPath.isEmpty();
  }

  /** The schema an unqualified {@code name} resolves to, if a schema on the path holds it. */
  public Optional<String> schemaOf(String name) {
    Set<String> holders = schemasByName.get(name);
    if (holders == null) {
      return Optional.empty();
    }
    for (String schema : searchPath) {
      if (holders.contains(schema)) {
        return Optional.of(schema);
      }
    }
    return Optional.empty();
  }

  /** {@code table} with its schema filled in, where the statement leaves it out and it resolves. */
  public TableRef resolve(TableRef table) {
    if (table.qualified() || table.name().isEmpty()) {
      return table;
    }
    return schemaOf(table.name()).map(s -> new TableRef(s, table.name())).orElse(table);
  }

  /** {@code analysis} with every relation it names resolved; the same instance if none changes. */
  public Analysis resolve(Analysis analysis) {
    if (!known()) {
      return analysis;
    }
    List<Statement> resolved = new ArrayList<>(analysis.statements().size());
    boolean changed = false;
    for (Statement s : analysis.statements()) {
      Statement r = resolve(s);
      changed |= r != s;
      resolved.add(r);
    }
    return changed ? new Analysis(resolved, analysis.fingerprint()) : analysis;
  }

  private Statement resolve(Statement s) {
    Set<TableRef> read = tables(s.tablesRead());
    Set<TableRef> written = tables(s.tablesWritten());
    Set<ColumnRef> columnsRead = columns(s.columnsRead());
    Set<ColumnRef> columnsWritten = columns(s.columnsWritten());
    Set<ColumnRef> columnsComputed = columns(s.columnsComputed());
    Set<ColumnRef> columnsFiltered = columns(s.columnsFiltered());
    Optional<Statement> inner = s.inner().map(this::resolve);
    Optional<CopyOut> copyOut =
        s.copyOut()
            .map(
                c -> {
                  TableRef t = c.table().map(this::resolve).orElse(null);
                  return t == null || t.equals(c.table().get()) ? c : c.withTable(t);
                });
    if (read.equals(s.tablesRead())
        && written.equals(s.tablesWritten())
        && columnsRead.equals(s.columnsRead())
        && columnsWritten.equals(s.columnsWritten())
        && columnsComputed.equals(s.columnsComputed())
        && columnsFiltered.equals(s.columnsFiltered())
        && inner.equals(s.inner())
        && copyOut.equals(s.copyOut())) {
      return s;
    }
    return new Statement(
        s.kind(),
        s.command(),
        read,
        written,
        columnsRead,
        columnsWritten,
        columnsComputed,
        columnsFiltered,
        s.functions(),
        s.hasWhere(),
        s.whereTriviallyTrue(),
        s.flags(),
        s.unknownReason(),
        s.preparedName(),
        inner,
        s.reasonSetting(),
        copyOut);
  }

  private Set<TableRef> tables(Set<TableRef> tables) {
    Set<TableRef> out = new LinkedHashSet<>();
    for (TableRef t : tables) {
      out.add(resolve(t));
    }
    return out;
  }

  private Set<ColumnRef> columns(Set<ColumnRef> columns) {
    Set<ColumnRef> out = new LinkedHashSet<>();
    for (ColumnRef c : columns) {
      TableRef t = resolve(c.table());
      out.add(t == c.table() ? c : new ColumnRef(t, c.column()));
    }
    return out;
  }

  @Override
  public boolean equals(Object o) {
    return o == this; // snapshots are compared by identity: each load is a new one
  }

  @Override
  public int hashCode() {
    return System.identityHashCode(this);
  }

  /** A snapshot's size, for logs. */
  @Override
  public String toString() {
    return "Relations[" + schemasByName.size() + " names, search path " + searchPath + "]";
  }
}
