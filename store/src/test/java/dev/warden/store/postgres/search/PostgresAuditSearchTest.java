package dev.warden.store.postgres.search;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.core.audit.ChainedRecord;
import dev.warden.core.audit.search.AuditQuery;
import dev.warden.core.audit.search.AuditSearch;
import dev.warden.core.audit.search.AuditTerms;
import dev.warden.store.audit.index.AuditFixture;
import dev.warden.store.audit.index.AuditSearchContract;
import dev.warden.store.audit.index.Payloads;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * The search contract against PostgreSQL: a database of its own on the machine's server, the table
 * created with the audit store's DDL, records inserted as the store writes them.
 */
class PostgresAuditSearchTest extends AuditSearchContract {
  static final String SERVER = "jdbc:postgresql://127.0.0.1:5432/";

  /** The PostgreSQL audit store's table, as it creates it. */
  static final String TABLE =
      """
      CREATE TABLE IF NOT EXISTS warden_audit (
        log_id text NOT NULL, seq bigint NOT NULL, time timestamptz NOT NULL,
        payload bytea NOT NULL,
        doc jsonb NOT NULL,
        hash bytea NOT NULL, PRIMARY KEY (log_id, seq))""";

  private String database;
  private PGSimpleDataSource dataSource;

  void createDatabase() throws SQLException {
    byte[] id = new byte[6];
    ThreadLocalRandom.current().nextBytes(id);
    database = "warden_search_test_" + HexFormat.of().formatHex(id);
    admin("CREATE DATABASE " + database + " ENCODING 'UTF8' TEMPLATE template0");
    dataSource = new PGSimpleDataSource();
    dataSource.setUrl(SERVER + database + "?sslmode=disable");
    dataSource.setUser("postgres");
    try (Connection c = dataSource.getConnection();
        Statement s = c.createStatement()) {
      s.execute(TABLE);
    }
  }

  static void admin(String sql) throws SQLException {
    try (Connection c =
            DriverManager.getConnection(SERVER + "postgres?sslmode=disable&user=postgres");
        Statement s = c.createStatement()) {
      s.execute(sql);
    }
  }

  /** The test database, as the superuser. */
  PGSimpleDataSource dataSource() {
    return dataSource;
  }

  @AfterEach
  void dropDatabase() throws SQLException {
    if (database != null) {
      admin("DROP DATABASE IF EXISTS " + database + " WITH (FORCE)");
    }
  }

  void insert(Map<String, List<ChainedRecord>> logs, Clock clock) throws SQLException {
    try (Connection c = dataSource.getConnection();
        PreparedStatement p =
            c.prepareStatement(
                "INSERT INTO warden_audit (log_id, seq, time, payload, doc, hash)"
                    + " VALUES (?, ?, ?, ?, convert_from(?, 'UTF8')::jsonb, ?)")) {
      for (Map.Entry<String, List<ChainedRecord>> log : logs.entrySet()) {
        for (ChainedRecord r : log.getValue()) {
          Instant time = Payloads.time(Payloads.fields(r.payload())).orElseGet(clock::instant);
          p.setString(1, log.getKey());
          p.setLong(2, r.seq());
          p.setObject(3, OffsetDateTime.ofInstant(time, ZoneOffset.UTC));
          p.setBytes(4, r.payload());
          p.setBytes(5, r.payload());
          p.setBytes(6, r.hash());
          p.addBatch();
        }
      }
      p.executeBatch();
    }
  }

  @Override
  protected AuditSearch load(Map<String, List<ChainedRecord>> logs, Clock clock)
      throws SQLException {
    createDatabase();
    insert(logs, clock);
    PostgresAuditSearch search = new PostgresAuditSearch(dataSource, clock);
    assertThat(search.prepare()).isTrue();
    try (Connection c = dataSource.getConnection();
        Statement s = c.createStatement()) {
      s.execute("ANALYZE warden_audit");
    }
    return search;
  }

  @Test
  void preparingTwiceChangesNothingAndTheIndexesExist() throws SQLException {
    PostgresAuditSearch search =
        (PostgresAuditSearch) load(AuditFixture.randomLogs(7, 20), AuditFixture.CLOCK);

    assertThat(search.prepare()).isTrue();

    try (Connection c = dataSource.getConnection();
        Statement s = c.createStatement();
        ResultSet r =
            s.executeQuery(
                "SELECT string_agg(indexname, ',' ORDER BY indexname) FROM pg_indexes"
                    + " WHERE tablename = 'warden_audit' AND indexname LIKE 'warden_audit_search%'")) {
      r.next();
      assertThat(r.getString(1))
          .isEqualTo(
              "warden_audit_search_doc,warden_audit_search_names,warden_audit_search_stmt,"
                  + "warden_audit_search_text,warden_audit_search_time");
    }
  }

  @Test
  void namesInSqlAreTheTableAndColumnTermsInJava() throws SQLException {
    Map<String, List<ChainedRecord>> logs = AuditFixture.randomLogs(11, 300);
    load(logs, AuditFixture.CLOCK);
    try (Connection c = dataSource.getConnection();
        PreparedStatement p =
            c.prepareStatement(
                "SELECT payload, warden_audit_names_v1(doc) FROM warden_audit ORDER BY log_id, seq");
        ResultSet r = p.executeQuery()) {
      int n = 0;
      int withNames = 0;
      while (r.next()) {
        Map<String, Object> fields = Payloads.fields(r.getBytes(1));
        String[] sql = (String[]) r.getArray(2).getArray();
        List<String> java =
            AuditTerms.of(fields).stream()
                .filter(t -> t.startsWith("table:") || t.startsWith("column:"))
                .toList();
        assertThat(sql).as(fields.toString()).containsExactlyInAnyOrderElementsOf(java);
        n++;
        withNames += java.isEmpty() ? 0 : 1;
      }
      assertThat(n).isEqualTo(600);
      assertThat(withNames).isGreaterThan(200);
    }
  }

  @Test
  void aTableWithoutTheSearchIndexesStillAnswers() throws SQLException {
    load(AuditFixture.randomLogs(3, 50), AuditFixture.CLOCK);
    try (Connection c = dataSource.getConnection();
        Statement s = c.createStatement()) {
      s.execute("DROP INDEX warden_audit_search_text");
    }
    PostgresAuditSearch search = new PostgresAuditSearch(dataSource, AuditFixture.CLOCK);

    assertThat(search.search(AuditQuery.parse("\"from users\""), 5).hits()).isNotEmpty();
  }
}
