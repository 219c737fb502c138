package dev.warden.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.warden.core.audit.ChainedRecord;
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
import dev.warden.store.audit.AuditLogReader;
import dev.warden.store.audit.AuditVerifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole server records what goes through it into its embedded, hash-chained log: session
 * events, the intent and outcome of every statement (refusals included), the policy it started with
 * and user changes, with passwords redacted; and the log verifies afterwards. The log on disk is
 * the oracle.
 */
class AuditEndToEndTest {
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final String ADMIN_URL = "jdbc:postgresql://127.0.0.1:5432/postgres";
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;

  private final String suffix = HexFormat.of().formatHex(RANDOM.generateSeed(4));
  private final String database = "warden_audit_" + suffix;
  private final String role = "warden_audit_role_" + suffix;

  @BeforeEach
  void createDatabase() throws SQLException {
    admin("CREATE DATABASE " + database);
  }

  @AfterEach
  void dropDatabase() throws SQLException {
    admin("DROP DATABASE IF EXISTS " + database + " WITH (FORCE)");
    admin("DROP ROLE IF EXISTS " + role);
  }

  private static void admin(String sql) throws SQLException {
    try (Connection c = DriverManager.getConnection(ADMIN_URL, "postgres", "");
        Statement s = c.createStatement()) {
      s.execute(sql);
    }
  }

  private Environment environment(String name, Set<String> tags) {
    return new Environment(
        name,
        tags,
        List.of(),
        new Upstream(
            "127.0.0.1",
            5432,
            Optional.of(database),
            "postgres",
            Secret.of(""),
            TlsMode.DISABLE,
            Optional.empty()));
  }

  private WardenServer start() throws Exception {
    WardenConfig config =
        new WardenConfig(
            new HostPort("127.0.0.1", 0),
            dir.resolve("data"),
            TlsConfig.generated(),
            List.of(
                environment("prod-" + suffix, Set.of("production")),
                environment("dev-" + suffix, Set.of())),
            Optional.empty(),
            Set.of());
    return WardenServer.start(config, Clock.systemUTC(), RANDOM);
  }

  private static Connection connect(WardenServer server, String environment, String mode)
      throws SQLException {
    Properties p = new Properties();
    p.setProperty("user", "alice");
    p.setProperty("password", "pw");
    p.setProperty("sslmode", "disable");
    p.setProperty("preferQueryMode", mode);
    return DriverManager.getConnection(
        "jdbc:postgresql://127.0.0.1:" + server.address().getPort() + "/" + environment, p);
  }

  private List<Map<String, Object>> records() throws Exception {
    List<Map<String, Object>> out = new ArrayList<>();
    AuditLogReader reader = AuditLogReader.open(dir.resolve("data").resolve("audit"));
    try (AuditLogReader.Cursor cursor = reader.readAfter(0)) {
      while (cursor.hasNext()) {
        ChainedRecord r = cursor.next();
        @SuppressWarnings("unchecked")
        Map<String, Object> fields = JSON.readValue(r.payload(), Map.class);
        out.add(fields);
      }
    }
    return out;
  }

  private static Stream<Map<String, Object>> of(List<Map<String, Object>> all, String type) {
    return all.stream().filter(r -> type.equals(r.get("type")));
  }

  @Test
  void bindParametersAreRecordedOnlyWhenConfigured() throws Exception {
    for (boolean recorded : new boolean[] {false, true}) {
      AuditConfig defaults = AuditConfig.defaults();
      WardenConfig config =
          new WardenConfig(
                  new HostPort("127.0.0.1", 0),
                  dir.resolve("data-" + recorded),
                  TlsConfig.generated(),
                  List.of(environment("dev-" + suffix, Set.of())))
              .withAudit(
                  new AuditConfig(
                      defaults.strict(),
                      defaults.boundedWindow(),
                      defaults.witness(),
                      defaults.store(),
                      defaults.instance(),
                      defaults.exports(),
                      recorded));
      try (WardenServer server = WardenServer.start(config, Clock.systemUTC(), RANDOM)) {
        server
            .users()
            .put(
                new LocalUser(
                    "alice",
                    Set.of(),
                    ScramCredentials.derive(Secret.of("pw"), RANDOM, 4096),
                    Instant.now()));
        try (Connection c = connect(server, "dev-" + suffix, "extended");
            var ps = c.prepareStatement("SELECT ?::text, ?::int, ?::text")) {
          ps.setString(1, "Zoë");
          ps.setInt(2, 42);
          ps.setNull(3, java.sql.Types.VARCHAR);
          ps.executeQuery().close();
        }
        AuditQuery query = AuditQuery.parse("\"select $1::text\"");
        long deadline = System.nanoTime() + 5_000_000_000L;
        List<AuditHit> hits;
        while ((hits = server.auditSearch().search(query, 5).hits()).isEmpty()) {
          assertThat(System.nanoTime()).isLessThan(deadline);
          Thread.sleep(10);
        }
        Map<String, Object> fields = hits.getFirst().fields();
        if (recorded) {
          assertThat(fields.get("parameters"))
              .isEqualTo(java.util.Arrays.asList("Zoë", "\\x0000002a", null));
        } else {
          assertThat(fields).doesNotContainKey("parameters");
        }
      }
    }
  }

