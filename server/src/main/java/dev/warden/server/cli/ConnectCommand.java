package dev.warden.server.cli;

import dev.warden.core.identity.Secret;
import dev.warden.server.config.HostPort;
import dev.warden.server.identity.login.CachedLogin;
import dev.warden.server.identity.login.LoginException;
import dev.warden.server.identity.login.LoginProfile;
import dev.warden.server.identity.login.OidcClient;
import dev.warden.server.identity.login.PgConnection;
import dev.warden.server.identity.login.PgPass;
import dev.warden.server.identity.login.TokenClaims;
import dev.warden.server.identity.login.Tokens;
import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.net.http.HttpClient;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code warden connect ENV}: starts psql against Warden with the token of {@code warden login} as
 * the password, renewing it first when it is about to expire; or prints a connection string, or
 * writes the token to the password file, for other clients.
 */
@Command(
    name = "connect",
    description =
        "Connect psql to a Warden environment with the token of warden login as the password"
            + " (passed in PGPASSWORD, never on the command line). Arguments after -- go to psql.")
final class ConnectCommand implements Callable<Integer> {
  /** Warden's address when {@code warden login --proxy} named none. */
  static final String DEFAULT_PROXY = "127.0.0.1:6432";

  /** What the command needs of the outside world besides the terminal; tests pass their own. */
  record Dependencies(Clock clock, HttpClient http) {
    Dependencies {
      Objects.requireNonNull(clock, "clock");
      Objects.requireNonNull(http, "http");
    }

    static Dependencies system() {
      return new Dependencies(Clock.systemUTC(), OidcClient.defaultHttpClient());
    }
  }

  @Parameters(
      index = "0",
      paramLabel = "ENV",
      description = "The Warden environment, e.g. production; the database unless --database.")
  String environment;

  @Parameters(
      index = "1..*",
      paramLabel = "PSQL_ARG",
      description = "Arguments for psql, after --, e.g. -- -c 'select 1'.")
  List<String> psqlArgs = new ArrayList<>();

  @Option(names = "--database", paramLabel = "DB", description = "The database (default: ENV).")
  String database;

  @Option(
      names = "--user",
      paramLabel = "NAME",
      description = "The user name (default: the token's email, preferred_username or sub).")
  String user;

  @Option(
      names = "--print",
      description = "Print a libpq connection string holding the token instead of starting psql.")
  boolean print;

  @Option(
      names = "--pgpass",
      description =
          "Write the token to ~/.pgpass (or $PGPASSFILE) for other clients instead of starting"
              + " psql.")
  boolean pgpass;

  @Option(
      names = "--token",
      paramLabel = "id|access",
      description = "Which token to present: id (default) or access.",
      defaultValue = "id")
  String token = "id";

  @Option(
      names = "--sslmode",
      paramLabel = "MODE",
      description = "libpq sslmode (default: ${DEFAULT-VALUE}).",
      defaultValue = "prefer")
  String sslmode = "prefer";

  @Option(
      names = "--profile",
      paramLabel = "NAME",
      description = "Which login of warden login to use (default: ${DEFAULT-VALUE}).",
      defaultValue = LoginProfile.DEFAULT)
  String profile = LoginProfile.DEFAULT;

  private final Terminal terminal;
  private final Dependencies dependencies;

  ConnectCommand(Terminal terminal) {
    this(terminal, Dependencies.system());
  }

  ConnectCommand(Terminal terminal, Dependencies dependencies) {
    this.terminal = terminal;
    this.dependencies = dependencies;
  }

