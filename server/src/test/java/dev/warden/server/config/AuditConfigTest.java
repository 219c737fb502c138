package dev.warden.server.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.warden.core.environment.TlsMode;
import dev.warden.core.identity.Secret;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The {@code console:} and {@code audit:} keys of warden.yaml. */
class AuditConfigTest {
  private static final String STORE_PASSWORD = "canary-audit-store-9d2e";
  private static final String HOOK_SECRET = "canary-hook-secret-31c7";

  @TempDir Path dir;
  private final Map<String, String> environment =
      Map.of("AUDIT_PW", STORE_PASSWORD, "HOOK_SECRET", HOOK_SECRET, "EMPTY", "");

  @BeforeEach
  void directories() throws IOException {
    Files.createDirectories(dir.resolve("witness"));
    Files.createDirectories(dir.resolve("log"));
  }

  private WardenConfig load(String yaml) throws Exception {
    Path file = dir.resolve("warden.yaml");
    Files.writeString(file, yaml);
    return new ConfigLoader(environment).load(file);
  }

  private ConfigException failsAt(String yaml, int line, int column, String... fragments) {
    ConfigException e = catchThrowableOfType(ConfigException.class, () -> load(yaml));
    assertThat(e).as("loading fails with a ConfigException").isNotNull();
    assertThat(e.getMessage())
        .startsWith(dir.resolve("warden.yaml") + ":" + line + ":" + column + ": ");
    for (String fragment : fragments) {
      assertThat(e.getMessage()).contains(fragment);
    }
    assertThat(e.getMessage()).doesNotContain(STORE_PASSWORD).doesNotContain(HOOK_SECRET);
    return e;
  }

  @Test
  void defaultsWhenTheKeysAreAbsent() throws Exception {
    WardenConfig config = load("listen: 127.0.0.1:6432\n");
    assertThat(config.console()).isEqualTo(new HostPort("127.0.0.1", 8080));
    assertThat(config.audit()).isEqualTo(AuditConfig.defaults());
    assertThat(config.audit().boundedWindow()).isEqualTo(Duration.ofMillis(20));
    assertThat(config.audit().store()).isInstanceOf(AuditConfig.Store.Embedded.class);
    assertThat(WardenConfig.defaults().audit().exports()).isEmpty();
  }

  @Test
  void readsEveryAuditKey() throws Exception {
    WardenConfig config =
        load(
            """
            console: 127.0.0.1:9090
            audit:
              strict: true
              bounded-window: 5ms
              witness: witness
              store:
                url: postgresql://warden_audit@db.internal:5433/audit?sslmode=require
                password: { env: AUDIT_PW }
              instance: warden-eu-1
              export:
                - jsonl: log/audit.jsonl
                - jsonl: "-"
                - webhook: https://siem.example/hook?token=abc
                  secret: { env: HOOK_SECRET }
                - webhook: http://127.0.0.1:9999/hook
            """);
    assertThat(config.console()).isEqualTo(new HostPort("127.0.0.1", 9090));
    AuditConfig audit = config.audit();
    assertThat(audit.strict()).isTrue();
    assertThat(audit.boundedWindow()).isEqualTo(Duration.ofMillis(5));
    assertThat(audit.witness()).contains(dir.resolve("witness"));
    assertThat(audit.instance()).contains("warden-eu-1");
    AuditConfig.Store.Postgres store = (AuditConfig.Store.Postgres) audit.store();
    assertThat(store.connection().host()).isEqualTo("db.internal");
    assertThat(store.connection().port()).isEqualTo(5433);
    assertThat(store.connection().user()).isEqualTo("warden_audit");
    assertThat(store.connection().database()).contains("audit");
    assertThat(store.connection().tls()).isEqualTo(TlsMode.REQUIRE);
    assertThat(store.connection().password().matches(Secret.of(STORE_PASSWORD))).isTrue();
    assertThat(store.jdbcUrl())
        .isEqualTo("jdbc:postgresql://db.internal:5433/audit?sslmode=require");
    assertThat(audit.exports())
        .containsExactly(
            new AuditConfig.Export.JsonLines(Optional.of(dir.resolve("log/audit.jsonl"))),
            new AuditConfig.Export.JsonLines(Optional.empty()),
            new AuditConfig.Export.Webhook(
                URI.create("https://siem.example/hook?token=abc"),
                Optional.of(Secret.of(HOOK_SECRET))),
            new AuditConfig.Export.Webhook(
                URI.create("http://127.0.0.1:9999/hook"), Optional.empty()));
    // Safe to log: no secret, no webhook token.
    assertThat(config.toString()).doesNotContain(STORE_PASSWORD).doesNotContain(HOOK_SECRET);
    assertThat(audit.exports().get(2).name())
        .isEqualTo("webhook https://siem.example/hook")
        .doesNotContain("token");
  }

