package dev.warden.server.cli;

import dev.warden.core.environment.Upstream;
import dev.warden.server.config.HostPort;
import dev.warden.server.config.UpstreamUrl;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.concurrent.Callable;
import java.util.function.Function;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/**
 * The {@code warden} command. Exit codes: 0 success, 1 the command failed, 2 the command line was
 * wrong. Errors go to standard error as one line without a stack trace unless {@code --verbose}.
 */
@Command(
    name = "warden",
    description = "Identity-aware governance proxy for databases.",
    mixinStandardHelpOptions = true,
    versionProvider = Version.Provider.class,
    usageHelpAutoWidth = true)
public final class Main implements Callable<Integer> {
  /** Exit code of a command that did what was asked. */
  public static final int OK = 0;

  /** Exit code of a command that failed at run time. */
  public static final int FAILED = 1;

  /** Exit code of a wrong command line. */
  public static final int USAGE = 2;

  @Option(
      names = "--verbose",
      description = "Print stack traces with errors.",
      scope = ScopeType.INHERIT)
  boolean verbose;

  private final Terminal terminal;

  Main(Terminal terminal) {
    this.terminal = terminal;
  }

  /** Runs the command line and exits the JVM with its exit code. */
  public static void main(String[] args) {
    // Netty's leak detector samples buffers and records a stack trace when one is released: a
    // per-statement cost in production (about 1 % of Warden's CPU on point selects). The tests run
    // with it; -Dio.netty.leakDetection.level=simple turns it back on.
    if (System.getProperty(LEAK_DETECTION) == null) {
      System.setProperty(LEAK_DETECTION, "disabled");
    }
    int code = run(args, Terminal.system());
    // serve and demo return only after their shutdown; the other commands return at once.
    System.exit(code);
  }

  private static final String LEAK_DETECTION = "io.netty.leakDetection.level";

  static int run(String[] args, Terminal terminal) {
    return commandLine(terminal).execute(args);
  }

  static CommandLine commandLine(Terminal terminal) {
    CommandLine line = new CommandLine(new Main(terminal));
    line.addSubcommand(new ServeCommand(terminal));
    line.addSubcommand(
        new CommandLine(new UsersCommand())
            .addSubcommand(new UsersCommand.Add(terminal))
            .addSubcommand(new UsersCommand.ListUsers(terminal))
            .addSubcommand(new UsersCommand.Remove(terminal)));
    line.addSubcommand(
        new CommandLine(new PolicyCommand())
            .addSubcommand(new PolicyCommand.Check(terminal))
            .addSubcommand(new PolicyCommand.Test(terminal, PolicyCommand::postgres)));
    line.addSubcommand(
        new CommandLine(new AuditCommand())
            .addSubcommand(new AuditCommand.Search(terminal))
            .addSubcommand(new AuditCommand.Tail(terminal))
            .addSubcommand(new AuditCommand.Export(terminal))
            .addSubcommand(new AuditCommand.Verify(terminal)));
    line.addSubcommand(
        new CommandLine(new TokensCommand())
            .addSubcommand(
                new TokensCommand.Create(terminal, Clock.systemUTC(), new SecureRandom()))
            .addSubcommand(new TokensCommand.ListTokens(terminal, Clock.systemUTC()))
            .addSubcommand(new TokensCommand.Revoke(terminal, Clock.systemUTC())));
    line.addSubcommand(new LoginCommand(terminal));
    line.addSubcommand(new ConnectCommand(terminal));
    line.addSubcommand(ApprovalsCommand.command(terminal));
    line.addSubcommand(AccessCommand.command(terminal));
    line.addSubcommand(new DataMapCommand(terminal));
    line.addSubcommand(new DemoCommand(terminal));
    line.addSubcommand(new VersionCommand(terminal));
    line.registerConverter(HostPort.class, converter(HostPort::parse));
    line.registerConverter(Upstream.class, converter(UpstreamUrl::parse));
    line.setOut(new PrintWriter(terminal.out(), true, StandardCharsets.UTF_8));
    line.setErr(new PrintWriter(terminal.err(), true, StandardCharsets.UTF_8));
    line.setParameterExceptionHandler(
        (e, args) -> {
          CommandLine command = e.getCommandLine();
          command.getErr().println("warden: " + e.getMessage());
          CommandLine.UnmatchedArgumentException.printSuggestions(e, command.getErr());
          command
              .getErr()
              .println("Run '" + command.getCommandSpec().qualifiedName() + " --help' for usage.");
          return USAGE;
        });
    line.setExecutionExceptionHandler(
        (e, command, parseResult) -> {
          PrintWriter err = command.getErr();
          int code;
          switch (e) {
            case UsageException u -> {
              err.println("warden: " + u.getMessage());
              code = USAGE;
            }
            case CommandFailure f -> {
              err.println("warden: " + f.getMessage());
              code = FAILED;
            }
            default -> {
              err.println("warden: unexpected error: " + e);
              code = FAILED;
            }
          }
          if (verbose(parseResult)) {
            e.printStackTrace(err);
          } else if (!(e instanceof UsageException) && !(e instanceof CommandFailure)) {
            err.println("Run again with --verbose for details.");
          }
          err.flush();
          return code;
        });
    return line;
  }

  private static boolean verbose(ParseResult result) {
    for (ParseResult r = result; r != null; r = r.subcommand()) {
      if (r.hasMatchedOption("--verbose")) {
        return true;
      }
    }
    return false;
  }

  /** Converts with a parser whose IllegalArgumentException messages are fit to show. */
  private static <T> CommandLine.ITypeConverter<T> converter(Function<String, T> parser) {
    return text -> {
      try {
        return parser.apply(text);
      } catch (IllegalArgumentException e) {
        throw new CommandLine.TypeConversionException(e.getMessage());
      }
    };
  }

  @Spec CommandSpec spec;

  @Override
  public Integer call() {
    spec.commandLine().usage(terminal.err());
    return USAGE;
  }
}
