package dev.warden.server.config;

import dev.warden.core.environment.Environment;
import dev.warden.core.environment.TlsMode;
import dev.warden.core.environment.Upstream;
import dev.warden.core.identity.Secret;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * Everything Warden needs to start, from the configuration file, command-line flags or both. Its
 * {@code toString} is safe to log: upstream passwords are {@link Secret}s and print redacted.
 *
 * @param listen where clients connect
 * @param dataDir the directory of the embedded store, generated keys and certificates
 * @param tls TLS towards clients
 * @param environments the environments clients are routed to, at least one
 * @param policy the policy file, or empty for the built-in default policy
 * @param observedEnvironments the names of environments in observe-only mode ({@code mode:
 *     observe}): what policy would refuse there runs, and is marked for the audit trail
 * @param console where the REST API (and later the web console) listens
 * @param audit the audit trail's durability, store, witness and exports
 * @param dataMap how data maps are refreshed and what building one may cost the database
 * @param identity identity providers beyond local users, and what happens when a credential expires
 * @param approvals where approval requests are announced, and the address reviewers open them at
 */
public record WardenConfig(
    HostPort listen,
    Path dataDir,
    TlsConfig tls,
    List<Environment> environments,
    Optional<Path> policy,
    Set<String> observedEnvironments,
    HostPort console,
    AuditConfig audit,
    DataMapConfig dataMap,
    IdentityConfig identity,
    ApprovalNotifications approvals) {
  /** The listen address when none is configured. */
  public static final HostPort DEFAULT_LISTEN = new HostPort("127.0.0.1", 6432);

  /** The REST API's address when none is configured: this machine only. */
  public static final HostPort DEFAULT_CONSOLE = new HostPort("127.0.0.1", 8080);

  /** The data directory when none is configured, relative to the working directory. */
  public static final Path DEFAULT_DATA_DIR = Path.of("warden-data");

  /** The name of the environment Warden creates when none is configured. */
  public static final String DEFAULT_ENVIRONMENT = "default";

  public WardenConfig {
    Objects.requireNonNull(listen, "listen");
    Objects.requireNonNull(dataDir, "dataDir");
    Objects.requireNonNull(tls, "tls");
    environments = List.copyOf(environments);
    if (environments.isEmpty()) {
      throw new IllegalArgumentException("at least one environment is needed");
    }
    Objects.requireNonNull(policy, "policy");
    observedEnvironments = Set.copyOf(observedEnvironments);
    Objects.requireNonNull(console, "console");
    Objects.requireNonNull(audit, "audit");
    Objects.requireNonNull(dataMap, "dataMap");
    Objects.requireNonNull(identity, "identity");
    Objects.requireNonNull(approvals, "approvals");
  }

  /** A configuration that announces approval requests nowhere. */
  public WardenConfig(
      HostPort listen,
      Path dataDir,
      TlsConfig tls,
      List<Environment> environments,
      Optional<Path> policy,
      Set<String> observedEnvironments,
      HostPort console,
      AuditConfig audit,
      DataMapConfig dataMap,
      IdentityConfig identity) {
    this(
        listen,
        dataDir,
        tls,
        environments,
        policy,
        observedEnvironments,
        console,
        audit,
        dataMap,
        identity,
        ApprovalNotifications.NONE);
  }

  /** A configuration with local users only. */
  public WardenConfig(
      HostPort listen,
      Path dataDir,
      TlsConfig tls,
      List<Environment> environments,
      Optional<Path> policy,
      Set<String> observedEnvironments,
      HostPort console,
      AuditConfig audit,
      DataMapConfig dataMap) {
    this(
        listen,
        dataDir,
        tls,
        environments,
        policy,
        observedEnvironments,
        console,
        audit,
        dataMap,
        IdentityConfig.defaults());
  }

  /** A configuration with the default data map settings. */
  public WardenConfig(
      HostPort listen,
      Path dataDir,
      TlsConfig tls,
      List<Environment> environments,
      Optional<Path> policy,
      Set<String> observedEnvironments,
      HostPort console,
      AuditConfig audit) {
    this(
        listen,
        dataDir,
        tls,
        environments,
        policy,
        observedEnvironments,
        console,
        audit,
        DataMapConfig.defaults());
  }

  /**
   * A configuration built in code (embedding, tests): the REST API on an ephemeral port of this
   * machine, so that several can run at once, and the default audit settings.
   */
  public WardenConfig(
      HostPort listen,
      Path dataDir,
      TlsConfig tls,
      List<Environment> environments,
      Optional<Path> policy,
      Set<String> observedEnvironments) {
    this(
        listen,
        dataDir,
        tls,
        environments,
        policy,
        observedEnvironments,
        new HostPort("127.0.0.1", 0),
        AuditConfig.defaults());
  }

  /** A configuration with the built-in default policy and every environment enforcing it. */
  public WardenConfig(
      HostPort listen, Path dataDir, TlsConfig tls, List<Environment> environments) {
    this(listen, dataDir, tls, environments, Optional.empty(), Set.of());
  }

  /**
   * The zero-configuration setup: listen on 127.0.0.1:6432 in front of the PostgreSQL server on
   * this machine, as {@code postgres}, passing the client's database name through.
   */
  public static WardenConfig defaults() {
    return new WardenConfig(
        DEFAULT_LISTEN,
        DEFAULT_DATA_DIR,
        TlsConfig.generated(),
        List.of(defaultEnvironment()),
        Optional.empty(),
        Set.of(),
        DEFAULT_CONSOLE,
        AuditConfig.defaults());
  }

  /** One environment named {@code default} serving every database of {@code upstream}. */
  public static Environment defaultEnvironment(Upstream upstream) {
    return new Environment(
        DEFAULT_ENVIRONMENT, Set.of(), List.of(Environment.ANY_DATABASE), upstream);
  }

  static Environment defaultEnvironment() {
    return defaultEnvironment(
        new Upstream(
            "localhost",
            5432,
            Optional.empty(),
            "postgres",
            Secret.of(""),
            TlsMode.DISABLE,
            Optional.empty()));
  }

  public WardenConfig withListen(HostPort listen) {
    return new WardenConfig(
        listen,
        dataDir,
        tls,
        environments,
        policy,
        observedEnvironments,
        console,
        audit,
        dataMap,
        identity,
        approvals);
  }

  public WardenConfig withDataDir(Path dataDir) {
    return new WardenConfig(
        listen,
        dataDir,
        tls,
        environments,
        policy,
        observedEnvironments,
        console,
        audit,
        dataMap,
        identity,
        approvals);
  }

  /** Replaces the environments; observe-only mode is kept for those that keep their names. */
  public WardenConfig withEnvironments(List<Environment> environments) {
    return new WardenConfig(
        listen,
        dataDir,
        tls,
        environments,
        policy,
        observedEnvironments,
        console,
        audit,
        dataMap,
        identity,
        approvals);
  }

  public WardenConfig withPolicy(Path policy) {
    return new WardenConfig(
        listen,
        dataDir,
        tls,
        environments,
        Optional.of(policy),
        observedEnvironments,
        console,
        audit,
        dataMap,
        identity,
        approvals);
  }

  public WardenConfig withObservedEnvironments(Set<String> observedEnvironments) {
    return new WardenConfig(
        listen,
        dataDir,
        tls,
        environments,
        policy,
        observedEnvironments,
        console,
        audit,
        dataMap,
        identity,
        approvals);
  }

  public WardenConfig withConsole(HostPort console) {
    return new WardenConfig(
        listen,
        dataDir,
        tls,
        environments,
        policy,
        observedEnvironments,
        console,
        audit,
        dataMap,
        identity,
        approvals);
  }

  public WardenConfig withAudit(AuditConfig audit) {
    return new WardenConfig(
        listen,
        dataDir,
        tls,
        environments,
        policy,
        observedEnvironments,
        console,
        audit,
        dataMap,
        identity,
        approvals);
  }

  public WardenConfig withDataMap(DataMapConfig dataMap) {
    return new WardenConfig(
        listen,
        dataDir,
        tls,
        environments,
        policy,
        observedEnvironments,
        console,
        audit,
        dataMap,
        identity,
        approvals);
  }

  public WardenConfig withIdentity(IdentityConfig identity) {
    return new WardenConfig(
        listen,
        dataDir,
        tls,
        environments,
        policy,
        observedEnvironments,
        console,
        audit,
        dataMap,
        identity,
        approvals);
  }

  public WardenConfig withTls(TlsConfig tls) {
    return new WardenConfig(
        listen,
        dataDir,
        tls,
        environments,
        policy,
        observedEnvironments,
        console,
        audit,
        dataMap,
        identity,
        approvals);
  }

  public WardenConfig withApprovals(ApprovalNotifications approvals) {
    return new WardenConfig(
        listen,
        dataDir,
        tls,
        environments,
        policy,
        observedEnvironments,
        console,
        audit,
        dataMap,
        identity,
        approvals);
  }
}