  @Test
  void storeMayBeAPlainUrlOrEmbedded() throws Exception {
    AuditConfig.Store store =
        load("audit:\n  store: postgresql://warden@localhost/audit\n").audit().store();
    AuditConfig.Store.Postgres postgres = (AuditConfig.Store.Postgres) store;
    assertThat(postgres.connection().password().isEmpty()).isTrue();
    assertThat(postgres.connection().tls()).isEqualTo(TlsMode.DISABLE);
    assertThat(postgres.jdbcUrl())
        .isEqualTo("jdbc:postgresql://localhost:5432/audit?sslmode=disable");
    assertThat(load("audit:\n  store: embedded\n").audit().store())
        .isEqualTo(new AuditConfig.Store.Embedded());
    assertThat(load("audit:\n  instance: \"\"\n").audit().instance()).isEmpty();
  }

  @Test
  void bindParametersAreLeftOutUnlessRecordingIsAskedFor() throws Exception {
    assertThat(load("audit:\n  strict: false\n").audit().recordParameters()).isFalse();
    assertThat(load("audit:\n  parameters: redacted\n").audit().recordParameters()).isFalse();
    assertThat(load("audit:\n  parameters: recorded\n").audit().recordParameters()).isTrue();
    failsAt("audit:\n  parameters: all\n", 2, 15, "parameters must be 'redacted'");
  }

  @Test
  void durationsInEveryUnit() throws Exception {
    assertThat(load("audit:\n  bounded-window: 500us\n").audit().boundedWindow())
        .isEqualTo(Duration.ofNanos(500_000));
    assertThat(load("audit:\n  bounded-window: 2s\n").audit().boundedWindow())
        .isEqualTo(Duration.ofSeconds(2));
  }

  @Test
  void badValuesAreRefusedWithTheirLine() {
    failsAt("console: 0.0.0.0:8080\n", 1, 10, "console must be a loopback address");
    failsAt("console: nowhere\n", 1, 10, "console: 'nowhere' is not HOST:PORT");
    failsAt("audit:\n  strict: sometimes\n", 2, 11, "strict must be true or false");
    failsAt(
        "audit:\n  bounded-window: 20\n", 2, 19, "bounded-window must be a duration such as 20ms");
    failsAt("audit:\n  bounded-window: 0ms\n", 2, 19, "more than 0 and at most 10s");
    failsAt("audit:\n  bounded-window: 1m\n", 2, 19, "at most 10s", "strict: true");
    failsAt("audit:\n  bounded_window: 20ms\n", 2, 3, "did you mean 'bounded-window'?");
    failsAt("audit:\n  witness: nowhere\n", 2, 12, "witness directory", "does not exist");
    failsAt("audit:\n  instance: \"a b\"\n", 2, 13, "may contain only letters");
    failsAt("audit:\n  instance: \"-x\"\n", 2, 13, "must start with a letter or digit");
    failsAt("audit: yes\n", 1, 8, "audit must be a mapping");
  }

  @Test
  void storeMistakes() {
    failsAt("audit:\n  store: sqlite\n", 2, 10, "store must be embedded or a PostgreSQL URL");
    failsAt(
        "audit:\n  store: postgresql://u:" + STORE_PASSWORD + "@db/audit\n",
        2,
        10,
        "must not contain a password",
        "password: { env: VARIABLE }");
    failsAt(
        "audit:\n  store: postgresql://u@db/audit?sslmode=prefer\n",
        2,
        10,
        "TLS mode 'prefer' is not supported");
    failsAt("audit:\n  store: postgresql://@db/audit\n", 2, 10, "the audit store URL needs a user");
    failsAt(
        "audit:\n  store:\n    url: postgresql://u@db/a\n    password: " + STORE_PASSWORD + "\n",
        4,
        15,
        "inline passwords are not allowed");
    failsAt(
        "audit:\n  store:\n    url: postgresql://u@db/a\n    password: { env: MISSING }\n",
        4,
        22,
        "environment variable MISSING is not set");
    failsAt(
        "audit:\n  store:\n    url: embedded\n    password: { env: AUDIT_PW }\n",
        3,
        5,
        "the embedded store takes no password");
    failsAt(
        "audit:\n  store:\n    password: { env: AUDIT_PW }\n",
        3,
        5,
        "missing the required key 'url'");
  }

