package dev.warden.server.cli;

import dev.warden.core.identity.Secret;
import dev.warden.server.config.HostPort;
import dev.warden.server.identity.login.BrowserFlow;
import dev.warden.server.identity.login.ClientRegistration;
import dev.warden.server.identity.login.CredentialStore;
import dev.warden.server.identity.login.DeviceAuthorization;
import dev.warden.server.identity.login.DeviceFlow;
import dev.warden.server.identity.login.LoginException;
import dev.warden.server.identity.login.LoginProfile;
import dev.warden.server.identity.login.OidcClient;
import dev.warden.server.identity.login.ProviderMetadata;
import dev.warden.server.identity.login.TokenClaims;
import dev.warden.server.identity.login.Tokens;
import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.function.Consumer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code warden login}: signs in at the organisation's OpenID provider (device flow or browser with
 * PKCE) and keeps the tokens in the per-user credentials file, for {@code warden connect} to
 * present to Warden as the PostgreSQL password. {@code --status} shows who is logged in, {@code
 * --logout} forgets the tokens.
 */
@Command(
    name = "login",
    description =
        "Sign in at your organisation's identity provider (OpenID Connect) and keep the token"
            + " for warden connect. The issuer, client id and proxy are remembered, so later"
            + " logins need no options.")
final class LoginCommand implements Callable<Integer> {
  /** What the command needs of the outside world besides the terminal; tests pass their own. */
  record Dependencies(
      Clock clock,
      HttpClient http,
      DeviceFlow.Sleeper sleeper,
      Optional<Consumer<URI>> browser,
      Duration browserTimeout) {
    Dependencies {
      Objects.requireNonNull(clock, "clock");
      Objects.requireNonNull(http, "http");
      Objects.requireNonNull(sleeper, "sleeper");
      Objects.requireNonNull(browser, "browser");
      Objects.requireNonNull(browserTimeout, "browserTimeout");
    }

    static Dependencies system() {
      return new Dependencies(
          Clock.systemUTC(),
          OidcClient.defaultHttpClient(),
          duration -> Thread.sleep(duration),
          Optional.empty(),
          BrowserFlow.DEFAULT_TIMEOUT);
    }
  }

  @Option(
      names = "--issuer",
      paramLabel = "URL",
      description = "The OpenID provider's issuer URL, e.g. https://login.example.com/realms/main.")
  String issuer;

  @Option(
      names = "--client-id",
      paramLabel = "ID",
      description = "The client id registered for warden login (Warden's configured audience).")
  String clientId;

  @Option(
      names = "--client-secret",
      paramLabel = "SECRET",
      description =
          "The client secret, only for providers that give native applications one that is not"
              + " confidential (Google).")
  String clientSecret;

  @Option(
      names = "--scope",
      paramLabel = "SCOPES",
      description =
          "Space-separated scopes (default: \"" + ClientRegistration.DEFAULT_SCOPE + "\").")
  String scope;

  @Option(names = "--device", description = "Use the device flow: a code to enter on any device.")
  boolean device;

  @Option(
      names = "--browser",
      description = "Use the browser on this machine (authorization code with PKCE).")
  boolean browser;

  @Option(
      names = "--proxy",
      paramLabel = "HOST:PORT",
      description = "Warden's address for warden connect (default 127.0.0.1:6432).")
  String proxy;

  @Option(
      names = "--profile",
      paramLabel = "NAME",
      description = "Which remembered login to use (default: ${DEFAULT-VALUE}).",
      defaultValue = LoginProfile.DEFAULT)
  String profile = LoginProfile.DEFAULT;

  @Option(names = "--status", description = "Show who is logged in and until when, and exit.")
  boolean status;

  @Option(
      names = "--logout",
      description = "Forget the cached tokens (the issuer, client id and proxy are kept).")
  boolean logout;

  private final Terminal terminal;
  private final Dependencies dependencies;

  LoginCommand(Terminal terminal) {
    this(terminal, Dependencies.system());
  }

  LoginCommand(Terminal terminal, Dependencies dependencies) {
    this.terminal = terminal;
    this.dependencies = dependencies;
  }

