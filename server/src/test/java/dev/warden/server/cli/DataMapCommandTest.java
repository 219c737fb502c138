package dev.warden.server.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code warden datamap} against a throwaway database on this machine's PostgreSQL server. */
class DataMapCommandTest {
  private static final String DB =
      "warden_dmc_" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);

  @TempDir Path dir;

  @BeforeAll
  static void create() throws Exception {
    try (Connection admin =
            DriverManager.getConnection("jdbc:postgresql://127.0.0.1:5432/postgres?user=postgres");
        Statement s = admin.createStatement()) {
      s.execute("CREATE DATABASE " + DB);
    }
    try (Connection c =
            DriverManager.getConnection(
                "jdbc:postgresql://127.0.0.1:5432/" + DB + "?user=postgres");
        Statement s = c.createStatement()) {
      s.execute(
          """
          CREATE TABLE accounts (id integer, email text, notes text, misc text, nickname text);
          INSERT INTO accounts
            SELECT i, 'a' || i || '@example.com', 'n' || i || '@example.org', 'word ' || i, 'nick'
            FROM generate_series(1, 30) i;
          CREATE VIEW contacts AS SELECT id, email AS reach FROM accounts;
          """);
    }
  }

  @AfterAll
  static void drop() throws Exception {
    try (Connection admin =
            DriverManager.getConnection("jdbc:postgresql://127.0.0.1:5432/postgres?user=postgres");
        Statement s = admin.createStatement()) {
      s.execute("DROP DATABASE IF EXISTS " + DB + " WITH (FORCE)");
    }
  }

  private Path config(int port, String databases) throws Exception {
    Files.writeString(
        dir.resolve("policy.yaml"),
        """
        default: allow
        masking:
          columns:
            - column: accounts.nickname
              kind: person_name
            - column: accounts.notes
              kind: none
        """);
    Path file = dir.resolve("warden.yaml");
    Files.writeString(
        file,
        """
        policy: policy.yaml
        environments:
          - name: app
            databases: %s
            upstream: { host: 127.0.0.1, port: %d, user: postgres }
          - name: other
            upstream: { host: 127.0.0.1, port: %d, user: postgres, database: %s }
        data-map:
          sample-rows: 50
        """
            .formatted(databases, port, port, DB));
    return file;
  }

  @Test
  void printsTheSensitiveColumnsWithHowTheyWereFound() throws Exception {
    config(5432, "[" + DB + "]");
    CliRun run = CliRun.run(dir, "", "datamap", "--config", "warden.yaml", "--env", "app");
    assertThat(run.err()).isEmpty();
    assertThat(run.exitCode()).isZero();
    List<String> lines = run.out().lines().toList();
    assertThat(lines.getFirst())
        .matches("ENVIRONMENT +DATABASE +RELATION +COLUMN +TYPE +KIND +FOUND BY +DETAIL");
    assertThat(lines)
        .anySatisfy(
            l ->
                assertThat(l)
                    .matches(
                        "app +"
                            + DB
                            + " +public\\.accounts +email +text +email +name +name 'email'"))
        .anySatisfy(
            l ->
                assertThat(l)
                    .matches(
                        "app +"
                            + DB
                            + " +public\\.accounts +nickname +text +person_name +policy +marked"
                            + " person_name by policy"))
        .anySatisfy(
            l ->
                assertThat(l)
                    .matches(
                        "app +"
                            + DB
                            + " +public\\.accounts +notes +text +- +policy +unmarked by policy"))
        .anySatisfy(
            l ->
                assertThat(l)
                    .matches(
                        "app +"
                            + DB
                            + " +public\\.contacts +reach +text +email +lineage +view over"
                            + " public\\.accounts\\.email"))
        .noneSatisfy(l -> assertThat(l).contains(" misc "));
    assertThat(lines.getLast())
        .startsWith("app/" + DB + ": 2 relations, 7 columns, 3 sensitive (built in ")
        .endsWith("1 relations sampled)");
  }

  @Test
  void allListsEveryColumn() throws Exception {
    config(5432, "[" + DB + "]");
    CliRun run =
        CliRun.run(dir, "", "datamap", "--config", "warden.yaml", "--env", "other", "--all");
    assertThat(run.exitCode()).isZero();
    assertThat(run.out())
        .containsPattern(
            "other +" + DB + " +public\\.accounts +misc +text +- +- +sampled 30 values");
    assertThat(run.out()).contains("other/" + DB + ": 2 relations, 7 columns");
  }

  @Test
  void jsonIsAStableDocumentOfEveryColumn() throws Exception {
    config(5432, "[" + DB + "]");
    CliRun run =
        CliRun.run(dir, "", "datamap", "--config", "warden.yaml", "--env", "app", "--json");
    assertThat(run.exitCode()).isZero();
    JsonNode doc = new ObjectMapper().readTree(run.out());
    List<String> keys = new ArrayList<>();
    doc.fieldNames().forEachRemaining(keys::add);
    assertThat(keys).containsExactly("maps", "errors");
    assertThat(doc.get("errors")).isEmpty();
    JsonNode map = doc.get("maps").get(0);
    assertThat(map.get("environment").asText()).isEqualTo("app");
    assertThat(map.get("database").asText()).isEqualTo(DB);
    assertThat(map.get("version").asLong()).isEqualTo(1);
    JsonNode accounts = map.get("relations").get(0);
    assertThat(accounts.get("name").asText()).isEqualTo("accounts");
    assertThat(accounts.get("type").asText()).isEqualTo("table");
    JsonNode email = accounts.get("columns").get(1);
    assertThat(email.toString())
        .isEqualTo(
            "{\"number\":2,\"name\":\"email\",\"type\":\"text\",\"sensitive\":true,"
                + "\"kind\":\"email\",\"found_by\":\"name\",\"detail\":\"name 'email'\"}");
    JsonNode misc = accounts.get("columns").get(3);
    assertThat(misc.get("kind").isNull()).isTrue();
    assertThat(misc.get("found_by").isNull()).isTrue();
    assertThat(misc.get("sensitive").asBoolean()).isFalse();
  }

  @Test
  void anUnreachableUpstreamIsAFailureWithTheReason() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    config(port, "[" + DB + "]");
    CliRun run =
        CliRun.run(dir, "", "datamap", "--config", "warden.yaml", "--env", "app", "--json");
    assertThat(run.exitCode()).isEqualTo(Main.FAILED);
    assertThat(run.err())
        .contains("warden: cannot build the data map of database '" + DB + "' in environment 'app'")
        .contains("cannot be reached");
    JsonNode doc = new ObjectMapper().readTree(run.out());
    assertThat(doc.get("maps")).isEmpty();
    assertThat(doc.get("errors").get(0).get("message").asText()).contains("cannot be reached");
  }

  @Test
  void anUpstreamUrlReplacesTheConfiguredEnvironments() {
    CliRun run =
        CliRun.run(dir, "", "datamap", "--upstream", "postgresql://postgres@127.0.0.1:5432/" + DB);
    assertThat(run.err()).isEmpty();
    assertThat(run.exitCode()).isZero();
    assertThat(run.out())
        .containsPattern(
            "default +" + DB + " +public\\.accounts +notes +text +email +content +30 of 30 sampled")
        .contains("default/" + DB + ": 2 relations, 7 columns, 3 sensitive");
  }

  @Test
  void anUnknownEnvironmentIsAUsageError() throws Exception {
    config(5432, "[" + DB + "]");
    CliRun run = CliRun.run(dir, "", "datamap", "--config", "warden.yaml", "--env", "nope");
    assertThat(run.exitCode()).isEqualTo(Main.USAGE);
    assertThat(run.err()).contains("no environment 'nope'; it has: app, other");
  }

  @Test
  void anEnvironmentServingEveryDatabaseMapsEachConnectableOne() throws Exception {
    config(5432, "['*']");
    CliRun run =
        CliRun.run(dir, "", "datamap", "--config", "warden.yaml", "--env", "app", "--json");
    JsonNode doc = new ObjectMapper().readTree(run.out());
    List<String> databases = new ArrayList<>();
    doc.get("maps").forEach(m -> databases.add(m.get("database").asText()));
    doc.get("errors").forEach(m -> databases.add(m.get("database").asText()));
    assertThat(databases).contains(DB, "postgres").doesNotContain("template0", "template1");
  }
}