  @Test
  void exportMistakes() {
    failsAt("audit:\n  export: log/a.jsonl\n", 2, 11, "export must be a list");
    failsAt(
        "audit:\n  export:\n    - jsonl: a\n      webhook: https://x.example/\n",
        3,
        7,
        "exactly one of jsonl");
    failsAt("audit:\n  export:\n    - secret: { env: HOOK_SECRET }\n", 3, 7, "exactly one of");
    failsAt(
        "audit:\n  export:\n    - jsonl: nowhere/a.jsonl\n",
        3,
        14,
        "the directory of the export file");
    failsAt("audit:\n  export:\n    - jsonl: log\n", 3, 14, "is a directory");
    failsAt(
        "audit:\n  export:\n    - jsonl: a.jsonl\n      secret: { env: HOOK_SECRET }\n",
        4,
        7,
        "secret is only used with webhook");
    failsAt(
        "audit:\n  export:\n    - webhook: http://siem.example/hook\n",
        3,
        16,
        "webhook must use https");
    failsAt(
        "audit:\n  export:\n    - webhook: ftp://siem.example/hook\n",
        3,
        16,
        "webhook must be an https URL");
    failsAt(
        "audit:\n  export:\n    - webhook: https://u:" + HOOK_SECRET + "@siem.example/\n",
        3,
        16,
        "must not contain a user or password");
    failsAt(
        "audit:\n  export:\n    - webhook: https://siem.example/hook\n      secret: "
            + HOOK_SECRET
            + "\n",
        4,
        15,
        "inline secrets are not allowed",
        "secret: { env: VARIABLE }");
    failsAt(
        "audit:\n  export:\n    - webhook: https://siem.example/hook\n      secret: { env: EMPTY }\n",
        4,
        22,
        "environment variable EMPTY is empty");
    failsAt(
        "audit:\n  export:\n    - jsonl: a.jsonl\n    - jsonl: ./a.jsonl\n",
        4,
        7,
        "already configured at line 3");
  }

  @Test
  void listsStayImmutable() throws Exception {
    List<AuditConfig.Export> exports =
        load("audit:\n  export:\n    - jsonl: \"-\"\n").audit().exports();
    assertThat(exports).hasSize(1);
    assertThat(exports).isUnmodifiable();
  }

  @Test
  void toolsReadAddressesAndPathsWithoutTheServersSecrets() throws Exception {
    String yaml =
        """
        console: 127.0.0.1:9191
        data-dir: data
        environments:
          - name: prod
            upstream:
              host: db.internal
              user: warden
              password: { env: NOT_SET_FOR_TOOLS }
        audit:
          witness: witness
          export:
            - webhook: https://siem.example/hook
              secret: { file: /nowhere/secret }
        """;
    Path file = dir.resolve("warden.yaml");
    Files.writeString(file, yaml);
    ConfigException e =
        catchThrowableOfType(ConfigException.class, () -> new ConfigLoader(environment).load(file));
    assertThat(e.getMessage()).contains("environment variable NOT_SET_FOR_TOOLS is not set");

    WardenConfig forTools = new ConfigLoader(environment).withoutSecrets().load(file);
    assertThat(forTools.console()).isEqualTo(new HostPort("127.0.0.1", 9191));
    assertThat(forTools.dataDir()).isEqualTo(dir.resolve("data"));
    assertThat(forTools.audit().witness()).contains(dir.resolve("witness"));
    assertThat(forTools.environments().getFirst().upstream().password().isEmpty()).isTrue();
    // The form of a secret is still checked.
    Files.writeString(
        file, "audit:\n  store:\n    url: postgresql://u@db/a\n    password: inline\n");
    ConfigException inline =
        catchThrowableOfType(
            ConfigException.class, () -> new ConfigLoader(environment).withoutSecrets().load(file));
    assertThat(inline.getMessage()).contains("inline passwords are not allowed");
  }
}
