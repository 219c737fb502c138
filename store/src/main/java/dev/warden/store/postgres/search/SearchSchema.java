package dev.warden.store.postgres.search;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
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

  private static final String[] INDEXES = {
    "CREATE INDEX IF NOT EXISTS warden_audit_search_time ON warden_audit (time, log_id, seq)",
    "CREATE INDEX IF NOT EXISTS warden_audit_search_doc ON warden_audit"
        + " USING gin (doc jsonb_path_ops)",
    "CREATE INDEX IF NOT EXISTS warden_audit_search_names ON warden_audit"
        + " USING gin (warden_audit_names_v1(doc))",
    "CREATE INDEX IF NOT EXISTS warden_audit_search_stmt ON warden_audit"
        + " (log_id, (doc->>'session'), (doc->>'stmt'), seq) WHERE (doc->>'stmt') IS NOT NULL",
  };

  private static final String TEXT_INDEX =
      "CREATE INDEX IF NOT EXISTS warden_audit_search_text ON warden_audit"
          + " USING gin ((doc->>'text') gin_trgm_ops)";

  private SearchSchema() {}

  /**
   * Creates what is missing.
   *
   * @return whether statement text has its trigram index
   */
  static boolean create(Connection c) throws SQLException {
    boolean autoCommit = c.getAutoCommit();
    c.setAutoCommit(false);
    try (Statement s = c.createStatement()) {
      s.execute("SELECT pg_advisory_xact_lock(" + DDL_LOCK + ")");
      if (!exists(s, "SELECT to_regclass('warden_audit') IS NOT NULL")) {
        throw new SQLException(
            "the table warden_audit does not exist (the PostgreSQL audit store creates it)");
      }
      boolean trigrams =
          exists(s, "SELECT count(*) > 0 FROM pg_extension WHERE extname = 'pg_trgm'");
      if (!trigrams) {
        s.execute("SAVEPOINT warden_trgm");
        try {
          s.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm");
          s.execute("RELEASE SAVEPOINT warden_trgm");
          trigrams = true;
        } catch (SQLException e) {
          s.execute("ROLLBACK TO SAVEPOINT warden_trgm");
          log.warn(
              "audit search: the pg_trgm extension cannot be created ({}); text searches run"
                  + " without a trigram index",
              e.getMessage());
        }
      }
      if (!exists(s, "SELECT to_regprocedure('warden_audit_names_v1(jsonb)') IS NOT NULL")) {
        s.execute(NAMES_FUNCTION);
      }
      for (String sql : INDEXES) {
        s.execute(sql);
      }
      if (trigrams) {
        s.execute(TEXT_INDEX);
      }
      c.commit();
      return trigrams;
    } catch (SQLException e) {
      c.rollback();
      throw e;
    } finally {
      c.setAutoCommit(autoCommit);
    }
  }

  private static boolean exists(Statement s, String sql) throws SQLException {
    try (ResultSet r = s.executeQuery(sql)) {
      return r.next() && r.getBoolean(1);
    }
  }
}