  @Override
  public Integer call() {
    String name;
    try {
      name = LoginProfile.checkName(profile);
    } catch (IllegalArgumentException e) {
      throw new UsageException("--profile: " + e.getMessage());
    }
    if (device && browser) {
      throw new UsageException("--device and --browser exclude each other");
    }
    if (status && logout) {
      throw new UsageException("--status and --logout exclude each other");
    }
    if ((status || logout)
        && (issuer != null
            || clientId != null
            || clientSecret != null
            || scope != null
            || proxy != null
            || device
            || browser)) {
      throw new UsageException(
          (status ? "--status" : "--logout") + " takes no other option than --profile");
    }
    CredentialStore store = credentialStore(terminal);
    try {
      if (status) {
        return status(store, name);
      }
      if (logout) {
        return logout(store, name);
      }
      return login(store, name);
    } catch (LoginException e) {
      throw new CommandFailure(e.getMessage(), e);
    }
  }

  static CredentialStore credentialStore(Terminal terminal) {
    return new CredentialStore(
        terminal.resolve(CredentialStore.defaultFile(terminal.environment())));
  }

  private int login(CredentialStore store, String name) {
    Optional<LoginProfile> remembered = store.load(name);
    URI issuerUri =
        issuer != null
            ? OidcClient.issuer(issuer)
            : remembered
                .map(p -> p.client().issuer())
                .orElseThrow(
                    () ->
                        new UsageException(
                            "--issuer is required for the first login"
                                + profileSuffix(name)
                                + ", e.g. warden login --issuer"
                                + " https://login.example.com/realms/main --client-id warden-cli"));
    // Settings remembered for another issuer are not carried over to a new one.
    Optional<LoginProfile> same = remembered.filter(p -> p.client().issuer().equals(issuerUri));
    String client =
        clientId != null
            ? clientId
            : same.map(p -> p.client().clientId())
                .orElseThrow(
                    () ->
                        new UsageException(
                            "--client-id is required for the first login at " + issuerUri));
    Optional<Secret> secret =
        clientSecret != null
            ? Optional.of(Secret.of(clientSecret))
            : same.flatMap(p -> p.client().clientSecret());
    String scopes =
        scope != null
            ? scope.strip()
            : same.map(p -> p.client().scope()).orElse(ClientRegistration.DEFAULT_SCOPE);
    Optional<String> proxyAddress =
        proxy != null ? Optional.of(checkProxy(proxy)) : remembered.flatMap(LoginProfile::proxy);
    ClientRegistration registration;
    try {
      registration = new ClientRegistration(issuerUri, client, secret, scopes);
    } catch (IllegalArgumentException e) {
      throw new UsageException(e.getMessage());
    }

    OidcClient oidc = new OidcClient(dependencies.http(), dependencies.clock());
    ProviderMetadata provider = oidc.discover(issuerUri);
    Tokens tokens =
        useBrowser()
            ? new BrowserFlow(oidc, new SecureRandom(), dependencies.browserTimeout())
                .run(provider, registration, this::openBrowser)
            : new DeviceFlow(oidc, dependencies.clock(), dependencies.sleeper())
                .run(provider, registration, this::showDeviceCode);
    store.save(new LoginProfile(name, registration, proxyAddress, Optional.of(tokens)));

    TokenClaims claims = TokenClaims.of(tokens.idToken());
    terminal
        .out()
        .println(
            "Logged in as "
                + claims.userName()
                + " at "
                + issuerUri
                + profileSuffix(name)
                + "; the token is valid until "
                + time(tokens.idTokenExpiresAt())
                + ".");
    if (tokens.refreshToken().isEmpty()) {
      terminal
          .out()
          .println(
              "The provider gave no refresh token, so log in again when it expires (some"
                  + " providers need offline_access in --scope).");
    }
    terminal
        .out()
        .println(
            "Connect with: warden connect ENV"
                + (name.equals(LoginProfile.DEFAULT) ? "" : " --profile " + name)
                + "   (ENV is a Warden environment, e.g. production)");
    return Main.OK;
  }

  private static String checkProxy(String text) {
    try {
      HostPort address = HostPort.parse(text);
      if (address.port() == 0) {
        throw new IllegalArgumentException("port must be between 1 and 65535, found 0");
      }
      return address.toString();
    } catch (IllegalArgumentException e) {
      throw new UsageException("--proxy: " + e.getMessage());
    }
  }

  private boolean useBrowser() {
    if (browser || device) {
      return browser;
    }
    return present("DISPLAY")
        || present("WAYLAND_DISPLAY")
        || System.getProperty("os.name", "").toLowerCase(Locale.ROOT).startsWith("mac");
  }

  private boolean present(String variable) {
    String value = terminal.environment().get(variable);
    return value != null && !value.isBlank();
  }

