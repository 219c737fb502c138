package dev.warden.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.core.environment.TlsMode;
import dev.warden.core.environment.Upstream;
import dev.warden.core.identity.LocalUser;
import dev.warden.core.identity.ScramCredentials;
import dev.warden.core.identity.Secret;
import dev.warden.core.masking.DataKind;
import dev.warden.core.masking.DataMap;
import dev.warden.core.masking.Finding;
import dev.warden.core.masking.MappedColumn;
import dev.warden.core.statement.TableRef;
import dev.warden.server.config.HostPort;
import dev.warden.server.config.TlsConfig;
import dev.warden.server.config.WardenConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The composition root builds data maps and a masking key: a column found only by sampling its
 * values is masked for a client going through Warden, and the key survives restarts.
 */
class DataMapWiringTest {
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final String SERVER = "jdbc:postgresql://127.0.0.1:5432/";

  @TempDir Path dir;

  private WardenConfig config() {
    Upstream local =
        new Upstream(
            "127.0.0.1",
            5432,
            Optional.empty(),
            "postgres",
            Secret.of(""),
            TlsMode.DISABLE,
            Optional.empty());
    return new WardenConfig(
        new HostPort("127.0.0.1", 0),
        dir.resolve("data"),
        new TlsConfig(Optional.empty(), Optional.empty(), false),
        List.of(WardenConfig.defaultEnvironment(local)));
  }

  @Test
  void theMaskingKeyIsPrivateAndKeptAcrossRestarts() throws Exception {
    Path key = dir.resolve("data").resolve(WardenServer.PSEUDONYM_KEY_FILE);
    byte[] first;
    try (WardenServer server = WardenServer.start(config(), Clock.systemUTC(), RANDOM)) {
      assertThat(server.policy().masking().keyed()).isTrue();
      first = Files.readAllBytes(key);
      assertThat(first).hasSize(32);
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(key)))
          .isEqualTo("rw-------");
    }
    try (WardenServer server = WardenServer.start(config(), Clock.systemUTC(), RANDOM)) {
      assertThat(server.policy().masking().keyed()).isTrue();
      assertThat(Files.readAllBytes(key)).isEqualTo(first);
    }
  }

  @Test
  void aColumnFoundBySamplingIsMaskedThroughWarden() throws Exception {
    String db = "warden_dmw_" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
    try (Connection admin = DriverManager.getConnection(SERVER + "postgres?user=postgres");
        Statement s = admin.createStatement()) {
      s.execute("CREATE DATABASE " + db);
    }
    try {
      try (Connection direct = DriverManager.getConnection(SERVER + db + "?user=postgres");
          Statement s = direct.createStatement()) {
        s.execute(
            "CREATE TABLE people (id integer, remark text, city text);"
                + " INSERT INTO people SELECT g, 'canary' || g || '@example.com', 'Paris'"
                + " FROM generate_series(1, 10) g");
      }
      try (WardenServer server = WardenServer.start(config(), Clock.systemUTC(), RANDOM)) {
        server
            .users()
            .put(
                new LocalUser(
                    "alice",
                    Set.of("dev"),
                    ScramCredentials.derive(Secret.of("alice-pw"), RANDOM, 4096),
                    Instant.now()));
        Properties p = new Properties();
        p.setProperty("user", "alice");
        p.setProperty("password", "alice-pw");
        p.setProperty("sslmode", "disable");
        List<String> remarks = new ArrayList<>();
        List<String> cities = new ArrayList<>();
        try (Connection c =
                DriverManager.getConnection(
                    "jdbc:postgresql://127.0.0.1:" + server.address().getPort() + "/" + db, p);
            Statement s = c.createStatement();
            ResultSet rs = s.executeQuery("SELECT remark, city FROM people ORDER BY id")) {
          while (rs.next()) {
            remarks.add(rs.getString(1));
            cities.add(rs.getString(2));
          }
        }
        assertThat(remarks).hasSize(10).noneMatch(r -> r.contains("canary"));
        assertThat(cities).containsOnly("Paris");
        DataMap map = server.dataMaps().current("default", db).orElseThrow();
        MappedColumn remark =
            map.relationsNamed(new TableRef("public", "people"))
                .getFirst()
                .column("remark")
                .orElseThrow();
        assertThat(remark.kind()).contains(DataKind.EMAIL);
        assertThat(remark.finding()).isEqualTo(Finding.CONTENT);
      }
    } finally {
      try (Connection admin = DriverManager.getConnection(SERVER + "postgres?user=postgres");
          Statement s = admin.createStatement()) {
        s.execute("DROP DATABASE IF EXISTS " + db + " WITH (FORCE)");
      }
    }
  }
}
