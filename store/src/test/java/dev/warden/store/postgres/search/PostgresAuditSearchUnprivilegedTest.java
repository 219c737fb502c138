package dev.warden.store.postgres.search;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.core.audit.ChainedRecord;
import dev.warden.core.audit.search.AuditSearch;
import dev.warden.store.audit.index.AuditSearchContract;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.AfterEach;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * The search contract for a role with only SELECT and INSERT on {@code warden_audit}, as the audit
 * store recommends: it cannot create the search's function, indexes or extension, says so, and
 * answers the same without them.
 */
class PostgresAuditSearchUnprivilegedTest extends AuditSearchContract {
  private final PostgresAuditSearchTest owner = new PostgresAuditSearchTest();
  private String role;

  /**
   * Without the index that pairs intents with outcomes each query reads the table once per row:
   * correct, but slow enough that a few dozen queries make the point.
   */
  @Override
  protected int randomQueries() {
    return 30;
  }

  @Override
  protected AuditSearch load(Map<String, List<ChainedRecord>> logs, Clock clock)
      throws SQLException {
    owner.createDatabase();
    owner.insert(logs, clock);
    byte[] id = new byte[6];
    ThreadLocalRandom.current().nextBytes(id);
    role = "warden_search_reader_" + HexFormat.of().formatHex(id);
    PostgresAuditSearchTest.admin("CREATE ROLE " + role + " LOGIN");
    try (Connection c = owner.dataSource().getConnection();
        Statement s = c.createStatement()) {
      s.execute("GRANT SELECT, INSERT ON warden_audit TO " + role);
    }
    PGSimpleDataSource ds = new PGSimpleDataSource();
    ds.setUrl(owner.dataSource().getUrl());
    ds.setUser(role);
    PostgresAuditSearch search = new PostgresAuditSearch(ds, clock);

    assertThat(search.prepare()).isFalse();

    try (Connection c = owner.dataSource().getConnection();
        Statement s = c.createStatement();
        ResultSet r =
            s.executeQuery(
                "SELECT count(*) FROM pg_indexes WHERE indexname LIKE 'warden_audit_search%'")) {
      r.next();
      assertThat(r.getLong(1)).isZero();
    }
    return search;
  }

  @AfterEach
  void dropEverything() throws SQLException {
    owner.dropDatabase();
    if (role != null) {
      PostgresAuditSearchTest.admin("DROP ROLE IF EXISTS " + role);
    }
  }
}