  private void showDeviceCode(DeviceAuthorization code) {
    var err = terminal.err();
    err.println("To sign in, open " + code.verificationUri());
    err.println("and enter the code: " + code.userCode());
    code.verificationUriComplete()
        .ifPresent(uri -> err.println("(or open " + uri + " , which fills in the code)"));
    err.println("Waiting for the sign-in (until " + time(code.expiresAt()) + ")...");
  }

  private void openBrowser(URI uri) {
    var err = terminal.err();
    err.println(
        "Opening your browser to sign in. If it does not open, open this URL on this machine:");
    err.println(uri);
    err.println("Waiting for the sign-in...");
    dependencies.browser().orElseGet(() -> this::launchBrowser).accept(uri);
  }

  /** Starts {@code xdg-open} or macOS's {@code open} if present; the URL is printed regardless. */
  private void launchBrowser(URI uri) {
    for (String opener : List.of("xdg-open", "open")) {
      Optional<Path> program = onPath(terminal, opener);
      if (program.isPresent()) {
        try {
          new ProcessBuilder(program.get().toString(), uri.toString())
              .redirectOutput(ProcessBuilder.Redirect.DISCARD)
              .redirectError(ProcessBuilder.Redirect.DISCARD)
              .start();
        } catch (IOException e) {
          // The URL is printed; the person can open it by hand.
        }
        return;
      }
    }
  }

  /** The executable {@code name} in the directories of the terminal's {@code PATH}. */
  static Optional<Path> onPath(Terminal terminal, String name) {
    String path = terminal.environment().getOrDefault("PATH", "");
    for (String dir : path.split(File.pathSeparator)) {
      if (dir.isEmpty()) {
        continue;
      }
      Path candidate = Path.of(dir, name);
      if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
        return Optional.of(candidate);
      }
    }
    return Optional.empty();
  }

  private int status(CredentialStore store, String name) {
    Optional<LoginProfile> found = store.load(name);
    if (found.isEmpty() || found.get().tokens().isEmpty()) {
      terminal
          .out()
          .println(
              "Not logged in"
                  + profileSuffix(name)
                  + ". Run warden login"
                  + (found.isEmpty() ? " --issuer URL --client-id ID" : "")
                  + ".");
      return Main.FAILED;
    }
    LoginProfile p = found.get();
    Tokens tokens = p.tokens().orElseThrow();
    TokenClaims claims = TokenClaims.of(tokens.idToken());
    Instant now = dependencies.clock().instant();
    var out = terminal.out();
    out.println("Logged in as " + claims.userName() + profileSuffix(name));
    out.println("  issuer:    " + p.client().issuer());
    out.println("  client id: " + p.client().clientId());
    out.println("  proxy:     " + p.proxy().orElse(ConnectCommand.DEFAULT_PROXY + " (default)"));
    Instant expiry = tokens.idTokenExpiresAt();
    if (expiry.isAfter(now)) {
      out.println(
          "  token:     valid until "
              + time(expiry)
              + " ("
              + left(Duration.between(now, expiry))
              + " left)"
              + (tokens.refreshToken().isPresent() ? "; renewed by warden connect" : ""));
    } else {
      out.println(
          "  token:     expired at "
              + time(expiry)
              + (tokens.refreshToken().isPresent()
                  ? "; warden connect renews it with the refresh token"
                  : "; run warden login"));
    }
    return Main.OK;
  }

  private int logout(CredentialStore store, String name) {
    Optional<LoginProfile> found = store.load(name);
    if (found.isEmpty() || found.get().tokens().isEmpty()) {
      terminal.out().println("Not logged in" + profileSuffix(name) + "; nothing to forget.");
      return Main.OK;
    }
    store.save(found.get().withTokens(Optional.empty()));
    terminal
        .out()
        .println(
            "Logged out"
                + profileSuffix(name)
                + ": the cached tokens are removed from "
                + store.file()
                + " (tokens already handed out stay valid until they expire).");
    return Main.OK;
  }

  static String profileSuffix(String name) {
    return name.equals(LoginProfile.DEFAULT) ? "" : " (profile " + name + ")";
  }

  static String time(Instant instant) {
    return instant.truncatedTo(ChronoUnit.SECONDS).toString();
  }

  private static String left(Duration duration) {
    long minutes = duration.toMinutes();
    if (minutes >= 120) {
      return duration.toHours() + " h";
    }
    return minutes >= 1 ? minutes + " min" : duration.toSeconds() + " s";
  }
}
