package dev.warden.server.cli;

import dev.warden.core.environment.Environment;
import dev.warden.core.environment.Upstream;
import dev.warden.server.StartupException;
import dev.warden.server.WardenServer;
import dev.warden.server.config.ConfigException;
import dev.warden.server.config.ConfigLoader;
import dev.warden.server.config.HostPort;
import dev.warden.server.config.WardenConfig;
import dev.warden.server.identity.oidc.OidcProviderSettings;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code warden serve}: runs the proxy until the process is told to stop. */
@Command(
    name = "serve",
    description =
        "Run the proxy. With no options: listen on 127.0.0.1:6432 in front of"
            + " postgresql://postgres@localhost:5432, data in ./warden-data.")
final class ServeCommand implements Callable<Integer> {
  private final Terminal terminal;

  @Option(
      names = "--listen",
      paramLabel = "HOST:PORT",
      description = "Where clients connect (default 127.0.0.1:6432).")
  Optional<HostPort> listen = Optional.empty();

  @Option(
      names = "--console",
      paramLabel = "HOST:PORT",
      description = "Where the REST API listens (default 127.0.0.1:8080).")
  Optional<HostPort> console = Optional.empty();

  @Option(
      names = "--upstream",
      paramLabel = "URL",
      description =
          "The database, as postgresql://USER[:PASSWORD]@HOST[:PORT][/DB][?sslmode=MODE];"
              + " replaces the configured environments with one named 'default' serving every"
              + " database name. A password here is visible in the process list: prefer a"
              + " configuration file with password: { env: VAR }.")
  Optional<Upstream> upstream = Optional.empty();

  @Option(
      names = "--data-dir",
      paramLabel = "DIR",
      description = "Warden's data directory (default ./warden-data).")
  Optional<Path> dataDir = Optional.empty();

  @Option(
      names = "--tag",
      paramLabel = "TAG",
      description =
          "Tag the environment (repeatable), e.g. --tag production to turn on the default"
              + " policy's production guardrails. Only for a setup with one environment.")
  List<String> tags = new ArrayList<>();

  @Option(
      names = "--policy",
      paramLabel = "FILE",
      description =
          "A policy file (YAML, see docs/policy.md), reloaded when it changes; default: the"
              + " built-in default policy.")
  Optional<Path> policy = Optional.empty();

  @Option(
      names = "--oidc-issuer",
      paramLabel = "URL",
      description =
          "Accept tokens from this OpenID Connect provider as passwords (with --oidc-audience),"
              + " e.g. https://login.corp.example/realms/main.")
  Optional<String> oidcIssuer = Optional.empty();

  @Option(
      names = "--oidc-audience",
      paramLabel = "AUDIENCE",
      description =
          "The audience the provider's tokens must carry: the client id of warden login, whose"
              + " ID tokens Warden accepts.")
  Optional<String> oidcAudience = Optional.empty();

  @Option(
      names = "--config",
      paramLabel = "FILE",
      description = "A YAML configuration file; the options above override it.")
  Optional<Path> config = Optional.empty();

  ServeCommand(Terminal terminal) {
    this.terminal = terminal;
  }

