package dev.warden.store.audit.index;

import static dev.warden.store.audit.index.AuditFixture.allow;
import static dev.warden.store.audit.index.AuditFixture.intent;
import static dev.warden.store.audit.index.AuditFixture.outcome;
import static dev.warden.store.audit.index.AuditFixture.session;
import static dev.warden.store.audit.index.AuditFixture.statement;
import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.core.audit.ChainedRecord;
import dev.warden.core.audit.StatementOutcome.Status;
import dev.warden.core.audit.search.AuditQuery;
import dev.warden.core.audit.search.AuditResults;
import dev.warden.core.gate.SessionContext;
import dev.warden.core.statement.StatementKind;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What keeps the index cheap to keep up to date, and that it changes no answer: a repeated text is
 * stored (and trigram-indexed) once, a common term stops getting postings once it could no longer
 * start a search, common terms get none, and an outcome still finds its intent when the index was
 * reopened in between (nothing remembered).
 */
class AuditIndexCostTest {
  private static final String LOG = "log-warden-a";
  private static final int CAP = 5;

  @TempDir Path dir;

  /** 60 statements of one busy session, the same text each time, then one of a rare session. */
  private static List<ChainedRecord> workload() {
    AuditFixture.Writer w = new AuditFixture.Writer("warden-a");
    SessionContext busy = session("busy", "bob", "production", "app");
    Instant t = AuditFixture.NOW.minusSeconds(3600);
    for (int n = 1; n <= 60; n++) {
      t = t.plusMillis(10);
      w.add(
          intent(
              t,
              busy,
              n,
              "SELECT abalance FROM pgbench_accounts WHERE aid = $1",
              allow(
                  statement(
                      StatementKind.READ, "SELECT", "public.pgbench_accounts", List.of("aid")))));
      w.add(
          outcome(
              t.plusNanos(50_000), "busy", n, Status.OK, OptionalLong.of(1), Duration.ZERO, ""));
    }
    SessionContext rare = session("rare", "carol", "production", "psql");
    w.add(
        intent(
            t.plusSeconds(1),
            rare,
            1,
            "select abalance from pgbench_accounts where aid = 7",
            allow(
                statement(
                    StatementKind.READ, "SELECT", "public.pgbench_accounts", List.of("aid")))));
    return w.chain(LOG);
  }

