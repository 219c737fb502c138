package dev.warden.store.embedded;

import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;

/**
 * The schema, versioned with {@code PRAGMA user_version}. Migrations only go forward: version N is
 * reached by applying migration N to version N-1, and a migration, once released, is never edited;
 * a change is a new migration at the end of the list. A file from a newer Warden is refused rather
 * than written to by code that does not know its tables.
 */
final class Schema {
  /** Migration i (0-based) takes the schema from version i to version i + 1. */
  private static final List<List<String>> MIGRATIONS =
      List.of(
          List.of(
              """
              CREATE TABLE users (
                name       TEXT    NOT NULL PRIMARY KEY,
                groups     TEXT    NOT NULL,
                salt       BLOB    NOT NULL CHECK (length(salt) > 0),
                iterations INTEGER NOT NULL CHECK (iterations > 0),
                stored_key BLOB    NOT NULL CHECK (length(stored_key) = 32),
                server_key BLOB    NOT NULL CHECK (length(server_key) = 32),
                created    TEXT    NOT NULL
              ) STRICT
              """),
          // Administrative changes made here (users), written in the same transaction as the
          // change and moved into the audit trail by the server: see AuditOutbox.
          List.of(
              """
              CREATE TABLE audit_outbox (
                id      INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
                time    TEXT    NOT NULL,
                event   TEXT    NOT NULL,
                actor   TEXT    NOT NULL,
                details TEXT    NOT NULL
              ) STRICT
              """),
          // Service tokens: the SCRAM verifier of each token, never the token. Times are
          // Instant.toString() text; NULL means never (expires), not yet (revoked, last_used).
          List.of(
              """
              CREATE TABLE service_tokens (
                name         TEXT    NOT NULL PRIMARY KEY,
                groups       TEXT    NOT NULL,
                on_behalf_of TEXT,
                created      TEXT    NOT NULL,
                expires      TEXT,
                revoked      TEXT,
                last_used    TEXT,
                created_by   TEXT    NOT NULL,
                description  TEXT    NOT NULL,
                salt         BLOB    NOT NULL CHECK (length(salt) > 0),
                iterations   INTEGER NOT NULL CHECK (iterations > 0),
                stored_key   BLOB    NOT NULL CHECK (length(stored_key) = 32),
                server_key   BLOB    NOT NULL CHECK (length(server_key) = 32)
              ) STRICT
              """),
          // Approval requests (issue 7), one row each; see SqliteApprovalStore. Groups, the
          // requirement and the reviews are JSON; times are fixed-width UTC text, so text order is
          // time order; version is bumped by every change.
          List.of(
              """
              CREATE TABLE approvals (
                id               TEXT    NOT NULL PRIMARY KEY,
                requester        TEXT    NOT NULL,
                requester_groups TEXT    NOT NULL,
                environment      TEXT    NOT NULL,
                database_name    TEXT    NOT NULL,
                statement        TEXT    NOT NULL,
                fingerprint      TEXT    NOT NULL,
                binding          TEXT    NOT NULL,
                rule             TEXT    NOT NULL,
                why              TEXT    NOT NULL,
                reason           TEXT,
                row_count        INTEGER CHECK (row_count >= 0),
                requirement      TEXT    NOT NULL,
                created          TEXT    NOT NULL,
                expires          TEXT    NOT NULL,
                status           TEXT    NOT NULL CHECK (status IN
                  ('PENDING', 'APPROVED', 'DENIED', 'EXPIRED', 'USED', 'CANCELLED')),
                reviews          TEXT    NOT NULL,
                used             TEXT,
                on_behalf_of     TEXT,
                version          INTEGER NOT NULL
              ) STRICT
              """,
              "CREATE INDEX approvals_by_binding ON approvals (requester, environment, binding)",
              "CREATE INDEX approvals_by_created ON approvals (created)",
              "CREATE INDEX approvals_by_status ON approvals (status, created)"),
          // Access requests (issue 7, just-in-time access): a request is of a kind; an access
          // request names a role and a duration (ISO-8601), and once approved its window's start
          // and end (fixed-width UTC text, as the other times). Existing rows are statements'.
          List.of(
              "ALTER TABLE approvals ADD COLUMN kind TEXT NOT NULL DEFAULT 'statement'"
                  + " CHECK (kind IN ('statement', 'access'))",
              "ALTER TABLE approvals ADD COLUMN access_role TEXT",
              "ALTER TABLE approvals ADD COLUMN access_duration TEXT",
              "ALTER TABLE approvals ADD COLUMN window_start TEXT",
              "ALTER TABLE approvals ADD COLUMN window_end TEXT",
              "CREATE INDEX approvals_open_windows ON approvals"
                  + " (kind, status, requester, environment, window_end)"));

  /** The version this build writes. */
  static final int CURRENT_VERSION = MIGRATIONS.size();

  private Schema() {}

  /** Brings the file up to {@link #CURRENT_VERSION} in one transaction; returns the old version. */
  static int migrate(SqliteDatabase db) {
    return db.write(
        c -> {
          int version;
          try (Statement s = c.createStatement();
              ResultSet rs = s.executeQuery("PRAGMA user_version")) {
            version = rs.next() ? rs.getInt(1) : 0;
          }
          if (version > CURRENT_VERSION) {
            throw new StoreException(
                "the store has schema version "
                    + version
                    + ", written by a newer Warden; this one knows up to "
                    + CURRENT_VERSION);
          }
          if (version < 0) {
            throw new StoreException("the store has a negative schema version: " + version);
          }
          try (Statement s = c.createStatement()) {
            for (int v = version; v < CURRENT_VERSION; v++) {
              for (String sql : MIGRATIONS.get(v)) {
                s.execute(sql);
              }
            }
            // PRAGMA takes no parameters; the value is an int of ours, not input.
            s.execute("PRAGMA user_version = " + CURRENT_VERSION);
          }
          return version;
        });
  }

  static int version(SqliteDatabase db) {
    return db.read(
        c -> {
          try (Statement s = c.createStatement();
              ResultSet rs = s.executeQuery("PRAGMA user_version")) {
            return rs.next() ? rs.getInt(1) : 0;
          }
        });
  }
}
