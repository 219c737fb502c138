package dev.warden.server;

import dev.warden.core.environment.Environment;
import dev.warden.core.environment.TlsMode;
import dev.warden.core.environment.Upstream;
import dev.warden.core.identity.LocalUser;
import dev.warden.core.identity.ScramCredentials;
import dev.warden.core.identity.Secret;
import dev.warden.server.config.HostPort;
import dev.warden.server.config.TlsConfig;
import dev.warden.server.config.WardenConfig;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * What end-to-end tests need to run a real Warden in front of this machine's PostgreSQL: the
 * upstream, a configuration on ephemeral ports, a production environment, local users.
 */
public final class TestWarden {
  private TestWarden() {}

  /**
   * PostgreSQL on 127.0.0.1:5432 as {@code postgres} (trust authentication, no TLS), logged in to
   * {@code database}, or to the database the client names when empty.
   */
  public static Upstream localPostgres(Optional<String> database) {
    return new Upstream(
        "127.0.0.1", 5432, database, "postgres", Secret.of(""), TlsMode.DISABLE, Optional.empty());
  }

  /**
   * An environment named and tagged {@code production}, reached by the database name {@code
   * production}, in front of {@code database}.
   */
  public static Environment production(String database) {
    return new Environment(
        "production",
        Set.of("production"),
        List.of("production"),
        localPostgres(Optional.of(database)));
  }

  /** Warden and its console on ephemeral loopback ports, keeping its data in {@code dataDir}. */
  public static WardenConfig config(Path dataDir, List<Environment> environments) {
    return new WardenConfig(
            new HostPort("127.0.0.1", 0),
            dataDir,
            new TlsConfig(Optional.empty(), Optional.empty(), false),
            environments)
        .withConsole(new HostPort("127.0.0.1", 0));
  }

  /** The same, with the one environment that routes every database to this machine's server. */
  public static WardenConfig config(Path dataDir) {
    return config(
        dataDir, List.of(WardenConfig.defaultEnvironment(localPostgres(Optional.empty()))));
  }

  /** Adds the local user {@code name} with {@code password} in {@code groups}. */
  public static void addUser(
      WardenServer server, SecureRandom random, String name, String password, String... groups) {
    server
        .users()
        .put(
            new LocalUser(
                name,
                Set.of(groups),
                ScramCredentials.derive(Secret.of(password), random, 4096),
                Instant.now()));
  }

  /** The console's base URL. */
  public static String console(WardenServer server) {
    return "http://127.0.0.1:" + server.apiAddress().getPort();
  }
}