  @Override
  public Integer call() throws InterruptedException {
    WardenConfig configuration = configuration();
    WardenServer server;
    try {
      server = WardenServer.start(configuration, Clock.systemUTC(), new SecureRandom());
    } catch (StartupException e) {
      throw new CommandFailure(e.getMessage(), e);
    }
    Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().unstarted(server::close));
    Banner.print(terminal.out(), server);
    terminal
        .out()
        .println(
            "Connect with:  "
                + Banner.psql(server, Banner.exampleDatabase(configuration), "<name>"));
    if (server.users().list().isEmpty()) {
      terminal
          .out()
          .println(
              "No users yet. Add one (in another terminal): warden users add <name> --data-dir "
                  + configuration.dataDir());
    }
    terminal.out().println("Press Ctrl-C to stop.");
    terminal.out().flush();
    // SIGTERM and SIGINT run the shutdown hook, which closes the proxy and the store; the JVM
    // ends when it returns, so this thread only has to wait.
    new CountDownLatch(1).await();
    return Main.OK;
  }

  /** The configuration file, if any, with the command-line options applied over it. */
  WardenConfig configuration() {
    WardenConfig configuration = WardenConfig.defaults();
    if (config.isPresent()) {
      try {
        configuration =
            new ConfigLoader(terminal.environment()).load(terminal.resolve(config.get()));
      } catch (ConfigException e) {
        throw new CommandFailure("invalid configuration: " + e.getMessage(), e);
      }
    }
    configuration = configuration.withDataDir(terminal.resolve(configuration.dataDir()));
    if (listen.isPresent()) {
      configuration = configuration.withListen(listen.get());
    }
    if (console.isPresent()) {
      configuration = configuration.withConsole(console.get());
    }
    if (dataDir.isPresent()) {
      configuration = configuration.withDataDir(terminal.resolve(dataDir.get()));
    }
    if (upstream.isPresent()) {
      configuration =
          configuration.withEnvironments(List.of(WardenConfig.defaultEnvironment(upstream.get())));
    }
    if (!tags.isEmpty()) {
      configuration = tagged(configuration, tags);
    }
    if (policy.isPresent()) {
      configuration = configuration.withPolicy(terminal.resolve(policy.get()));
    }
    if (oidcIssuer.isPresent() != oidcAudience.isPresent()) {
      throw new UsageException(
          "--oidc-issuer and --oidc-audience go together, e.g. --oidc-issuer"
              + " https://login.corp.example/realms/main --oidc-audience warden-cli");
    }
    if (oidcIssuer.isPresent()) {
      configuration = withOidc(configuration, oidcIssuer.get(), oidcAudience.get());
    }
    return configuration;
  }

  /** {@code configuration} accepting tokens from one more provider, named {@code oidc}. */
  static WardenConfig withOidc(WardenConfig configuration, String issuer, String audience) {
    URI url;
    try {
      url = new URI(issuer);
    } catch (URISyntaxException e) {
      throw new UsageException("--oidc-issuer is not a valid URL: " + e.getReason());
    }
    String scheme = url.getScheme() == null ? "" : url.getScheme().toLowerCase(Locale.ROOT);
    boolean secure = scheme.equals("https");
    boolean local =
        scheme.equals("http") && url.getHost() != null && HostPort.isLoopback(url.getHost());
    if (url.getHost() == null || !secure && !local) {
      throw new UsageException(
          "--oidc-issuer must be an https:// URL (http only on this machine), e.g."
              + " https://login.corp.example/realms/main");
    }
    if (audience.isBlank()) {
      throw new UsageException("--oidc-audience must not be empty");
    }
    List<OidcProviderSettings> providers = new ArrayList<>(configuration.identity().oidc());
    if (providers.stream().anyMatch(p -> p.issuer().equals(url))) {
      return configuration;
    }
    String name = providers.stream().anyMatch(p -> p.name().equals("oidc")) ? "cli" : "oidc";
    providers.add(
        OidcProviderSettings.builder(name, url, List.of(audience)).clientId(audience).build());
    return configuration.withIdentity(configuration.identity().withOidc(providers));
  }

  /** The one environment of {@code configuration} with {@code tags} added to its own. */
  static WardenConfig tagged(WardenConfig configuration, List<String> tags) {
    if (configuration.environments().size() != 1) {
      throw new UsageException(
          "--tag applies to a setup with one environment; this configuration has "
              + configuration.environments().size()
              + ": give each its tags in the configuration file");
    }
    for (String tag : tags) {
      if (tag.isBlank()) {
        throw new UsageException("--tag needs a non-empty tag, e.g. --tag production");
      }
    }
    Environment only = configuration.environments().getFirst();
    Set<String> all = new LinkedHashSet<>(only.tags());
    all.addAll(tags);
    return configuration.withEnvironments(
        List.of(
            new Environment(only.name(), all, only.databases(), only.upstream(), only.roles())));
  }
}
