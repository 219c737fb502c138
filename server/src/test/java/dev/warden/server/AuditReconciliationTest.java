package dev.warden.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.warden.core.audit.ChainedRecord;
import dev.warden.core.environment.Environment;
import dev.warden.core.environment.TlsMode;
import dev.warden.core.environment.Upstream;
import dev.warden.core.identity.LocalUser;
import dev.warden.core.identity.ScramCredentials;
import dev.warden.core.identity.Secret;
import dev.warden.server.config.HostPort;
import dev.warden.server.config.TlsConfig;
import dev.warden.server.config.WardenConfig;
import dev.warden.store.audit.AuditLogReader;
import dev.warden.store.audit.AuditVerifier;
import dev.warden.testkit.AuditedPostgres;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postgresql.PGConnection;

/**
 * The audit trail against the database's own record of what it executed (THREATS AD08, oracle O1):
 * pgaudit on a throwaway cluster logs every statement that reached the executor, including the
 * statements of dynamic SQL. Every top-level statement it logged for a session through Warden has
 * an allowed intent in Warden's log, across the paths a client can take: simple and multi-statement
 * queries, extended with parameters, SQL PREPARE/EXECUTE, cursors and FETCH, COPY in and out, DO
 * blocks, a cancelled statement; refused and failed statements leave their records too, and the log
 * verifies.
 */
class AuditReconciliationTest {
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;

  @Test
  void everyStatementTheDatabaseRanHasAnIntentInTheTrail() throws Exception {
    AuditedPostgres pg = AuditedPostgres.shared();
    String suffix = HexFormat.of().formatHex(RANDOM.generateSeed(5));
    String database = "warden_recon_" + suffix;
    String app = "recon-" + suffix;
    pg.admin("CREATE DATABASE " + database);
    Upstream upstream =
        new Upstream(
            "127.0.0.1",
            pg.port(),
            Optional.of(database),
            pg.superuser(),
            Secret.of(""),
            TlsMode.DISABLE,
            Optional.empty());
    WardenConfig config =
        new WardenConfig(
            new HostPort("127.0.0.1", 0),
            dir.resolve("data"),
            TlsConfig.generated(),
            List.of(
                new Environment("dev", Set.of(), List.of("dev"), upstream),
                new Environment("prod", Set.of("production"), List.of("prod"), upstream)),
            Optional.empty(),
            Set.of());
    try (WardenServer server = WardenServer.start(config, Clock.systemUTC(), RANDOM)) {
      server
          .users()
          .put(
              new LocalUser(
                  "alice",
                  Set.of(),
                  ScramCredentials.derive(Secret.of("pw"), RANDOM, 4096),
                  Instant.now()));
      int port = server.address().getPort();
      try (Connection c = connect(port, "dev", app, "simple");
          Statement s = c.createStatement()) {
        s.execute("CREATE TABLE r (id int PRIMARY KEY, v text)");
        s.execute("INSERT INTO r VALUES (1, 'a'); INSERT INTO r VALUES (2, 'b')");
        s.execute("PREPARE p(int) AS SELECT v FROM r WHERE id = $1");
        s.execute("EXECUTE p(1)");
        s.execute("BEGIN");
        s.execute("DECLARE c CURSOR FOR SELECT * FROM r ORDER BY id");
        s.execute("FETCH 1 FROM c");
        s.execute("COMMIT");
        s.execute("DO $$ BEGIN EXECUTE 'UPDATE r SET v = ''x'' WHERE id = ' || 1; END $$");
        assertThatThrownBy(() -> s.execute("SELECT * FROM no_such_table"))
            .isInstanceOf(SQLException.class);
        var copy = ((PGConnection) c).getCopyAPI();
        assertThat(copy.copyIn("COPY r FROM STDIN", new StringReader("3\tc\n4\td\n"))).isEqualTo(2);
        StringWriter out = new StringWriter();
        assertThat(copy.copyOut("COPY r TO STDOUT", out)).isEqualTo(4);
        s.setQueryTimeout(1);
        assertThatThrownBy(() -> s.execute("SELECT pg_sleep(5)")).isInstanceOf(SQLException.class);
      }
      try (Connection c = connect(port, "dev", app, "extended");
          PreparedStatement ps = c.prepareStatement("UPDATE r SET v = ? WHERE id = ?")) {
        ps.setString(1, "y");
        ps.setInt(2, 2);
        assertThat(ps.executeUpdate()).isEqualTo(1);
        c.createStatement().executeQuery("SELECT count(*) FROM r").close();
      }
      try (Connection c = connect(port, "prod", app, "extended")) {
        assertThatThrownBy(() -> c.createStatement().execute("DROP TABLE r"))
            .hasMessageContaining("refused");
      }
      pg.flush();
    }
    List<Map<String, Object>> records = records(dir.resolve("data").resolve("audit"));
    List<Map<String, Object>> intents =
        records.stream().filter(r -> "intent".equals(r.get("type"))).toList();
    List<Map<String, Object>> outcomes =
        records.stream().filter(r -> "outcome".equals(r.get("type"))).toList();

    List<String> unmatched = new ArrayList<>();
    int checked = 0;
    for (AuditedPostgres.AuditEntry e : pg.entriesFor(app)) {
      if (e.substatementId() != 1 || e.statement().contains("warden: catalogue")) {
        continue; // a dynamic sub-statement (its DO block is matched), or Warden's own query
      }
      checked++;
      boolean matched =
          intents.stream()
              .anyMatch(
                  i ->
                      "allowed".equals(i.get("verdict"))
                          && String.valueOf(i.get("text")).contains(e.statement().strip()));
      if (!matched) {
        unmatched.add(e.command() + ": " + e.statement());
      }
    }
    assertThat(checked).as("statements pgaudit logged").isGreaterThanOrEqualTo(12);
    assertThat(unmatched).as("executed without an intent in the trail").isEmpty();

    assertThat(outcomeOf(intents, outcomes, "SELECT * FROM no_such_table"))
        .containsEntry("status", "error")
        .containsEntry("sqlstate", "42P01");
    assertThat(outcomeOf(intents, outcomes, "SELECT pg_sleep(5)"))
        .containsEntry("status", "error")
        .containsEntry("sqlstate", "57014");
    assertThat(outcomeOf(intents, outcomes, "COPY r FROM STDIN")).containsEntry("rows", 2);
    assertThat(outcomeOf(intents, outcomes, "COPY r TO STDOUT")).containsEntry("rows", 4);
    assertThat(outcomeOf(intents, outcomes, "UPDATE r SET v = $1 WHERE id = $2"))
        .containsEntry("rows", 1);
    assertThat(intentOf(intents, "DROP TABLE r")).containsEntry("verdict", "denied");
    assertThat(
            outcomes.stream()
                .filter(
                    o -> o.get("session").equals(intentOf(intents, "DROP TABLE r").get("session")))
                .filter(o -> o.get("stmt").equals(intentOf(intents, "DROP TABLE r").get("stmt"))))
        .as("a refused statement has no outcome: it never ran")
        .isEmpty();
    AuditVerifier.Report report =
        AuditVerifier.verify(dir.resolve("data").resolve("audit"), Optional.empty());
    assertThat(report.intact()).as(report.summary()).isTrue();
    pg.admin("DROP DATABASE IF EXISTS " + database + " WITH (FORCE)");
  }

