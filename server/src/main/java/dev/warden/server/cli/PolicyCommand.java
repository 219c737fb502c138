package dev.warden.server.cli;

import dev.warden.core.environment.Environment;
import dev.warden.core.environment.TlsMode;
import dev.warden.core.environment.Upstream;
import dev.warden.core.gate.Admission;
import dev.warden.core.gate.Decision;
import dev.warden.core.gate.SessionContext;
import dev.warden.core.gate.StatementPath;
import dev.warden.core.gate.StatementRequest;
import dev.warden.core.gate.Verdict;
import dev.warden.core.identity.AuthMethod;
import dev.warden.core.identity.Identity;
import dev.warden.core.identity.Secret;
import dev.warden.core.policy.Judgement;
import dev.warden.core.policy.Policy;
import dev.warden.core.policy.PolicyException;
import dev.warden.core.policy.PolicyGatekeeper;
import dev.warden.core.policy.PolicyInput;
import dev.warden.core.statement.Analysis;
import dev.warden.core.statement.ColumnRef;
import dev.warden.core.statement.LexicalSettings;
import dev.warden.core.statement.PreparedStatements;
import dev.warden.core.statement.SqlAnalyzer;
import dev.warden.core.statement.Statement;
import dev.warden.core.statement.StatementFlag;
import dev.warden.core.statement.TableRef;
import dev.warden.server.config.ConfigException;
import dev.warden.server.config.ConfigLoader;
import dev.warden.server.config.WardenConfig;
import dev.warden.server.policy.PolicyFile;
import dev.warden.sql.postgres.PgQueryUnavailableException;
import dev.warden.sql.postgres.PostgresAnalyzer;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.function.Function;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code warden policy}: checks a policy file, and shows what a policy says about a statement. */
@Command(
    name = "policy",
    description = "Check a policy file, or see what a policy decides for a statement.")
