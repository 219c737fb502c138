package dev.warden.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.testkit.AuditedPostgres.AuditEntry;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The oracle itself must see what ran, attribute it to the right session, and nothing else. */
class AuditedPostgresTest {
  private static final AuditedPostgres PG = AuditedPostgres.shared();
  private static final String DB = "audited_" + UUID.randomUUID().toString().replace("-", "");

  @BeforeAll
  static void createDatabase() {
    PG.admin("CREATE DATABASE " + DB);
  }

  @AfterAll
  static void dropDatabase() {
    PG.admin("DROP DATABASE IF EXISTS " + DB + " WITH (FORCE)");
  }

  private static String app() {
    return "t-" + UUID.randomUUID();
  }

  @Test
  void anOrdinarySelectShowsUpWithItsApplicationName() throws Exception {
    String app = app();
    try (Connection c = PG.connect(DB, app);
        Statement s = c.createStatement();
        ResultSet r = s.executeQuery("SELECT 'a, \"quoted\"\nline' AS x")) {
      r.next();
    }
    PG.flush();

    List<AuditEntry> entries = PG.entriesFor(app);
    assertThat(entries)
        .anySatisfy(
            e -> {
              assertThat(e.auditClass()).isEqualTo("READ");
              assertThat(e.command()).isEqualTo("SELECT");
              assertThat(e.statement()).isEqualTo("SELECT 'a, \"quoted\"\nline' AS x");
              assertThat(e.applicationName()).isEqualTo(app);
            });
  }

  @Test
  void aDoBlocksDynamicDropShowsUpAsASubStatement() throws Exception {
    String app = app();
    try (Connection c = PG.connect(DB, app);
        Statement s = c.createStatement()) {
      s.execute("CREATE TABLE victim_dyn (id int)");
      s.execute("DO $$ BEGIN EXECUTE 'DR' || 'OP TABLE victim_dyn'; END $$");
    }
    PG.flush();

    assertThat(PG.entriesFor(app))
        .anySatisfy(
            e -> {
              assertThat(e.command()).isEqualTo("DROP TABLE");
              assertThat(e.auditClass()).isEqualTo("DDL");
              assertThat(e.substatementId()).isGreaterThan(1);
              assertThat(e.statement()).isEqualTo("DROP TABLE victim_dyn");
            });
  }

  @Test
  void aStatementTheServerRejectsLeavesNoEntry() throws Exception {
    String app = app();
    try (Connection c = PG.connect(DB, app);
        Statement s = c.createStatement()) {
      try {
        s.execute("DROP TABLE; warden_refused_marker");
      } catch (java.sql.SQLException expected) {
        assertThat(expected.getSQLState()).isEqualTo("42601");
      }
      s.execute("SELECT 2");
    }
    PG.flush();

    assertThat(PG.entriesFor(app))
        .extracting(AuditEntry::command)
        .doesNotContain("DROP TABLE")
        .contains("SELECT");
  }

  @Test
  void otherSessionsAreNotAttributed() throws Exception {
    String mine = app();
    String theirs = app();
    try (Connection a = PG.connect(DB, mine);
        Connection b = PG.connect(DB, theirs);
        Statement sa = a.createStatement();
        Statement sb = b.createStatement()) {
      sa.execute("SELECT 'mine'");
      sb.execute("SELECT 'theirs'");
    }
    PG.flush();

    assertThat(PG.entriesFor(mine))
        .extracting(AuditEntry::statement)
        .contains("SELECT 'mine'")
        .doesNotContain("SELECT 'theirs'");
  }
}