  private static Map<String, Object> intentOf(List<Map<String, Object>> intents, String text) {
    return intents.stream()
        .filter(i -> text.equals(i.get("text")))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no intent for " + text));
  }

  private static Map<String, Object> outcomeOf(
      List<Map<String, Object>> intents, List<Map<String, Object>> outcomes, String text) {
    Map<String, Object> intent = intentOf(intents, text);
    return outcomes.stream()
        .filter(o -> o.get("session").equals(intent.get("session")))
        .filter(o -> o.get("stmt").equals(intent.get("stmt")))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no outcome for " + text));
  }

  private static Connection connect(int port, String db, String app, String mode)
      throws SQLException {
    Properties p = new Properties();
    p.setProperty("user", "alice");
    p.setProperty("password", "pw");
    p.setProperty("sslmode", "disable");
    p.setProperty("preferQueryMode", mode);
    p.setProperty("ApplicationName", app);
    return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/" + db, p);
  }

  private static List<Map<String, Object>> records(Path auditDir) throws Exception {
    List<Map<String, Object>> out = new ArrayList<>();
    try (AuditLogReader.Cursor cursor = AuditLogReader.open(auditDir).readAfter(0)) {
      while (cursor.hasNext()) {
        ChainedRecord r = cursor.next();
        @SuppressWarnings("unchecked")
        Map<String, Object> fields = JSON.readValue(r.payload(), Map.class);
        out.add(fields);
      }
    }
    return out;
  }
}
