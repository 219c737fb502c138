package dev.warden.proxy.postgres;

import dev.warden.core.statement.Relations;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * What each upstream database's catalogue says about its relations, so that unqualified names in
 * statements are resolved as the server resolves them (see {@link Relations}).
 *
 * <p>A snapshot is loaded over the upstream connection of a session when none is current: when the
 * session starts, before anything of the client's, or, with nothing in flight and no transaction
 * open, just before a simple Query or a Parse of the unnamed statement (the first drops the unnamed
 * statement and portal anyway, the second replaces the unnamed statement, and outside a transaction
 * no portal is open). Warden sends {@link #QUERY} and reads its rows instead of relaying them. It
 * is the upstream role's own view, with its search path. A snapshot is current for a configured
 * time (schema changes made around Warden are seen within it), and a schema change allowed through
 * Warden makes it stale at once; until a snapshot exists, names stay as written and policy matches
 * them in every schema. Shared by all event loops.
 */
final class Catalogs {
  /** Relations read at most; a database with more is not resolved (a partial map could mislead). */
  static final int MAX_RELATIONS = 200_000;

  /**
   * The relations of every schema but TOAST and temporary ones, then the effective search path in
   * order. Every name is schema-qualified, so the session's settings cannot change what it reads.
   */
  static final String QUERY =
      "/* warden: catalogue */ SELECT 'r', n.nspname, c.relname FROM pg_catalog.pg_class c"
          + " JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace"
          + " WHERE c.relkind OPERATOR(pg_catalog.=) ANY ('{r,p,v,m,f,S}'::pg_catalog.\"char\"[])"
          + " AND n.nspname OPERATOR(pg_catalog.!~) '^pg_(toast|temp_|toast_temp_)'"
          + " UNION ALL SELECT 'p', s, pg_catalog.lpad(i::pg_catalog.text, 10, '0')"
          + " FROM pg_catalog.unnest(pg_catalog.current_schemas(true)) WITH ORDINALITY AS p(s, i)";

  /** Which catalogue: an environment's database, as one upstream role sees it. */
  record Key(String environment, String database, String role) {}

  private record Entry(Relations relations, boolean stale, boolean loading, long loadedAt) {}

  private final Map<Key, Entry> entries = new ConcurrentHashMap<>();
  private final long maxAgeNanos;
  private final LongSupplier nanoTime;

  /** Snapshots older than {@code maxAge} are read again. */
  Catalogs(Duration maxAge) {
    this(maxAge, System::nanoTime);
  }

  Catalogs(Duration maxAge, LongSupplier nanoTime) {
    this.maxAgeNanos = maxAge.toNanos();
    this.nanoTime = nanoTime;
  }

  /** The current snapshot for {@code key}, or {@link Relations#NONE}. */
  Relations current(Key key) {
    Entry e = entries.get(key);
    return e == null ? Relations.NONE : e.relations();
  }

  /** True if the caller should load {@code key}'s snapshot now (no other session is loading it). */
  boolean claimLoad(Key key) {
    Entry current = entries.get(key);
    if (current != null
        && (current.loading()
            || (!current.stale() && nanoTime.getAsLong() - current.loadedAt() <= maxAgeNanos))) {
      return false; // the common case, without taking the map's lock
    }
    boolean[] claimed = {false};
    entries.compute(
        key,
        (k, e) -> {
          if (e == null) {
            claimed[0] = true;
            return new Entry(Relations.NONE, true, true, 0);
          }
          boolean old = nanoTime.getAsLong() - e.loadedAt() > maxAgeNanos;
          if ((e.stale() || old) && !e.loading()) {
            claimed[0] = true;
            return new Entry(e.relations(), true, true, e.loadedAt());
          }
          return e;
        });
    return claimed[0];
  }

  void loaded(Key key, Relations relations) {
    entries.put(key, new Entry(relations, false, false, nanoTime.getAsLong()));
  }

  /** The load failed: a later session tries again. */
  void failed(Key key) {
    entries.computeIfPresent(key, (k, e) -> new Entry(e.relations(), true, false, e.loadedAt()));
  }

  /** A schema change may have happened: the next session reloads. */
  void invalidate(Key key) {
    entries.computeIfPresent(
        key, (k, e) -> new Entry(e.relations(), true, e.loading(), e.loadedAt()));
  }

  /** Collects the rows of {@link #QUERY} for one load. */
  static final class Load {
    final Key key;
    private final Map<String, Set<String>> schemasByName = new HashMap<>();
    private final TreeMap<String, String> path = new TreeMap<>();
    private int rows;
    private boolean failed;

    Load(Key key) {
      this.key = key;
    }

    void row(List<byte[]> values) {
      if (values.size() != 3 || values.get(0) == null || values.get(1) == null) {
        failed = true;
        return;
      }
      String kind = text(values.get(0));
      String a = text(values.get(1));
      String b = values.get(2) == null ? "" : text(values.get(2));
      if (kind.equals("p")) {
        path.put(b, a);
      } else if (++rows <= MAX_RELATIONS) {
        schemasByName.computeIfAbsent(b, n -> new HashSet<>(2)).add(a);
      }
    }

    void failed() {
      failed = true;
    }

    /** The snapshot, or {@link Relations#NONE} when the load failed or the database is too big. */
    Relations relations() {
      if (failed || rows > MAX_RELATIONS || path.isEmpty()) {
        return Relations.NONE;
      }
      return new Relations(schemasByName, new ArrayList<>(path.values()));
    }

    private static String text(byte[] bytes) {
      return new String(bytes, StandardCharsets.UTF_8);
    }
  }
}