  @Override
  public Integer call() {
    if (print && pgpass) {
      throw new UsageException("--print and --pgpass exclude each other");
    }
    if ((print || pgpass) && !psqlArgs.isEmpty()) {
      throw new UsageException(
          "arguments for psql ("
              + String.join(" ", psqlArgs)
              + ") make no sense with "
              + (print ? "--print" : "--pgpass"));
    }
    Tokens.Kind kind =
        switch (token.toLowerCase(Locale.ROOT)) {
          case "id" -> Tokens.Kind.ID;
          case "access" -> Tokens.Kind.ACCESS;
          default ->
              throw new UsageException("--token must be id or access, found '" + token + "'");
        };
    if (!PgConnection.SSL_MODES.contains(sslmode)) {
      throw new UsageException(
          "--sslmode must be one of disable, allow, prefer, require, verify-ca or verify-full,"
              + " found '"
              + sslmode
              + "'");
    }
    String name;
    try {
      name = LoginProfile.checkName(profile);
    } catch (IllegalArgumentException e) {
      throw new UsageException("--profile: " + e.getMessage());
    }
    if (environment.isBlank()) {
      throw new UsageException("ENV must not be empty, e.g. warden connect production");
    }
    if (database != null && database.isBlank()) {
      throw new UsageException("--database must not be empty");
    }
    if (user != null && user.isBlank()) {
      throw new UsageException("--user must not be empty");
    }

    LoginProfile login;
    try {
      login =
          new CachedLogin(
                  LoginCommand.credentialStore(terminal),
                  new OidcClient(dependencies.http(), dependencies.clock()),
                  dependencies.clock())
              .fresh(name, kind);
    } catch (LoginException e) {
      throw new CommandFailure(e.getMessage(), e);
    }
    Tokens tokens = login.tokens().orElseThrow();
    Secret password = tokens.token(kind);
    HostPort proxy;
    try {
      proxy = HostPort.parse(login.proxy().orElse(DEFAULT_PROXY));
    } catch (IllegalArgumentException e) {
      throw new CommandFailure(
          "the remembered proxy address is not valid ("
              + e.getMessage()
              + "); run warden login --proxy HOST:PORT");
    }
    String userName;
    try {
      userName = user != null ? user : TokenClaims.of(tokens.idToken()).userName();
    } catch (LoginException e) {
      throw new CommandFailure(e.getMessage(), e);
    }
    PgConnection connection =
        new PgConnection(
            proxy.host(),
            proxy.port(),
            database != null ? database : environment,
            userName,
            sslmode);

    if (print) {
      terminal
          .err()
          .println(
              "warden: warning: this connection string contains your token, a secret; do not"
                  + " share, paste or log it (it is valid until "
                  + LoginCommand.time(tokens.expiresAt(kind))
                  + ")");
      terminal.out().println(connection.conninfo(Optional.of(password)));
      return Main.OK;
    }
    if (pgpass) {
      Path file = terminal.resolve(PgPass.location(terminal.environment()));
      try {
        PgPass.write(file, connection, password);
      } catch (LoginException e) {
        throw new CommandFailure(e.getMessage(), e);
      }
      terminal
          .out()
          .println(
              "Wrote the token for "
                  + userName
                  + " at "
                  + proxy
                  + "/"
                  + connection.database()
                  + " to "
                  + file
                  + "; it is valid until "
                  + LoginCommand.time(tokens.expiresAt(kind))
                  + ", then run warden connect --pgpass again.");
      terminal
          .out()
          .println("Connect with: psql \"" + connection.conninfo(Optional.empty()) + "\"");
      return Main.OK;
    }
    return runPsql(connection, password);
  }

  private int runPsql(PgConnection connection, Secret password) {
    Path psql =
        LoginCommand.onPath(terminal, "psql")
            .orElseThrow(
                () ->
                    new CommandFailure(
                        "psql is not installed (not found on PATH); install the PostgreSQL"
                            + " client, e.g. apt install postgresql-client, or use warden connect"
                            + " --print"));
    List<String> command = new ArrayList<>();
    command.add(psql.toString());
    // The connection string without the password; the token travels in PGPASSWORD, since
    // arguments are visible to every user through ps and /proc.
    command.add("--dbname=" + connection.conninfo(Optional.empty()));
    command.addAll(psqlArgs);
    ProcessBuilder builder = new ProcessBuilder(command).inheritIO();
    Map<String, String> env = builder.environment();
    env.clear();
    env.putAll(terminal.environment());
    env.put("PGPASSWORD", password.reveal());
    Process process;
    try {
      process = builder.start();
    } catch (IOException e) {
      throw new CommandFailure("cannot start " + psql + " (" + e.getMessage() + ")", e);
    }
    Object previous = ignoreInterrupt();
    try {
      return process.waitFor();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroy();
      throw new CommandFailure("interrupted while psql was running", e);
    } finally {
      restoreInterrupt(previous);
    }
  }

  /*
   * Ctrl-C in psql cancels the running query; the terminal sends SIGINT to the whole foreground
   * process group, this JVM included, which would exit and leave psql orphaned on the terminal. So
   * while psql runs the JVM ignores SIGINT, as a shell does for its foreground job. sun.misc.Signal
   * is reached reflectively because javac warns about it without a way to suppress the warning.
   */
  private static Object ignoreInterrupt() {
    try {
      Class<?> signal = Class.forName("sun.misc.Signal");
      Class<?> handler = Class.forName("sun.misc.SignalHandler");
      Object ignore = handler.getField("SIG_IGN").get(null);
      Method handle = signal.getMethod("handle", signal, handler);
      return handle.invoke(null, signal.getConstructor(String.class).newInstance("INT"), ignore);
    } catch (ReflectiveOperationException | LinkageError | RuntimeException e) {
      return null;
    }
  }

  private static void restoreInterrupt(Object previous) {
    if (previous == null) {
      return;
    }
    try {
      Class<?> signal = Class.forName("sun.misc.Signal");
      Class<?> handler = Class.forName("sun.misc.SignalHandler");
      signal
          .getMethod("handle", signal, handler)
          .invoke(null, signal.getConstructor(String.class).newInstance("INT"), previous);
    } catch (InvocationTargetException e) {
      // The old handler cannot be put back; the command is about to exit anyway.
    } catch (ReflectiveOperationException | LinkageError | RuntimeException e) {
      // As above.
    }
  }
}