  @Test
  void everythingThroughTheServerIsRecordedAndTheLogVerifies() throws Exception {
    String canary = "canary-" + suffix + "-Pw";
    try (WardenServer server = start()) {
      server
          .users()
          .put(
              new LocalUser(
                  "alice",
                  Set.of("dev"),
                  ScramCredentials.derive(Secret.of("pw"), RANDOM, 4096),
                  Instant.now()));
      // Made around Warden: in production a schema change would wait for approval.
      try (Connection direct =
              DriverManager.getConnection(
                  "jdbc:postgresql://127.0.0.1:5432/" + database, "postgres", "");
          Statement s = direct.createStatement()) {
        s.execute("CREATE TABLE t (id int, email text)");
      }
      try (Connection c = connect(server, "prod-" + suffix, "extended");
          Statement s = c.createStatement()) {
        s.executeUpdate("INSERT INTO t VALUES (1, 'a@example.com'), (2, 'b@example.com')");
        s.executeQuery("SELECT email FROM t WHERE id = 1").close();
        assertThatThrownBy(() -> s.execute("DROP TABLE t")).isInstanceOf(SQLException.class);
        // Searchable within a second of being written.
        long written = System.nanoTime();
        AuditQuery denied = AuditQuery.parse("user:alice verdict:denied kind:ddl \"drop table\"");
        while (server.auditSearch().search(denied, 10).hits().isEmpty()) {
          assertThat(System.nanoTime() - written).as("searchable").isLessThan(1_000_000_000L);
          Thread.sleep(10);
        }
        AuditHit hit = server.auditSearch().search(denied, 10).hits().getFirst();
        assertThat(hit.fields()).containsEntry("text", "DROP TABLE t");
        assertThat(
                server
                    .auditSearch()
                    .search(AuditQuery.parse("table:t kind:write rows>1"), 10)
                    .hits())
            .extracting(h -> h.fields().get("text"))
            .containsExactly("INSERT INTO t VALUES (1, 'a@example.com'), (2, 'b@example.com')");
      }
      try (Connection c = connect(server, "dev-" + suffix, "simple");
          Statement s = c.createStatement()) {
        s.execute("CREATE ROLE " + role + " LOGIN PASSWORD '" + canary + "'");
      }
      // The user change reaches the trail through the outbox within a second or two.
      long deadline = System.nanoTime() + 10_000_000_000L;
      while (of(records(), "event").noneMatch(e -> "user-add".equals(e.get("event")))) {
        assertThat(System.nanoTime()).as("user-add recorded").isLessThan(deadline);
        Thread.sleep(100);
      }
    }
    List<Map<String, Object>> all = records();
    assertThat(of(all, "event").map(e -> e.get("event")))
        .contains("policy-load", "user-add", "authenticate", "connect", "disconnect");

    Map<String, Object> insert =
        of(all, "intent")
            .filter(r -> String.valueOf(r.get("text")).startsWith("INSERT INTO t"))
            .findFirst()
            .orElseThrow();
    assertThat(insert)
        .containsEntry("user", "alice")
        .containsEntry("env", "prod-" + suffix)
        .containsEntry("verdict", "allowed")
        .containsEntry("durability", "immediate")
        .containsEntry("kinds", List.of("write"));
    // Resolved through the catalogue, or as written when it was judged before the catalogue read.
    assertThat(insert.get("tables")).isIn(List.of("t"), List.of("public.t"));
    Map<String, Object> insertOutcome =
        of(all, "outcome")
            .filter(
                o ->
                    o.get("session").equals(insert.get("session"))
                        && o.get("stmt").equals(insert.get("stmt")))
            .findFirst()
            .orElseThrow();
    assertThat(insertOutcome).containsEntry("status", "ok").containsEntry("rows", 2);

    Map<String, Object> select =
        of(all, "intent")
            .filter(r -> String.valueOf(r.get("text")).startsWith("SELECT email"))
            .findFirst()
            .orElseThrow();
    assertThat(select).containsEntry("durability", "bounded");
    assertThat(select.get("columns").toString()).contains("public.t.email");

    Map<String, Object> drop =
        of(all, "intent")
            .filter(r -> "DROP TABLE t".equals(r.get("text")))
            .findFirst()
            .orElseThrow();
    assertThat(drop).containsEntry("verdict", "denied");
    assertThat((String) drop.get("reason")).contains("DROP");

    Map<String, Object> createRole =
        of(all, "intent")
            .filter(r -> String.valueOf(r.get("text")).startsWith("CREATE ROLE"))
            .findFirst()
            .orElseThrow();
    assertThat(createRole).containsEntry("redacted", true).containsKey("text_hmac");

    // No password anywhere on disk in the log, however it is encoded.
    Path audit = dir.resolve("data").resolve("audit");
    try (Stream<Path> files = Files.walk(audit)) {
      for (Path f : files.filter(Files::isRegularFile).toList()) {
        String bytes = new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1);
        assertThat(bytes).as(f.toString()).doesNotContain(canary).doesNotContain("\"pw\"");
      }
    }
    AuditVerifier.Report report = AuditVerifier.verify(audit, Optional.empty());
    assertThat(report.intact()).as(report.summary()).isTrue();
    assertThat(report.records()).isEqualTo(all.size());
  }
}
