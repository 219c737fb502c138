package dev.warden.store.postgres.search;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The function and indexes the search needs on {@code warden_audit} (which the PostgreSQL audit
 * store creates), each created only if missing, under an advisory lock so that instances starting
 * together do not race.
 *
 * <ul>
 *   <li>{@code warden_audit_search_time} on {@code (time, log_id, seq)}: newest first;
 *   <li>{@code warden_audit_search_stmt} on log, session and statement number: pairs each intent
 *       with the record after it;
 *   <li>{@code warden_audit_search_doc}, GIN {@code jsonb_path_ops} over {@code doc}: field filters
 *       as containment ({@code doc @> '{"user":"alice"}'});
 *   <li>{@code warden_audit_search_names}, GIN over {@code warden_audit_names_v1(doc)}: the {@code
 *       table:} and {@code column:} terms of {@code AuditTerms} (every dotted suffix of each name),
 *       which containment cannot express. The function's name carries a version: an index depends
 *       on its exact meaning, so a changed meaning gets a new name and index, never a new body;
 *   <li>{@code warden_audit_search_text}, a {@code pg_trgm} GIN index over statement text, when the
 *       extension is there or can be created ({@code CREATE EXTENSION} needs privileges; it is a
 *       trusted extension since PostgreSQL 13, so a database owner may). Without it text searches
 *       give the same results, more slowly.
 * </ul>
 */
final class SearchSchema {
  private static final Logger log = LoggerFactory.getLogger(SearchSchema.class);

  /** "wardenSr" as a number: the advisory lock of the search's DDL. */
  private static final long DDL_LOCK = 0x77617264656e5372L;

  static final String NAMES_FUNCTION =
      """
      CREATE FUNCTION warden_audit_names_v1(d jsonb) RETURNS text[]
      LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE COST 1000 AS $f$
      SELECT coalesce(array_agg(DISTINCT n.f || ':' || array_to_string(n.p[i:], '.')), '{}'::text[])
      FROM (SELECT a.f, string_to_array(e #>> '{}', '.') AS p
            FROM (VALUES ('table', 'tables'), ('column', 'columns')) a(f, j),
                 jsonb_array_elements(CASE WHEN jsonb_typeof(d->a.j) = 'array'
                                           THEN d->a.j ELSE '[]'::jsonb END) e
            WHERE jsonb_typeof(e) = 'string') n,
           generate_series(1, coalesce(array_length(n.p, 1), 0)) i
      WHERE array_to_string(n.p[i:], '.') <> ''
      $f$""";

  /** Each index by name, with the statement creating it. */
  private static final Map<String, String> INDEXES = new LinkedHashMap<>();

  static {
    INDEXES.put(
        "warden_audit_search_time",
        "CREATE INDEX IF NOT EXISTS warden_audit_search_time ON warden_audit (time, log_id, seq)");
    INDEXES.put(
        "warden_audit_search_stmt",
        "CREATE INDEX IF NOT EXISTS warden_audit_search_stmt ON warden_audit"
            + " (log_id, (doc->>'session'), (doc->>'stmt'), seq) WHERE (doc->>'stmt') IS NOT NULL");
    INDEXES.put(
        "warden_audit_search_doc",
        "CREATE INDEX IF NOT EXISTS warden_audit_search_doc ON warden_audit"
            + " USING gin (doc jsonb_path_ops)");
    INDEXES.put(
        "warden_audit_search_names",
        "CREATE INDEX IF NOT EXISTS warden_audit_search_names ON warden_audit"
            + " USING gin (warden_audit_names_v1(doc))");
    INDEXES.put(
        "warden_audit_search_text",
        "CREATE INDEX IF NOT EXISTS warden_audit_search_text ON warden_audit"
            + " USING gin ((doc->>'text') gin_trgm_ops)");
  }

  /**
   * What the search found in place after {@link #create}.
   *
   * @param namesFunction whether {@code warden_audit_names_v1} exists (queries use it only then)
   * @param trigrams whether statement text has its trigram index
   * @param missing what could not be created, for the log and the administrator
   */
  record Prepared(boolean namesFunction, boolean trigrams, List<String> missing) {}

  private SearchSchema() {}

  /**
   * Creates what is missing and can be created. A role without the privileges (the audit store
   * recommends SELECT and INSERT only, with an administrator creating the rest) gets a warning
   * naming each statement to run instead: searches give the same results without the indexes, more
   * slowly.
   *
   * @throws SQLException when the table does not exist or the database fails
   */
  static Prepared create(Connection c) throws SQLException {
    boolean autoCommit = c.getAutoCommit();
    c.setAutoCommit(false);
    List<String> missing = new ArrayList<>();
    try (Statement s = c.createStatement()) {
      s.execute("SELECT pg_advisory_xact_lock(" + DDL_LOCK + ")");
      if (!exists(s, "SELECT to_regclass('warden_audit') IS NOT NULL")) {
        throw new SQLException(
            "the table warden_audit does not exist (the PostgreSQL audit store creates it)");
      }
      boolean trigrams =
          exists(s, "SELECT count(*) > 0 FROM pg_extension WHERE extname = 'pg_trgm'")
              || attempt(s, "CREATE EXTENSION IF NOT EXISTS pg_trgm", missing);
      boolean names =
          exists(s, "SELECT to_regprocedure('warden_audit_names_v1(jsonb)') IS NOT NULL")
              || attempt(s, NAMES_FUNCTION, missing);
      for (Map.Entry<String, String> index : INDEXES.entrySet()) {
        boolean needs =
            switch (index.getKey()) {
              case "warden_audit_search_names" -> names;
              case "warden_audit_search_text" -> trigrams;
              default -> true;
            };
        if (exists(s, "SELECT to_regclass('" + index.getKey() + "') IS NOT NULL")) {
          continue;
        }
        if (needs) {
          attempt(s, index.getValue(), missing);
        } else {
          missing.add(index.getValue()); // after what it is built on
        }
      }
      c.commit();
      if (!missing.isEmpty()) {
        log.warn(
            "audit search: {} of its functions and indexes cannot be created by this role;"
                + " searches give the same results without them, more slowly. An administrator"
                + " can run: {}",
            missing.size(),
            String.join("; ", missing));
      }
      return new Prepared(names, trigrams, missing);
    } catch (SQLException e) {
      c.rollback();
      throw e;
    } finally {
      c.setAutoCommit(autoCommit);
    }
  }

  /** Runs {@code sql} in a savepoint; on failure notes it as missing and goes on. */
  private static boolean attempt(Statement s, String sql, List<String> missing)
      throws SQLException {
    s.execute("SAVEPOINT warden_search");
    try {
      s.execute(sql);
      s.execute("RELEASE SAVEPOINT warden_search");
      return true;
    } catch (SQLException e) {
      s.execute("ROLLBACK TO SAVEPOINT warden_search");
      log.debug("audit search: {} failed: {}", sql, e.getMessage());
      missing.add(sql.replaceAll("\\s+", " ").trim());
      return false;
    }
  }

  private static boolean exists(Statement s, String sql) throws SQLException {
    try (ResultSet r = s.executeQuery(sql)) {
      return r.next() && r.getBoolean(1);
    }
  }
}
