package dev.warden.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.core.audit.search.AuditHit;
import dev.warden.core.audit.search.AuditQuery;
import dev.warden.core.environment.Environment;
import dev.warden.core.environment.TlsMode;
import dev.warden.core.environment.Upstream;
import dev.warden.core.identity.LocalUser;
import dev.warden.core.identity.ScramCredentials;
import dev.warden.core.identity.Secret;
import dev.warden.server.config.AuditConfig;
import dev.warden.server.config.HostPort;
import dev.warden.server.config.TlsConfig;
import dev.warden.server.config.WardenConfig;
import dev.warden.store.audit.AuditKeys;
import dev.warden.store.postgres.PostgresAuditVerifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * Two Warden instances share one PostgreSQL audit store: each records what passes through it on a
 * hash chain of its own, one search finds both instances' records, and each chain verifies.
 */
class SharedAuditStoreTest {
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final String ADMIN_URL = "jdbc:postgresql://127.0.0.1:5432/postgres";

  @TempDir Path dir;

  private final String suffix = HexFormat.of().formatHex(RANDOM.generateSeed(4));
  private final String appDatabase = "warden_shared_app_" + suffix;
  private final String auditDatabase = "warden_shared_audit_" + suffix;

  @BeforeEach
  void createDatabases() throws SQLException {
    admin("CREATE DATABASE " + appDatabase);
    admin("CREATE DATABASE " + auditDatabase);
  }

  @AfterEach
  void dropDatabases() throws SQLException {
    admin("DROP DATABASE IF EXISTS " + appDatabase + " WITH (FORCE)");
    admin("DROP DATABASE IF EXISTS " + auditDatabase + " WITH (FORCE)");
  }

  private static void admin(String sql) throws SQLException {
    try (Connection c = DriverManager.getConnection(ADMIN_URL, "postgres", "");
        Statement s = c.createStatement()) {
      s.execute(sql);
    }
  }

  private static Upstream local(String database) {
    return new Upstream(
        "127.0.0.1",
        5432,
        Optional.of(database),
        "postgres",
        Secret.of(""),
        TlsMode.DISABLE,
        Optional.empty());
  }

  private WardenServer start(String name) throws Exception {
    AuditConfig audit =
        new AuditConfig(
            false,
            AuditConfig.DEFAULT_BOUNDED_WINDOW,
            Optional.empty(),
            new AuditConfig.Store.Postgres(local(auditDatabase)),
            Optional.of(name),
            List.of(),
            false);
    WardenConfig config =
        new WardenConfig(
                new HostPort("127.0.0.1", 0),
                dir.resolve(name),
                TlsConfig.generated(),
                List.of(new Environment("app", Set.of(), List.of(), local(appDatabase))))
            .withAudit(audit);
    WardenServer server = WardenServer.start(config, Clock.systemUTC(), RANDOM);
    server
        .users()
        .put(
            new LocalUser(
                "alice",
                Set.of(),
                ScramCredentials.derive(Secret.of("pw"), RANDOM, 4096),
                Instant.now()));
    return server;
  }

  private static void run(WardenServer server, String sql) throws SQLException {
    Properties p = new Properties();
    p.setProperty("user", "alice");
    p.setProperty("password", "pw");
    p.setProperty("sslmode", "disable");
    try (Connection c =
            DriverManager.getConnection(
                "jdbc:postgresql://127.0.0.1:" + server.address().getPort() + "/app", p);
        Statement s = c.createStatement()) {
      s.execute(sql);
    }
  }

  @Test
  void twoInstancesRecordIntoOneStoreAndOneSearchFindsBoth() throws Exception {
    try (WardenServer east = start("east-" + suffix);
        WardenServer west = start("west-" + suffix)) {
      run(east, "CREATE TABLE IF NOT EXISTS shared_t (id int)");
      run(east, "INSERT INTO shared_t VALUES (1)");
      run(west, "INSERT INTO shared_t VALUES (2)");
      run(west, "SELECT count(*) FROM shared_t");
      AuditQuery inserts = AuditQuery.parse("kind:write \"insert into shared_t\"");
      long deadline = System.nanoTime() + 5_000_000_000L;
      List<AuditHit> hits;
      while ((hits = east.auditSearch().search(inserts, 10).hits()).size() < 2) {
        assertThat(System.nanoTime()).as("both inserts searchable").isLessThan(deadline);
        Thread.sleep(20);
      }
      assertThat(hits)
          .extracting(AuditHit::logId)
          .containsExactlyInAnyOrder("east-" + suffix, "west-" + suffix);
      assertThat(west.auditSearch().search(inserts, 10).hits()).hasSize(2);
    }
    PGSimpleDataSource store = new PGSimpleDataSource();
    store.setUrl("jdbc:postgresql://127.0.0.1:5432/" + auditDatabase);
    store.setUser("postgres");
    for (String name : List.of("east-" + suffix, "west-" + suffix)) {
      Path publicKey =
          Files.list(dir.resolve(name).resolve("secrets"))
              .filter(f -> f.getFileName().toString().equals(AuditKeys.SIGNING_KEY_FILE))
              .findFirst()
              .orElseThrow();
      var key = AuditKeys.loadOrCreate(publicKey.getParent()).publicKey();
      PostgresAuditVerifier.Report report = PostgresAuditVerifier.verify(store, name, key);
      assertThat(report.intact()).as(name + ": " + report.reason()).isTrue();
      assertThat(report.records()).as(name).isGreaterThan(4);
    }
  }
}