final class PolicyCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Override
  public Integer call() {
    spec.commandLine().usage(spec.commandLine().getErr());
    return Main.USAGE;
  }

  /** {@code warden policy check FILE}. */
  @Command(
      name = "check",
      description =
          "Validate a policy file. Prints a one-line summary and exits 0, or every problem as"
              + " FILE:LINE:COLUMN: reason and exits 1.")
  static final class Check implements Callable<Integer> {
    private final Terminal terminal;

    @Parameters(paramLabel = "FILE", description = "The policy file.")
    Path file;

    Check(Terminal terminal) {
      this.terminal = terminal;
    }

    @Override
    public Integer call() {
      Path path = terminal.resolve(file);
      Policy policy;
      try {
        policy = PolicyFile.load(path);
      } catch (PolicyException e) {
        for (PolicyException.Problem problem : e.problems()) {
          terminal.err().println(problem.origin().isEmpty() ? problem.reason() : problem);
        }
        terminal
            .err()
            .println(
                path
                    + ": "
                    + e.problems().size()
                    + (e.problems().size() == 1 ? " problem" : " problems")
                    + "; the policy was not loaded");
        return Main.FAILED;
      }
      terminal
          .out()
          .println(
              path
                  + ": OK, "
                  + policy.rules().size()
                  + (policy.rules().size() == 1 ? " rule" : " rules")
                  + ", default "
                  + policy.defaultAction().fileName()
                  + ", version "
                  + Long.toHexString(policy.version()));
      return Main.OK;
    }
  }

  /** {@code warden policy test --as USER --env ENV "SQL"}. */
  @Command(
      name = "test",
      description =
          "Show the verdict a policy gives a statement, the rule that decided it, and the facts"
              + " Warden found in each statement.")
  static final class Test implements Callable<Integer> {
    private final Terminal terminal;
    private final Function<Terminal, SqlAnalyzer> analyzers;

    @Option(names = "--as", required = true, paramLabel = "USER", description = "The identity.")
    String user;

    @Option(
        names = "--groups",
        split = ",",
        paramLabel = "GROUP",
        description = "The identity's groups, comma-separated.")
    List<String> groups = new ArrayList<>();

    @Option(
        names = "--env",
        required = true,
        paramLabel = "ENV",
        description =
            "The environment: one of the configuration file's, or any name without --config.")
    String environment;

    @Option(
        names = "--tag",
        paramLabel = "TAG",
        description = "A tag of the environment (repeatable), e.g. --tag production.")
    List<String> tags = new ArrayList<>();

    @Option(
        names = "--database",
        paramLabel = "DB",
        description = "The database the client asked for (default: the environment's name).")
    Optional<String> database = Optional.empty();

    @Option(
        names = "--source",
        paramLabel = "IP",
        description = "The client's address (default 127.0.0.1).")
    String source = "127.0.0.1";

    @Option(
        names = "--policy",
        paramLabel = "FILE",
        description = "The policy file (default: the configuration's, else the built-in one).")
    Optional<Path> policyFile = Optional.empty();

    @Option(
        names = "--config",
        paramLabel = "FILE",
        description = "A configuration file: its environments, modes and policy.")
    Optional<Path> config = Optional.empty();

    @Parameters(paramLabel = "SQL", description = "The statement text, as a client would send it.")
    String sql;

    Test(Terminal terminal, Function<Terminal, SqlAnalyzer> analyzers) {
      this.terminal = terminal;
      this.analyzers = analyzers;
    }

    @Override
    public Integer call() {
      Optional<WardenConfig> configuration = configuration();
      Environment env = environment(configuration);
      Set<String> observed = configuration.map(WardenConfig::observedEnvironments).orElse(Set.of());
      Policy policy = policy(configuration);
      SqlAnalyzer analyzer;
      try {
        analyzer = analyzers.apply(terminal);
      } catch (PgQueryUnavailableException e) {
        throw new CommandFailure(e.getMessage(), e);
      }
      SessionContext session =
          new SessionContext(
              "policy-test",
              new Identity(user, Set.copyOf(groups), AuthMethod.SCRAM_SHA_256),
              env,
              source.contains(":") ? "[" + source + "]:0" : source + ":0",
              database.orElse(env.name()),
              "warden policy test");
      PolicyGatekeeper gate =
          new PolicyGatekeeper(analyzer, () -> policy, observed, InstantSource.system());
      Decision decision =
          gate.decide(
              StatementRequest.sql(
                  session,
                  sql,
                  Optional.empty(),
                  StatementPath.SIMPLE,
                  LexicalSettings.DEFAULT,
                  new PreparedStatements()));
      print(decision, policy, session, observed.contains(env.name()));
      Admission admission = gate.admit(session);
      terminal
          .out()
          .println(
              "access: "
                  + (admission.allowed()
                      ? "allowed"
                      : "refused"
                          + (admission.message().isEmpty() ? "" : ": " + admission.message()))
                  + (admission.rule().isEmpty()
                      ? " (no access rules)"
                      : " (access rule " + admission.rule() + ")"));
      return Main.OK;
    }

    private Optional<WardenConfig> configuration() {
      if (config.isEmpty()) {
        return Optional.empty();
      }
      try {
        return Optional.of(
            new ConfigLoader(terminal.environment()).load(terminal.resolve(config.get())));
      } catch (ConfigException e) {
        throw new CommandFailure("invalid configuration: " + e.getMessage(), e);
      }
    }

    private Environment environment(Optional<WardenConfig> configuration) {
      Environment env;
      if (configuration.isPresent()) {
        env =
            configuration.get().environments().stream()
                .filter(e -> e.name().equals(environment))
                .findFirst()
                .orElseThrow(
                    () ->
                        new UsageException(
                            "the configuration has no environment '"
                                + environment
                                + "'; it has: "
                                + String.join(
                                    ", ",
                                    configuration.get().environments().stream()
                                        .map(Environment::name)
                                        .toList())));
      } else {
        env =
            new Environment(
                environment,
                Set.of(),
                List.of(Environment.ANY_DATABASE),
                new Upstream(
                    "localhost",
                    5432,
                    Optional.empty(),
                    "postgres",
                    Secret.of(""),
                    TlsMode.DISABLE,
                    Optional.empty()));
      }
      Set<String> all = new LinkedHashSet<>(env.tags());
      all.addAll(tags);
      return new Environment(env.name(), all, env.databases(), env.upstream());
    }

    private Policy policy(Optional<WardenConfig> configuration) {
      Optional<Path> file =
          policyFile.map(terminal::resolve).or(() -> configuration.flatMap(WardenConfig::policy));
      if (file.isEmpty()) {
        return PolicyFile.defaultPolicy();
      }
      try {
        return PolicyFile.load(file.get());
      } catch (PolicyException e) {
        throw new CommandFailure("invalid policy:\n" + e.getMessage(), e);
      }
    }

    private void print(Decision decision, Policy policy, SessionContext session, boolean observe) {
      PrintStream out = terminal.out();
      switch (decision.verdict()) {
        case Verdict.Allow a -> {
          out.println(
              "verdict: allow"
                  + (decision.observed()
                      ? observe && !decision.rule().isEmpty() && refusedByRule(decision, policy)
                          ? " (observe-only environment: it would have been refused)"
                          : " (observed)"
                      : ""));
        }
        case Verdict.Deny d -> {
          out.println("verdict: deny (SQLSTATE " + d.sqlState() + ")");
          out.println("  " + d.message());
          out.println("  hint: " + d.hint());
        }
      }
      out.println(
          "rule: "
              + (decision.rule().isEmpty()
                  ? "none matched; the default (" + policy.defaultAction().fileName() + ")"
                  : decision.rule()));
      decision
          .rowLimit()
          .ifPresent(
              limit ->
                  out.println(
                      "row limit: "
                          + limit
                          + decision
                              .rowLimitApproval()
                              .map(
                                  a ->
                                      " (beyond it Warden rolls back, and the change waits for"
                                          + " approval by "
                                          + String.join(
                                              " or ", new java.util.TreeSet<>(a.approverGroups()))
                                          + ")")
                              .orElse(" (beyond it Warden rolls back)")));
      out.println("policy: " + policy.name() + ", version " + Long.toHexString(policy.version()));
      out.println(
          "as: "
              + session.identity().name()
              + " (groups: "
              + list(session.identity().groups())
              + ") in environment "
              + session.environment().name()
              + " (tags: "
              + list(session.environment().tags())
              + (observe ? "; observe-only" : "")
              + ")");
      Analysis analysis = decision.analysis();
      List<Statement> statements = analysis.statements();
      PolicyInput input =
          new PolicyInput(session, StatementPath.SIMPLE, InstantSource.system().instant());
      for (int i = 0; i < statements.size(); i++) {
        Statement s = statements.get(i);
        Judgement j = policy.judge(s, analysis.multiStatement(), input);
        out.println();
        out.println("statement " + (i + 1) + " of " + statements.size() + ": " + s.command());
        out.println("  kind: " + lower(s.kind().name()));
        out.println(
            "  rule: "
                + (j.ruleName().isEmpty() ? "(default)" : j.ruleName())
                + " -> "
                + j.action().fileName()
                + (j.error().isEmpty() ? "" : " (condition failed: " + j.error() + ")"));
        out.println("  tables read: " + tables(s.tablesRead()));
        out.println("  tables written: " + tables(s.tablesWritten()));
        out.println("  columns read: " + columns(s.columnsRead()));
        out.println("  columns written: " + columns(s.columnsWritten()));
        out.println("  functions: " + list(s.functions()));
        out.println("  flags: " + flags(s.flags()));
        if (s.command().equals("UPDATE")
            || s.command().equals("DELETE")
            || s.command().equals("MERGE")) {
          out.println(
              "  where: "
                  + (!s.hasWhere() ? "none" : s.whereTriviallyTrue() ? "always true" : "present"));
        }
        if (!s.unknownReason().isEmpty()) {
          out.println("  unknown: " + s.unknownReason());
        }
        if (!s.preparedName().isEmpty()) {
          out.println("  prepared statement: " + s.preparedName());
        }
      }
      out.flush();
    }

    private static boolean refusedByRule(Decision decision, Policy policy) {
      return policy.rules().stream()
          .anyMatch(r -> r.name().equals(decision.rule()) && r.action().refuses());
    }

    private static String tables(Collection<TableRef> tables) {
      TreeSet<String> names = new TreeSet<>();
      tables.forEach(t -> names.add(t.qualifiedName()));
      return list(names);
    }

    private static String columns(Collection<ColumnRef> columns) {
      TreeSet<String> names = new TreeSet<>();
      columns.forEach(c -> names.add(c.toString()));
      return list(names);
    }

    private static String flags(Collection<StatementFlag> flags) {
      TreeSet<String> names = new TreeSet<>();
      flags.forEach(f -> names.add(lower(f.name())));
      return list(names);
    }

    private static String list(Collection<String> values) {
      return values.isEmpty() ? "-" : String.join(", ", new TreeSet<>(values));
    }

    private static String lower(String s) {
      return s.toLowerCase(Locale.ROOT);
    }
  }

  /** The analyser {@code policy test} uses: the real one, PostgreSQL's own parser. */
  static SqlAnalyzer postgres(Terminal terminal) {
    return new PostgresAnalyzer();
  }
}
