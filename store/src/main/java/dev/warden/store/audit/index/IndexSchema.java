package dev.warden.store.audit.index;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * The index file's tables. The index is derived from the audit log and can always be rebuilt from
 * it, so a file of another layout version is emptied and rebuilt rather than migrated.
 *
 * <ul>
 *   <li>{@code logs}: per log, the last sequence number indexed (catching up starts after it);
 *   <li>{@code entries}: one row per result, a statement (intent, with its outcome once it arrives)
 *       or an event; {@code time} in microseconds since the epoch; {@code text_id} the statement
 *       text in {@code texts}; {@code entries.terms} holds all its {@code AuditTerms} as one string
 *       ({@link Terms}), to check a search's filters on each candidate without a second index;
 *       {@code doc} the record and {@code outcome} its outcome's, each whole or, when {@code base}
 *       (or {@code outcome_base}) names an entry holding an earlier record of the same session and
 *       shape whole in that column, as a {@link DocDelta} from it;
 *   <li>{@code term_ids}: each distinct term once, numbered; {@code saturated} once it has as many
 *       postings as a search may start from ({@code AuditIndex.DRIVE_CAP}), after which it gets no
 *       more: a term that common never starts a search, so its later postings would only cost;
 *   <li>{@code postings}: (term number, entry) for the entry's terms that can narrow a search
 *       ({@link Terms#indexed}, not saturated), the primary key doubling as the index by term, to
 *       start a search from the entries of its most selective term;
 *   <li>{@code texts}: each distinct statement text once (found by a 64-bit hash), so that a text
 *       run again and again (prepared statements, ORMs) costs its entries a number only;
 *   <li>{@code texts_fts}: FTS5 with the trigram tokenizer over {@code texts}, so that any
 *       substring of three characters or more is found through the index.
 * </ul>
 *
 * <p>Version 1 held every term of every entry by name and a copy of each entry's text in FTS5:
 * about 1.4 KB and, fed 64 records a transaction, 60-125 µs of CPU a record ({@code
 * AuditIndexIngestBenchmark}); version 3, fed as the indexer now does, 16-50 µs and 1.1 KB. Version
 * 4 stores records as deltas from a base ({@code base}, {@code outcome_base}).
 */
final class IndexSchema {
  static final int VERSION = 4;

  private static final String[] TABLES = {
    "texts_fts", "texts", "postings", "term_ids", "terms", "entries", "logs"
  };

  private static final String[] CREATE = {
    "CREATE TABLE IF NOT EXISTS logs (log_id TEXT PRIMARY KEY, last_seq INTEGER NOT NULL)"
        + " WITHOUT ROWID",
    """
    CREATE TABLE IF NOT EXISTS entries (
      id INTEGER PRIMARY KEY,
      log_id TEXT NOT NULL,
      seq INTEGER NOT NULL,
      time INTEGER NOT NULL,
      session TEXT,
      stmt INTEGER,
      awaiting INTEGER NOT NULL DEFAULT 0,
      rows INTEGER,
      duration_us INTEGER,
      text_id INTEGER,
      terms TEXT NOT NULL,
      doc BLOB NOT NULL,
      outcome_seq INTEGER,
      outcome BLOB,
      base INTEGER,
      outcome_base INTEGER)""",
    "CREATE INDEX IF NOT EXISTS entries_time ON entries (time, log_id, seq)",
    "CREATE INDEX IF NOT EXISTS entries_stmt ON entries (log_id, session, stmt)"
        + " WHERE session IS NOT NULL",
    "CREATE INDEX IF NOT EXISTS entries_rows ON entries (rows) WHERE rows IS NOT NULL",
    "CREATE INDEX IF NOT EXISTS entries_duration ON entries (duration_us)"
        + " WHERE duration_us IS NOT NULL",
    "CREATE INDEX IF NOT EXISTS entries_text ON entries (text_id) WHERE text_id IS NOT NULL",
    "CREATE TABLE IF NOT EXISTS term_ids (id INTEGER PRIMARY KEY, term TEXT NOT NULL UNIQUE,"
        + " saturated INTEGER NOT NULL DEFAULT 0)",
    "CREATE TABLE IF NOT EXISTS postings (term INTEGER NOT NULL, entry INTEGER NOT NULL,"
        + " PRIMARY KEY (term, entry)) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS texts (id INTEGER PRIMARY KEY, hash INTEGER NOT NULL,"
        + " text TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS texts_hash ON texts (hash)",
    "CREATE VIRTUAL TABLE IF NOT EXISTS texts_fts USING fts5(text, content='texts',"
        + " content_rowid='id', tokenize='trigram', columnsize=0)",
  };

  private IndexSchema() {}

  /** Creates the tables, emptying a file of another version first; true if it was emptied. */
  static boolean create(Connection c) throws SQLException {
    boolean emptied = false;
    try (Statement s = c.createStatement()) {
      int version;
      try (ResultSet r = s.executeQuery("PRAGMA user_version")) {
        version = r.next() ? r.getInt(1) : 0;
      }
      s.execute("BEGIN IMMEDIATE");
      try {
        if (version != VERSION && version != 0) {
          for (String table : TABLES) {
            s.execute("DROP TABLE IF EXISTS " + table);
          }
          emptied = true;
        }
        for (String sql : CREATE) {
          s.execute(sql);
        }
        s.execute("PRAGMA user_version = " + VERSION);
        s.execute("COMMIT");
      } catch (SQLException e) {
        s.execute("ROLLBACK");
        throw e;
      }
    }
    return emptied;
  }
}
