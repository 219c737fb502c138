package dev.warden.server.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.warden.core.environment.Environment;
import dev.warden.core.environment.TlsMode;
import dev.warden.core.environment.Upstream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {
  private static final String PROD_PASSWORD = "canary-prod-7f3a9c";
  private static final String STAGING_PASSWORD = "canary-staging-51be0d";

  @TempDir Path dir;
  private final Map<String, String> environment =
      Map.of("WARDEN_PROD_PASSWORD", PROD_PASSWORD, "EMPTY_VAR", "");

  @BeforeEach
  void files() throws IOException {
    Files.writeString(dir.resolve("server.crt"), "certificate");
    Files.writeString(dir.resolve("server.key"), "key");
    Files.writeString(dir.resolve("ca.pem"), "ca");
    Files.writeString(dir.resolve("staging.pw"), STAGING_PASSWORD + "\n");
  }

  private WardenConfig load(String yaml) throws Exception {
    Path file = dir.resolve("warden.yaml");
    Files.writeString(file, yaml);
    return new ConfigLoader(environment).load(file);
  }

  /** Asserts that loading fails at exactly this line and column with a message containing all. */
  private ConfigException failsAt(String yaml, int line, int column, String... fragments) {
    ConfigException e = catchThrowableOfType(ConfigException.class, () -> load(yaml));
    assertThat(e).as("loading fails with a ConfigException").isNotNull();
    assertThat(e.getMessage())
        .startsWith(dir.resolve("warden.yaml") + ":" + line + ":" + column + ": ");
    assertThat(e.line()).hasValue(line);
    assertThat(e.column()).hasValue(column);
    for (String fragment : fragments) {
      assertThat(e.getMessage()).contains(fragment);
    }
    return e;
  }

  @Test
  void readsEveryFieldOfACompleteFile() throws Exception {
    WardenConfig config =
        load(
            """
            listen: 0.0.0.0:7432
            data-dir: data
            tls:
              certificate: server.crt
              private-key: /%s/server.key
              required: true
            environments:
              - name: production
                tags: [production, pci]
                databases: [app, billing]
                upstream:
                  host: db.internal
                  port: 6543
                  database: app
                  user: warden_prod
                  password: { env: WARDEN_PROD_PASSWORD }
                  tls: verify-full
                  ca-file: ca.pem
              - name: staging
                databases: ["*"]
                upstream:
                  host: localhost
                  user: warden_staging
                  password:
                    file: staging.pw
            """
                .formatted(dir));

    assertThat(config.listen()).isEqualTo(new HostPort("0.0.0.0", 7432));
    assertThat(config.dataDir()).isEqualTo(dir.resolve("data"));
    assertThat(config.tls())
        .isEqualTo(
            new TlsConfig(
                Optional.of(dir.resolve("server.crt")),
                Optional.of(dir.resolve("server.key")),
                true));
    assertThat(config.environments())
        .extracting(Environment::name)
        .containsExactly("production", "staging");

    Environment production = config.environments().get(0);
    assertThat(production.tags()).containsExactlyInAnyOrder("production", "pci");
    assertThat(production.databases()).containsExactly("app", "billing");
    Upstream upstream = production.upstream();
    assertThat(upstream.host()).isEqualTo("db.internal");
    assertThat(upstream.port()).isEqualTo(6543);
    assertThat(upstream.database()).contains("app");
    assertThat(upstream.user()).isEqualTo("warden_prod");
    assertThat(upstream.password().reveal()).isEqualTo(PROD_PASSWORD);
    assertThat(upstream.tls()).isEqualTo(TlsMode.VERIFY_FULL);
    assertThat(upstream.caFile()).contains(dir.resolve("ca.pem"));

    Upstream staging = config.environments().get(1).upstream();
    assertThat(config.environments().get(1).databases()).containsExactly("*");
    assertThat(staging.port()).isEqualTo(5432);
    assertThat(staging.database()).isEmpty();
    assertThat(staging.password().reveal())
        .as("the file's trailing line break is not part of the password")
        .isEqualTo(STAGING_PASSWORD);
    assertThat(staging.tls())
        .as("loopback upstreams default to plain TCP")
        .isEqualTo(TlsMode.DISABLE);
  }

  @Test
  void printsNoSecretInToString() throws Exception {
    WardenConfig config =
        load(
            """
            environments:
              - name: production
                upstream:
                  host: db.internal
                  user: warden_prod
                  password: { env: WARDEN_PROD_PASSWORD }
              - name: staging
                upstream: { host: localhost, user: s, password: { file: staging.pw } }
            """);

    assertThat(config.toString())
        .contains("db.internal", "warden_prod")
        .doesNotContain(PROD_PASSWORD)
        .doesNotContain(STAGING_PASSWORD);
  }

  @Test
  void remoteUpstreamsDefaultToVerifiedTls() throws Exception {
    WardenConfig config =
        load(
            """
            environments:
              - name: production
                upstream: { host: db.internal, user: u }
            """);

    assertThat(config.environments().getFirst().upstream().tls()).isEqualTo(TlsMode.VERIFY_FULL);
  }

  @Test
  void anEmptyFileMeansTheDefaults() throws Exception {
    WardenConfig config = load("# nothing configured yet\n");

    assertThat(config.listen()).isEqualTo(new HostPort("127.0.0.1", 6432));
    assertThat(config.environments())
        .singleElement()
        .satisfies(
            e -> {
              assertThat(e.name()).isEqualTo("default");
              assertThat(e.databases()).containsExactly("*");
              assertThat(e.upstream().host()).isEqualTo("localhost");
              assertThat(e.upstream().user()).isEqualTo("postgres");
            });
  }

  @Test
  void unknownTopLevelKeySuggestsTheClosestKey() {
    failsAt(
        """
        listne: 127.0.0.1:6432
        """,
        1,
        1,
        "unknown key 'listne' in the configuration file (did you mean 'listen'?)");
  }

  @Test
  void unknownKeyUsingUnderscoresSuggestsTheDashedKey() {
    failsAt("data_dir: x\n", 1, 1, "did you mean 'data-dir'?");
  }

  @Test
  void unknownUpstreamKeySuggestsTheClosestKey() {
    failsAt(
        """
        environments:
          - name: production
            upstream:
              hots: db.internal
              user: u
        """,
        4,
        7,
        "unknown key 'hots' in upstream (did you mean 'host'?)");
  }

  @Test
  void unknownKeyFarFromAnyListsTheKnownKeys() {
    failsAt(
        """
        environments:
          - name: production
            colour: blue
        """,
        3,
        5,
        "unknown key 'colour' in an environment; expected one of: name, tags, databases, upstream");
  }

  @Test
  void duplicateKeysAreRefused() {
    failsAt(
        """
        environments:
          - name: production
            upstream:
              host: a.internal
              user: u
              host: b.internal
        """,
        6,
        7,
        "duplicate key 'host' in upstream (first at line 4)");
  }

  @Test
  void portMustBeANumber() {
    failsAt(
        """
        environments:
          - name: production
            upstream:
              host: db.internal
              port: fivefourthreetwo
              user: u
        """,
        5,
        13,
        "port must be a number, found 'fivefourthreetwo'");
  }

  @Test
  void portMustBeInRange() {
    failsAt(
        """
        environments:
          - name: production
            upstream: { host: db.internal, port: 70000, user: u }
        """,
        3,
        42,
        "port must be between 1 and 65535, found 70000");
  }

  @Test
  void listenMustBeHostAndPort() {
    failsAt("listen: 6432\n", 1, 9, "listen: '6432' is not HOST:PORT");
  }

  @Test
  void unquotedIpv6ListenAddressIsExplained() {
    failsAt(
        "listen: [::1]:6432\n",
        1,
        10,
        "invalid YAML",
        "(an IPv6 address must be quoted, e.g. listen: \"[::1]:6432\")");
    failsAt("listen: [\"::1\"]\n", 1, 9, "quote an IPv6 address: listen: \"[::1]:6432\"");
  }

  @Test
  void quotedIpv6ListenAddressIsAccepted() throws Exception {
    assertThat(load("listen: \"[::1]:6432\"\n").listen()).isEqualTo(new HostPort("::1", 6432));
  }

  @Test
  void environmentsMustBeAList() {
    failsAt("environments: production\n", 1, 15, "environments must be a list");
  }

  @Test
  void environmentsMustNotBeEmpty() {
    failsAt("environments: []\n", 1, 15, "at least one environment");
  }

  @Test
  void tagsMustBeAList() {
    failsAt(
        """
        environments:
          - name: production
            tags: production
            upstream: { host: db.internal, user: u }
        """,
        3,
        11,
        "tags must be a list, e.g. tags: [production]");
  }

  @Test
  void requiredMustBeABoolean() {
    failsAt(
        """
        tls:
          required: maybe
        """,
        2,
        13,
        "required must be true or false, found 'maybe'");
  }

  @Test
  void missingUpstreamHostIsReportedAtTheUpstreamKey() {
    failsAt(
        """
        environments:
          - name: production
            upstream:
              user: u
        """,
        3,
        5,
        "environment 'production' is missing the required key 'host'");
  }

  @Test
  void missingUpstreamIsReportedAtTheEnvironment() {
    failsAt(
        """
        environments:
          - name: production
            tags: [production]
        """,
        2,
        5,
        "environment 'production' is missing the required key 'upstream'");
  }

  @Test
  void missingEnvironmentNameIsReported() {
    failsAt(
        """
        environments:
          - upstream: { host: db.internal, user: u }
        """,
        2,
        5,
        "an environment is missing the required key 'name'");
  }

  @Test
  void environmentNameMustBePlain() {
    failsAt(
        """
        environments:
          - name: "prod uction"
            upstream: { host: db.internal, user: u }
        """,
        2,
        11,
        "environment name 'prod uction' may contain only letters, digits");
  }

  @Test
  void duplicateEnvironmentNamesAreRefused() {
    failsAt(
        """
        environments:
          - name: production
            upstream: { host: a.internal, user: u }
          - name: production
            upstream: { host: b.internal, user: u }
        """,
        4,
        11,
        "duplicate environment name 'production' (first defined at line 2)");
  }

  @Test
  void aDatabaseRoutedToTwoEnvironmentsIsRefused() {
    failsAt(
        """
        environments:
          - name: production
            databases: [app]
            upstream: { host: a.internal, user: u }
          - name: staging
            databases: [reports, app]
            upstream: { host: b.internal, user: u }
        """,
        6,
        26,
        "database 'app' is already routed to environment 'production' (line 3)");
  }

  @Test
  void anEnvironmentNameListedByAnotherEnvironmentIsRefused() {
    failsAt(
        """
        environments:
          - name: production
            databases: [staging]
            upstream: { host: a.internal, user: u }
          - name: staging
            upstream: { host: b.internal, user: u }
        """,
        5,
        11,
        "database 'staging' is already routed to environment 'production' (line 3)");
  }

  @Test
  void onlyOneEnvironmentMayServeEveryDatabase() {
    failsAt(
        """
        environments:
          - name: production
            databases: ["*"]
            upstream: { host: a.internal, user: u }
          - name: staging
            databases: ["*"]
            upstream: { host: b.internal, user: u }
        """,
        6,
        17,
        "only one environment may serve '*'; environment 'production' already does (line 3)");
  }

  @Test
  void unsupportedTlsModesAreExplained() {
    failsAt(
        """
        environments:
          - name: production
            upstream: { host: db.internal, user: u, tls: prefer }
        """,
        3,
        50,
        "TLS mode 'prefer' is not supported",
        "use disable, require or verify-full");
    failsAt(
        """
        environments:
          - name: production
            upstream: { host: db.internal, user: u, tls: on-please }
        """,
        3,
        50,
        "unknown TLS mode 'on-please'; use disable, require or verify-full");
  }

  @Test
  void caFileNeedsVerifyFull() {
    failsAt(
        """
        environments:
          - name: production
            upstream:
              host: db.internal
              user: u
              tls: require
              ca-file: ca.pem
        """,
        7,
        7,
        "ca-file is only used with tls: verify-full (this upstream has tls: require)");
  }

  @Test
  void missingCaFileIsReported() {
    failsAt(
        """
        environments:
          - name: production
            upstream:
              host: db.internal
              user: u
              ca-file: missing.pem
        """,
        6,
        16,
        "ca-file " + dir.resolve("missing.pem") + " does not exist or is not a file");
  }

  @Test
  void certificateWithoutKeyIsRefused() {
    failsAt(
        """
        tls:
          certificate: server.crt
        """,
        1,
        1,
        "tls needs both certificate and private-key");
  }

  @Test
  void inlinePasswordIsRefusedWithoutEchoingIt() {
    ConfigException e =
        failsAt(
            """
            environments:
              - name: production
                upstream:
                  host: db.internal
                  user: u
                  password: "hunter2-inline"
            """,
            6,
            17,
            "inline passwords are not allowed",
            "password: { env: VARIABLE }",
            "password: { file: /path/to/file }");
    assertThat(e.getMessage()).doesNotContain("hunter2");
  }

  @Test
  void unsetEnvironmentVariableIsNamed() {
    failsAt(
        """
        environments:
          - name: production
            upstream:
              host: db.internal
              user: u
              password: { env: WARDEN_MISSING }
        """,
        6,
        24,
        "environment variable WARDEN_MISSING is not set");
  }

  @Test
  void emptyEnvironmentVariableIsRefused() {
    failsAt(
        """
        environments:
          - name: production
            upstream: { host: db.internal, user: u, password: { env: EMPTY_VAR } }
        """,
        3,
        62,
        "environment variable EMPTY_VAR is empty");
  }

  @Test
  void passwordNeedsExactlyOneSource() {
    failsAt(
        """
        environments:
          - name: production
            upstream:
              host: db.internal
              user: u
              password: { env: WARDEN_PROD_PASSWORD, file: staging.pw }
        """,
        6,
        17,
        "password must have exactly one of env or file");
  }

  @Test
  void missingPasswordFileIsReported() {
    failsAt(
        """
        environments:
          - name: production
            upstream:
              host: db.internal
              user: u
              password: { file: nowhere.pw }
        """,
        6,
        25,
        "cannot read password file " + dir.resolve("nowhere.pw") + ": no such file");
  }

  @Test
  void unreadablePasswordFileIsReportedWithoutItsContent() throws IOException {
    Path directory = Files.createDirectory(dir.resolve("a-directory.pw"));
    failsAt(
        """
        environments:
          - name: production
            upstream:
              host: db.internal
              user: u
              password: { file: a-directory.pw }
        """,
        6,
        25,
        "cannot read password file " + directory);
  }

  @Test
  void emptyPasswordFileIsRefused() throws IOException {
    Files.writeString(dir.resolve("empty.pw"), "\n");
    failsAt(
        """
        environments:
          - name: production
            upstream:
              host: db.internal
              user: u
              password: { file: empty.pw }
        """,
        6,
        25,
        "password file " + dir.resolve("empty.pw") + " is empty");
  }

  @Test
  void yamlSyntaxErrorsHaveAPositionButNoQuotedLine() {
    ConfigException e =
        failsAt(
            """
            environments:
              - name: production
                upstream:
                  host: db.internal
                  password: "hunter2-unterminated
            """,
            6,
            1,
            "invalid YAML");
    assertThat(e.getMessage()).doesNotContain("hunter2");
  }

  @Test
  void mappingExpectedWhereAListWasGiven() {
    failsAt("tls: [required]\n", 1, 6, "tls must be a mapping of key: value lines, found a list");
  }

  @Test
  void missingFileIsReportedWithoutPosition() {
    Path missing = dir.resolve("absent.yaml");
    assertThatThrownBy(() -> new ConfigLoader(Map.of()).load(missing))
        .isInstanceOf(ConfigException.class)
        .hasMessage("cannot read configuration file " + missing + ": no such file");
  }

  @Test
  void keysMustBePlainNames() {
    failsAt("? [listen]\n: 127.0.0.1:6432\n", 1, 3, "keys must be plain names, found a list");
  }

  @Test
  void aFieldGivenAListInsteadOfAValueIsRefused() {
    failsAt(
        """
        environments:
          - name: production
            upstream: { host: [a, b], user: u }
        """,
        3,
        23,
        "host must be a single value, found a list");
  }

  @Test
  void anEmptyRequiredValueIsRefused() {
    failsAt(
        """
        environments:
          - name: production
            upstream:
              host:
              user: u
        """,
        4,
        12,
        "host must not be empty");
  }

  @Test
  void aDatabaseListedTwiceIsRefused() {
    failsAt(
        """
        environments:
          - name: production
            databases: [app, billing, app]
            upstream: { host: db.internal, user: u }
        """,
        3,
        31,
        "databases lists 'app' twice");
  }

  @Test
  void anEmptyPasswordIsExplained() {
    failsAt(
        """
        environments:
          - name: production
            upstream:
              host: db.internal
              user: u
              password:
        """,
        6,
        16,
        "password is empty; leave it out for trust or certificate authentication");
  }

  @Test
  void anOversizedPasswordFileIsRefused() throws IOException {
    Files.write(dir.resolve("huge.pw"), new byte[64 * 1024 + 1]);
    failsAt(
        """
        environments:
          - name: production
            upstream: { host: db.internal, user: u, password: { file: huge.pw } }
        """,
        3,
        63,
        "password file " + dir.resolve("huge.pw") + " is larger than 64 KiB");
  }

  @Test
  void aPathWithANulCharacterIsRefused() {
    failsAt("data-dir: \"data\\0dir\"\n", 1, 11, "data-dir is not a valid path");
  }

  @Test
  void aliasBombsAreRefused() {
    ConfigException e =
        catchThrowableOfType(
            ConfigException.class,
            () ->
                load(
                    """
                    a: &a [x, x, x, x, x, x, x, x, x, x]
                    b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]
                    c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]
                    listen: *c
                    """));

    assertThat(e).isNotNull();
    assertThat(e.getMessage())
        .startsWith(dir.resolve("warden.yaml") + ": invalid YAML: ")
        .contains("aliases");
  }

  @Test
  void anOversizedFileIsRefusedBeforeParsing() throws IOException {
    Path file = dir.resolve("big.yaml");
    Files.write(file, new byte[ConfigLoader.MAX_FILE_BYTES + 1]);

    assertThatThrownBy(() -> new ConfigLoader(Map.of()).load(file))
        .isInstanceOf(ConfigException.class)
        .hasMessage("configuration file " + file + " is larger than 1048576 bytes");
  }

  @Test
  void aFileThatIsNotUtf8IsRefused() throws IOException {
    Path file = dir.resolve("latin1.yaml");
    Files.write(file, new byte[] {'l', 'i', 's', 't', 'e', 'n', ':', ' ', (byte) 0xE9});

    assertThatThrownBy(() -> new ConfigLoader(Map.of()).load(file))
        .isInstanceOf(ConfigException.class)
        .hasMessage("configuration file " + file + " is not valid UTF-8");
  }

  @Test
  void defaultEnvironmentServesEveryDatabase() {
    assertThat(WardenConfig.defaults().environments())
        .singleElement()
        .satisfies(e -> assertThat(e.serves("anything")).isTrue());
    assertThat(List.of(WardenConfig.defaults().listen().toString()))
        .containsExactly("127.0.0.1:6432");
  }
}