  @Test
  void cheapLayoutAnswersAsTheReference() throws Exception {
    List<ChainedRecord> records = workload();
    ReferenceSearch reference = new ReferenceSearch(Map.of(LOG, records), AuditFixture.CLOCK);
    Path file = dir.resolve("index.db");
    try (AuditIndex index = AuditIndex.open(file, AuditFixture.CLOCK, CAP)) {
      for (int i = 0; i < records.size(); i += 7) {
        index.accept(LOG, records.subList(i, Math.min(records.size(), i + 7)));
      }
      for (String q :
          List.of(
              "user:bob",
              "user:carol",
              "user:bob session:busy",
              "session:rare",
              "table:pgbench_accounts user:carol",
              "column:aid -user:bob",
              "\"aid = $1\"",
              "\"where aid = 7\"",
              "abalance user:carol",
              "verdict:allowed status:ok",
              "type:intent -type:outcome",
              "env:production user:b*",
              "user:*",
              "rows>0 user:bob")) {
        AuditQuery query = AuditQuery.parse(q);
        AuditResults expected = reference.search(query, 200);
        assertThat(index.search(query, 200).hits()).as(q).isEqualTo(expected.hits());
        assertThat(expected.hits()).as(q).isNotEmpty();
      }
    }
    // Searched with a larger cap than it was built with, a saturated term (CAP postings) must still
    // not start a search: its postings are incomplete.
    try (AuditIndex index = AuditIndex.open(file, AuditFixture.CLOCK, 1000)) {
      for (String q : List.of("user:bob", "session:busy", "table:pgbench_accounts", "user:b*")) {
        AuditQuery query = AuditQuery.parse(q);
        assertThat(index.search(query, 200).hits())
            .as(q)
            .isEqualTo(reference.search(query, 200).hits());
      }
    }
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file)) {
      // Two texts differing only in case and constant: stored once each, whatever the repeats.
      assertThat(count(c, "SELECT count(*) FROM texts")).isEqualTo(2);
      assertThat(count(c, "SELECT count(*) FROM entries")).isEqualTo(61);
      // Bob's 60 statements: postings stop at the cap; carol's one has its posting.
      assertThat(postings(c, "user:bob")).isEqualTo(CAP);
      assertThat(saturated(c, "user:bob")).isTrue();
      assertThat(postings(c, "user:carol")).isEqualTo(1);
      assertThat(saturated(c, "user:carol")).isFalse();
      // Terms too common to narrow a search get no posting at all.
      assertThat(postings(c, "verdict:allowed")).isZero();
      assertThat(postings(c, "env:production")).isZero();
    }
  }

  @Test
  void anOutcomeFindsItsIntentAfterAReopen() {
    List<ChainedRecord> records = workload();
    Path file = dir.resolve("index.db");
    try (AuditIndex index = AuditIndex.open(file, AuditFixture.CLOCK, CAP)) {
      index.accept(LOG, records.subList(0, 1)); // The first intent only.
    }
    try (AuditIndex index = AuditIndex.open(file, AuditFixture.CLOCK, CAP)) {
      index.accept(LOG, records.subList(1, records.size()));
      ReferenceSearch reference = new ReferenceSearch(Map.of(LOG, records), AuditFixture.CLOCK);
      AuditQuery query = AuditQuery.parse("session:busy");
      assertThat(index.search(query, 200).hits()).isEqualTo(reference.search(query, 200).hits());
      assertThat(index.search(query, 200).hits()).hasSize(60);
    }
  }

  @Test
  void aFileOfTheFirstLayoutIsEmptiedAndRebuilt() throws Exception {
    Path file = dir.resolve("index.db");
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file);
        Statement s = c.createStatement()) {
      s.execute("CREATE TABLE logs (log_id TEXT PRIMARY KEY, last_seq INTEGER NOT NULL)");
      s.execute("INSERT INTO logs VALUES ('" + LOG + "', 99)");
      s.execute("CREATE TABLE terms (term TEXT NOT NULL, entry INTEGER NOT NULL)");
      s.execute("CREATE VIRTUAL TABLE texts USING fts5(text, tokenize='trigram')");
      s.execute("PRAGMA user_version = 1");
    }
    try (AuditIndex index = AuditIndex.open(file, AuditFixture.CLOCK, CAP)) {
      assertThat(index.lastSeq(LOG)).isZero();
      List<ChainedRecord> records = workload();
      index.accept(LOG, records);
      assertThat(index.search(AuditQuery.parse("\"aid = 7\""), 10).hits()).hasSize(1);
    }
  }

  @Test
  void aFileOfTheThirdLayoutIsEmptiedAndRebuilt() throws Exception {
    Path file = dir.resolve("index.db");
    List<ChainedRecord> records = workload();
    try (AuditIndex index = AuditIndex.open(file, AuditFixture.CLOCK, CAP)) {
      index.accept(LOG, records);
    }
    // Version 3 had no base columns: a file of it, whatever it holds, is emptied at open.
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file);
        Statement s = c.createStatement()) {
      s.execute("DROP TABLE entries");
      s.execute(
          "CREATE TABLE entries (id INTEGER PRIMARY KEY, log_id TEXT NOT NULL, seq INTEGER NOT"
              + " NULL, time INTEGER NOT NULL, session TEXT, stmt INTEGER, awaiting INTEGER NOT"
              + " NULL DEFAULT 0, rows INTEGER, duration_us INTEGER, text_id INTEGER, terms TEXT"
              + " NOT NULL, doc BLOB NOT NULL, outcome_seq INTEGER, outcome BLOB)");
      s.execute("PRAGMA user_version = 3");
    }
    try (AuditIndex index = AuditIndex.open(file, AuditFixture.CLOCK, CAP)) {
      assertThat(index.lastSeq(LOG)).isZero();
      index.accept(LOG, records);
      ReferenceSearch reference = new ReferenceSearch(Map.of(LOG, records), AuditFixture.CLOCK);
      for (String q : List.of("session:busy", "\"aid = 7\"", "rows>0")) {
        AuditQuery query = AuditQuery.parse(q);
        assertThat(index.search(query, 200).hits())
            .as(q)
            .isEqualTo(reference.search(query, 200).hits())
            .isNotEmpty();
      }
    }
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file)) {
      assertThat(count(c, "PRAGMA user_version")).isEqualTo(IndexSchema.VERSION);
      // The busy session's 60 statements: the first stored whole, the others as deltas from it.
      assertThat(count(c, "SELECT count(*) FROM entries WHERE base IS NOT NULL")).isEqualTo(59);
      assertThat(count(c, "SELECT count(*) FROM entries WHERE outcome_base IS NOT NULL"))
          .isEqualTo(59);
    }
  }

  private static long count(Connection c, String sql) throws SQLException {
    try (Statement s = c.createStatement();
        ResultSet r = s.executeQuery(sql)) {
      r.next();
      return r.getLong(1);
    }
  }

  private static long postings(Connection c, String term) throws SQLException {
    try (PreparedStatement p =
        c.prepareStatement(
            "SELECT count(*) FROM postings p JOIN term_ids t ON t.id = p.term WHERE t.term = ?")) {
      p.setString(1, term);
      try (ResultSet r = p.executeQuery()) {
        r.next();
        return r.getLong(1);
      }
    }
  }

  private static boolean saturated(Connection c, String term) throws SQLException {
    try (PreparedStatement p =
        c.prepareStatement("SELECT saturated FROM term_ids WHERE term = ?")) {
      p.setString(1, term);
      try (ResultSet r = p.executeQuery()) {
        return r.next() && r.getInt(1) != 0;
      }
    }
  }
}
