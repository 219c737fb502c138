package dev.warden.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warden.core.audit.search.AuditQuery;
import dev.warden.core.environment.Environment;
import dev.warden.core.environment.TlsMode;
import dev.warden.core.environment.Upstream;
import dev.warden.core.identity.LocalUser;
import dev.warden.core.identity.ScramCredentials;
import dev.warden.core.identity.Secret;
import dev.warden.server.config.HostPort;
import dev.warden.server.config.TlsConfig;
import dev.warden.server.config.WardenConfig;
import dev.warden.store.audit.AuditVerifier;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole server on a real disk that fills up (THREATS AD02): Warden's data directory is a small
 * tmpfs; when free space falls under the audit trail's high-water mark (64 MiB by default),
 * statements are refused with SQLSTATE 58030 and a message that says why, nothing of them reaches
 * the database, and once space is freed Warden records and forwards again, with the outage in the
 * trail and the log verifying.
 */
class AuditFullDiskTest {
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final String ADMIN_URL = "jdbc:postgresql://127.0.0.1:5432/postgres";

  @TempDir Path dir;

  private Path disk;
  private boolean mounted;
  private final String database =
      "warden_fulldisk_" + HexFormat.of().formatHex(RANDOM.generateSeed(4));

  @BeforeEach
  void mount() throws Exception {
    disk = dir.resolve("disk");
    Files.createDirectories(disk);
    Process p =
        new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=80m", "tmpfs", disk.toString())
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes());
    mounted = p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
    Assumptions.assumeTrue(
        mounted, "skipped: cannot mount an 80 MiB tmpfs (needs root and mount(8)): " + out);
    admin("CREATE DATABASE " + database);
  }

  @AfterEach
  void unmount() throws Exception {
    if (mounted) {
      admin("DROP DATABASE IF EXISTS " + database + " WITH (FORCE)");
      new ProcessBuilder("umount", "-l", disk.toString()).inheritIO().start().waitFor();
    }
  }

  private static void admin(String sql) throws SQLException {
    try (Connection c = DriverManager.getConnection(ADMIN_URL, "postgres", "");
        Statement s = c.createStatement()) {
      s.execute(sql);
    }
  }

  private long rows() throws SQLException {
    try (Connection c =
            DriverManager.getConnection(
                "jdbc:postgresql://127.0.0.1:5432/" + database, "postgres", "");
        ResultSet r = c.createStatement().executeQuery("SELECT count(*) FROM t")) {
      r.next();
      return r.getLong(1);
    }
  }

  @Test
  void aFullAuditDiskRefusesStatementsUntilSpaceReturns() throws Exception {
    Upstream upstream =
        new Upstream(
            "127.0.0.1",
            5432,
            Optional.of(database),
            "postgres",
            Secret.of(""),
            TlsMode.DISABLE,
            Optional.empty());
    WardenConfig config =
        new WardenConfig(
            new HostPort("127.0.0.1", 0),
            disk.resolve("data"),
            TlsConfig.generated(),
            List.of(new Environment("app", Set.of(), List.of(), upstream)));
    Path filler = disk.resolve("filler");
    try (WardenServer server = WardenServer.start(config, Clock.systemUTC(), RANDOM)) {
      server
          .users()
          .put(
              new LocalUser(
                  "alice",
                  Set.of(),
                  ScramCredentials.derive(Secret.of("pw"), RANDOM, 4096),
                  Instant.now()));
      Properties p = new Properties();
      p.setProperty("user", "alice");
      p.setProperty("password", "pw");
      p.setProperty("sslmode", "disable");
      String url = "jdbc:postgresql://127.0.0.1:" + server.address().getPort() + "/app";
      try (Connection c = DriverManager.getConnection(url, p);
          Statement s = c.createStatement()) {
        s.execute("CREATE TABLE t (id int)");
        s.execute("INSERT INTO t VALUES (1)");

        // Fill the disk until less than the high-water mark is free.
        try (OutputStream out = Files.newOutputStream(filler)) {
          byte[] block = new byte[1 << 20];
          while (Files.getFileStore(disk).getUsableSpace() > 40L << 20) {
            out.write(block);
          }
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        SQLException refused = null;
        while (refused == null) {
          try {
            s.execute("INSERT INTO t VALUES (2)");
            assertThat(System.nanoTime()).as("refused once the disk is full").isLessThan(deadline);
            Thread.sleep(50);
          } catch (SQLException e) {
            refused = e;
          }
        }
        assertThat(refused.getSQLState()).isEqualTo("58030");
        assertThat(refused.getMessage()).contains("free");
        long before = rows();
        assertThatThrownBy(() -> s.execute("INSERT INTO t VALUES (3)"))
            .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("58030"));
        assertThat(rows()).as("nothing ran while the trail was full").isEqualTo(before);

        // Space returns: Warden records, and so forwards, again.
        Files.delete(filler);
        deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (true) {
          try {
            s.execute("INSERT INTO t VALUES (4)");
            break;
          } catch (SQLException e) {
            assertThat(System.nanoTime()).as("recovered once space returns").isLessThan(deadline);
            Thread.sleep(100);
          }
        }
      }
      AuditQuery inserted = AuditQuery.parse("\"insert into t values (4)\" status:ok");
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
      while (server.auditSearch().search(inserted, 5).hits().isEmpty()) {
        assertThat(System.nanoTime())
            .as("the insert after recovery is in the trail")
            .isLessThan(deadline);
        Thread.sleep(20);
      }
    }
    AuditVerifier.Report report =
        AuditVerifier.verify(disk.resolve("data").resolve("audit"), Optional.empty());
    assertThat(report.intact()).as(report.summary()).isTrue();
  }
}
