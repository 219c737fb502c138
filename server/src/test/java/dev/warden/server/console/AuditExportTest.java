package dev.warden.server.console;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.warden.server.TestWarden;
import dev.warden.server.WardenServer;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Properties;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code GET /api/audit/export}, the console's download of a search: the same hits as the search,
 * one JSON document per line, as an attachment; only for auditors and administrators; recorded in
 * the trail like a search, refused ones too.
 */
class AuditExportTest {
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir static Path dir;
  private static WardenServer server;
  private static String database;
  private static final HttpClient HTTP = HttpClient.newHttpClient();

  @BeforeAll
  static void start() throws Exception {
    database = "warden_t_export_" + Long.toHexString(RANDOM.nextLong() >>> 1);
    admin("CREATE DATABASE " + database);
    server = WardenServer.start(TestWarden.config(dir.resolve("data")), Clock.systemUTC(), RANDOM);
    addUser("alice", "alice-pw", "dev");
    addUser("audrey", "audrey-pw", "auditors");
    Properties p = new Properties();
    p.setProperty("user", "alice");
    p.setProperty("password", "alice-pw");
    p.setProperty("sslmode", "disable");
    p.setProperty("preferQueryMode", "simple");
    try (Connection c =
            DriverManager.getConnection(
                "jdbc:postgresql://127.0.0.1:" + server.address().getPort() + "/" + database, p);
        Statement s = c.createStatement()) {
      for (int i = 1; i <= 5; i++) {
        s.executeQuery("SELECT " + i + " AS \"line\nbreak\"").close();
      }
    }
  }

  @AfterAll
  static void stop() {
    if (server != null) {
      server.close();
    }
    if (database != null) {
      admin("DROP DATABASE IF EXISTS " + database + " WITH (FORCE)");
    }
  }

  @Test
  void anAuditorDownloadsTheSearchAsJsonLines() throws Exception {
    String q = "user:alice \"break\"";
    JsonNode search = hits(q, 5);
    HttpResponse<String> export = get("/api/audit/export?q=" + enc(q), "audrey", "audrey-pw");
    assertThat(export.statusCode()).isEqualTo(200);
    assertThat(export.headers().firstValue("Content-Type").orElseThrow())
        .isEqualTo("application/x-ndjson; charset=utf-8");
    assertThat(export.headers().firstValue("Content-Disposition").orElseThrow())
        .matches("attachment; filename=\"warden-audit-\\d{8}T\\d{6}Z\\.jsonl\"");
    assertThat(export.headers().firstValue("X-Warden-More")).contains("false");
    List<String> lines = export.body().lines().toList();
    assertThat(export.body()).endsWith("\n");
    // A statement's line break stays inside its JSON string: still one hit per line.
    assertThat(lines).hasSize(5);
    List<JsonNode> exported = new ArrayList<>();
    for (String line : lines) {
      exported.add(JSON.readTree(line));
    }
    assertThat(exported).allSatisfy(h -> assertThat(h.get("user").asText()).isEqualTo("alice"));
    assertThat(exported.getFirst().get("text").asText()).isEqualTo("SELECT 5 AS \"line\nbreak\"");

    // The same hits as the search, in the same order.
    assertThat(exported).hasSize(search.size());
    for (int i = 0; i < search.size(); i++) {
      assertThat(exported.get(i)).isEqualTo(search.get(i));
    }

    // A limit, and the header saying more matched.
    HttpResponse<String> two = get("/api/audit/export?limit=2&q=" + enc(q), "audrey", "audrey-pw");
    assertThat(two.body().lines().toList()).hasSize(2);
    assertThat(two.headers().firstValue("X-Warden-More")).contains("true");

    // Recorded like a search: who, what, how many.
    JsonNode recorded = hits("event:audit-export user:audrey", 2);
    assertThat(recorded.get(0).get("success").asBoolean()).isTrue();
    assertThat(recorded.get(0).get("details").get("query").asText()).isEqualTo(q);
    assertThat(recorded.get(0).get("details").get("limit").asText()).isEqualTo("2");
  }

  @Test
  void othersAreRefusedAndTheRefusalIsRecorded() throws Exception {
    HttpResponse<String> refused = get("/api/audit/export?q=user:bob", "alice", "alice-pw");
    assertThat(refused.statusCode()).isEqualTo(403);
    assertThat(JSON.readTree(refused.body()).get("error").asText())
        .isEqualTo(
            "user alice may not read the audit trail: that needs the group auditors or admins");
    assertThat(refused.headers().firstValue("Content-Disposition")).isEmpty();
    JsonNode recorded = hits("event:audit-export user:alice", 1);
    assertThat(recorded).hasSize(1);
    assertThat(recorded.get(0).get("success").asBoolean()).isFalse();
    assertThat(recorded.get(0).get("details").get("query").asText()).isEqualTo("user:bob");

    HttpResponse<String> anonymous =
        HTTP.send(
            HttpRequest.newBuilder(uri("/api/audit/export")).GET().build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(anonymous.statusCode()).isEqualTo(401);
    assertThat(anonymous.body()).doesNotContain("alice");
  }

  @Test
  void aBadQueryOrLimitIsRefusedWithItsReason() throws Exception {
    HttpResponse<String> query =
        get("/api/audit/export?q=" + enc("verdict:maybe"), "audrey", "audrey-pw");
    assertThat(query.statusCode()).isEqualTo(400);
    JsonNode error = JSON.readTree(query.body());
    assertThat(error.get("error").asText()).contains("expected verdict to be one of");
    assertThat(error.get("position").asInt()).isPositive();
    for (String limit : List.of("0", "10001", "many")) {
      HttpResponse<String> bad = get("/api/audit/export?limit=" + limit, "audrey", "audrey-pw");
      assertThat(bad.statusCode()).as(limit).isEqualTo(400);
      assertThat(JSON.readTree(bad.body()).get("error").asText())
          .isEqualTo("limit must be a whole number from 1 to 10000, not '" + limit + "'");
    }
  }

  // ---- helpers --------------------------------------------------------------------------------

  private static URI uri(String path) {
    return URI.create("http://127.0.0.1:" + server.apiAddress().getPort() + path);
  }

  /** The search's hits once it has at least {@code count} (the index follows the log closely). */
  private static JsonNode hits(String q, int count) throws Exception {
    long deadline = System.nanoTime() + 10_000_000_000L;
    while (true) {
      JsonNode hits =
          JSON.readTree(get("/api/audit?q=" + enc(q), "audrey", "audrey-pw").body()).get("hits");
      if (hits.size() >= count || System.nanoTime() > deadline) {
        return hits;
      }
      Thread.sleep(50);
    }
  }

  private static String enc(String text) {
    return URLEncoder.encode(text, StandardCharsets.UTF_8);
  }

  private static HttpResponse<String> get(String path, String user, String password)
      throws Exception {
    String basic =
        Base64.getEncoder()
            .encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    return HTTP.send(
        HttpRequest.newBuilder(uri(path)).header("Authorization", "Basic " + basic).GET().build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static void addUser(String name, String password, String... groups) {
    TestWarden.addUser(server, RANDOM, name, password, groups);
  }

  private static void admin(String statement) {
    Properties p = new Properties();
    p.setProperty("user", "postgres");
    try (Connection c =
            DriverManager.getConnection("jdbc:postgresql://127.0.0.1:5432/postgres", p);
        Statement s = c.createStatement()) {
      s.execute(statement);
    } catch (SQLException e) {
      throw new IllegalStateException(statement, e);
    }
  }
}
