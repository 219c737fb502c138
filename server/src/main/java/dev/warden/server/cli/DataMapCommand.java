package dev.warden.server.cli;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import dev.warden.core.environment.Environment;
import dev.warden.core.environment.Upstream;
import dev.warden.core.masking.DataMap;
import dev.warden.core.masking.Finding;
import dev.warden.core.masking.MappedColumn;
import dev.warden.core.masking.MappedRelation;
import dev.warden.core.masking.MaskingRules;
import dev.warden.core.policy.Policy;
import dev.warden.core.policy.PolicyException;
import dev.warden.core.statement.SqlAnalyzer;
import dev.warden.server.config.ConfigException;
import dev.warden.server.config.ConfigLoader;
import dev.warden.server.config.WardenConfig;
import dev.warden.server.datamap.BuildReport;
import dev.warden.server.datamap.DataMapException;
import dev.warden.server.datamap.PostgresDataMaps;
import dev.warden.server.policy.PolicyFile;
import dev.warden.sql.postgres.PgQueryUnavailableException;
import dev.warden.sql.postgres.PostgresAnalyzer;
import java.io.IOException;
import java.io.PrintStream;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code warden datamap}: builds the data maps of the configured environments as a running Warden
 * would, straight from the databases (no server needed), applies the policy's column overrides, and
 * shows which columns Warden masks and why.
 */
@Command(
    name = "datamap",
    description =
        "Show which columns hold sensitive data (what Warden masks), how each was found, and the"
            + " policy's overrides. Connects to the databases itself; no running Warden is needed.")
final class DataMapCommand implements java.util.concurrent.Callable<Integer> {
  /** How long one database's map may take to build before the command gives up on it. */
  private static final long BUILD_MINUTES = 10;

  private final Terminal terminal;

  @Option(
      names = "--config",
      paramLabel = "FILE",
      description =
          "The configuration file: its environments, policy and data-map settings (default: the"
              + " PostgreSQL server on this machine as postgres, every database).")
  Optional<Path> config = Optional.empty();

  @Option(
      names = "--upstream",
      paramLabel = "URL",
      description =
          "The database, as postgresql://USER[:PASSWORD]@HOST[:PORT][/DB][?sslmode=MODE]; replaces"
              + " the configured environments with one named 'default', as 'warden serve"
              + " --upstream' does.")
  Optional<Upstream> upstream = Optional.empty();

  @Option(names = "--env", paramLabel = "ENV", description = "Only this environment.")
  Optional<String> environment = Optional.empty();

  @Option(
      names = "--database",
      paramLabel = "DB",
      description =
          "Only this database (as clients name it); default: the environment's database, its"
              + " listed databases, or every database its user may connect to when it serves '*'.")
  Optional<String> database = Optional.empty();

  @Option(names = "--json", description = "Print a JSON document with every column.")
  boolean json;

  @Option(names = "--all", description = "List every column, not only the sensitive ones.")
  boolean all;

  DataMapCommand(Terminal terminal) {
    this.terminal = terminal;
  }

  /** One database to map, or why it could not be. */
  private record Built(
      Environment environment,
      String database,
      Optional<DataMap> map,
      Optional<BuildReport> report,
      String error) {}

  @Override
  public Integer call() {
    WardenConfig configuration = configuration();
    List<Environment> environments = environments(configuration);
    Policy policy = policy(configuration);
    MaskingRules masking = policy.masking();
    List<Built> results = new ArrayList<>();
    try (PostgresDataMaps maps =
        new PostgresDataMaps(
            environments,
            configuration.dataMap(),
            masking::detectors,
            analyzer(),
            Clock.systemUTC())) {
      List<Environment> envs = new ArrayList<>();
      List<String> names = new ArrayList<>();
      List<CompletableFuture<DataMap>> futures = new ArrayList<>();
      for (Environment env : environments) {
        List<String> databases;
        try {
          databases = databases(env, configuration);
        } catch (DataMapException e) {
          results.add(new Built(env, "*", Optional.empty(), Optional.empty(), e.getMessage()));
          continue;
        }
        for (String db : databases) {
          envs.add(env);
          names.add(db);
          futures.add(maps.ready(env.name(), db));
        }
      }
      for (int i = 0; i < futures.size(); i++) {
        Environment env = envs.get(i);
        String db = names.get(i);
        try {
          DataMap map = futures.get(i).get(BUILD_MINUTES, TimeUnit.MINUTES);
          results.add(
              new Built(
                  env, db, Optional.of(masking.overlay(map)), maps.report(env.name(), db), ""));
        } catch (ExecutionException | CompletionException e) {
          String message = e.getCause() != null ? e.getCause().getMessage() : e.getMessage();
          results.add(new Built(env, db, Optional.empty(), Optional.empty(), message));
        } catch (TimeoutException e) {
          results.add(
              new Built(
                  env,
                  db,
                  Optional.empty(),
                  Optional.empty(),
                  "the data map of database '"
                      + db
                      + "' in environment '"
                      + env.name()
                      + "' took longer than "
                      + BUILD_MINUTES
                      + " minutes"));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new CommandFailure("interrupted", e);
        }
      }
    }
    if (json) {
      terminal.out().println(json(results));
    } else {
      print(results);
    }
    boolean failed = false;
    for (Built b : results) {
      if (b.map().isEmpty()) {
        terminal.err().println("warden: " + AuditLines.escape(b.error()));
        failed = true;
      }
    }
    terminal.out().flush();
    return failed ? Main.FAILED : Main.OK;
  }

  /** The analyser Warden judges statements with, so computed view columns are read alike. */
  private static Optional<SqlAnalyzer> analyzer() {
    try {
      return Optional.of(new PostgresAnalyzer());
    } catch (PgQueryUnavailableException e) {
      return Optional.empty(); // computed view columns are then judged by their dependencies
    }
  }

  private WardenConfig configuration() {
    WardenConfig configuration = WardenConfig.defaults();
    if (config.isPresent()) {
      try {
        configuration =
            new ConfigLoader(terminal.environment()).load(terminal.resolve(config.get()));
      } catch (ConfigException e) {
        throw new CommandFailure("invalid configuration: " + e.getMessage(), e);
      }
    }
    if (upstream.isPresent()) {
      configuration =
          configuration.withEnvironments(List.of(WardenConfig.defaultEnvironment(upstream.get())));
    }
    return configuration;
  }

  private List<Environment> environments(WardenConfig configuration) {
    if (environment.isEmpty()) {
      return configuration.environments();
    }
    for (Environment e : configuration.environments()) {
      if (e.name().equals(environment.get())) {
        return List.of(e);
      }
    }
    throw new UsageException(
        "the configuration has no environment '"
            + environment.get()
            + "'; it has: "
            + String.join(
                ", ", configuration.environments().stream().map(Environment::name).toList()));
  }

  private Policy policy(WardenConfig configuration) {
    if (configuration.policy().isEmpty()) {
      return PolicyFile.defaultPolicy();
    }
    try {
      return PolicyFile.load(configuration.policy().get());
    } catch (PolicyException e) {
      throw new CommandFailure("invalid policy:\n" + e.getMessage(), e);
    }
  }

  /**
   * The databases to map in {@code env}: the one asked for; else the fixed upstream database; else
   * the databases it lists, with every connectable one for {@code *}; else its own name.
   */
  private List<String> databases(Environment env, WardenConfig configuration) {
    if (database.isPresent()) {
      return List.of(database.get());
    }
    if (env.upstream().database().isPresent()) {
      return List.of(env.upstream().database().get());
    }
    Set<String> out = new LinkedHashSet<>();
    for (String db : env.databases()) {
      if (db.equals(Environment.ANY_DATABASE)) {
        out.addAll(PostgresDataMaps.connectableDatabases(env.upstream(), configuration.dataMap()));
      } else {
        out.add(db);
      }
    }
    if (out.isEmpty()) {
      out.add(env.name());
    }
    return List.copyOf(out);
  }

  private void print(List<Built> results) {
    List<String[]> rows = new ArrayList<>();
    rows.add(
        new String[] {
          "ENVIRONMENT", "DATABASE", "RELATION", "COLUMN", "TYPE", "KIND", "FOUND BY", "DETAIL"
        });
    for (Built b : results) {
      if (b.map().isEmpty()) {
        continue;
      }
      for (MappedRelation r : b.map().get().relations()) {
        for (MappedColumn c : r.columns()) {
          if (!all && !c.sensitive() && c.finding() != Finding.POLICY) {
            continue;
          }
          rows.add(
              new String[] {
                b.environment().name(),
                b.database(),
                r.qualifiedName(),
                c.name(),
                c.type(),
                c.kind().map(MaskingRules::kindName).orElse("-"),
                found(c),
                c.detail()
              });
        }
      }
    }
    PrintStream out = terminal.out();
    if (rows.size() > 1) {
      int[] widths = new int[rows.getFirst().length];
      for (String[] row : rows) {
        for (int i = 0; i < row.length - 1; i++) {
          row[i] = AuditLines.escape(row[i]);
          widths[i] = Math.max(widths[i], row[i].length());
        }
        row[row.length - 1] = AuditLines.escape(row[row.length - 1]);
      }
      for (String[] row : rows) {
        StringBuilder line = new StringBuilder();
        for (int i = 0; i < row.length; i++) {
          line.append(row[i]);
          if (i < row.length - 1) {
            line.append(" ".repeat(widths[i] - row[i].length() + 2));
          }
        }
        out.println(line.toString().stripTrailing());
      }
      out.println();
    }
    for (Built b : results) {
      if (b.map().isEmpty()) {
        continue;
      }
      DataMap map = b.map().get();
      int columns = 0;
      int sensitive = 0;
      for (MappedRelation r : map.relations()) {
        columns += r.columns().size();
        for (MappedColumn c : r.columns()) {
          sensitive += c.sensitive() ? 1 : 0;
        }
      }
      StringBuilder line =
          new StringBuilder()
              .append(AuditLines.escape(b.environment().name() + "/" + b.database()))
              .append(": ")
              .append(map.relations().size())
              .append(" relations, ")
              .append(columns)
              .append(" columns, ")
              .append(sensitive)
              .append(" sensitive");
      b.report()
          .ifPresent(
              r ->
                  line.append(" (built in ")
                      .append(r.took().toMillis())
                      .append(" ms; ")
                      .append(r.sampledRelations())
                      .append(" relations sampled")
                      .append(
                          r.skippedRelations() > 0
                              ? ", " + r.skippedRelations() + " unreadable"
                              : "")
                      .append(
                          r.unsampledRelations() > 0
                              ? ", "
                                  + r.unsampledRelations()
                                  + " left to names over the sampling budget"
                              : "")
                      .append(')'));
      out.println(line);
    }
  }

  private static String found(MappedColumn c) {
    return c.sensitive() || c.finding() == Finding.POLICY
        ? c.finding().name().toLowerCase(Locale.ROOT)
        : "-";
  }

  /** The JSON document: stable key order, every column of every relation. */
  private static String json(List<Built> results) {
    StringWriter text = new StringWriter();
    try (JsonGenerator g = new JsonFactory().createGenerator(text)) {
      g.useDefaultPrettyPrinter();
      g.writeStartObject();
      g.writeArrayFieldStart("maps");
      for (Built b : results) {
        if (b.map().isEmpty()) {
          continue;
        }
        DataMap map = b.map().get();
        g.writeStartObject();
        g.writeStringField("environment", map.environment());
        g.writeStringField("database", map.database());
        g.writeNumberField("version", map.version());
        g.writeStringField("built_at", map.builtAt().toString());
        if (b.report().isPresent()) {
          BuildReport r = b.report().get();
          g.writeObjectFieldStart("build");
          g.writeNumberField("millis", r.took().toMillis());
          g.writeNumberField("sampled_relations", r.sampledRelations());
          g.writeNumberField("unreadable_relations", r.skippedRelations());
          g.writeNumberField("unsampled_relations", r.unsampledRelations());
          g.writeEndObject();
        }
        g.writeArrayFieldStart("relations");
        for (MappedRelation r : map.relations()) {
          g.writeStartObject();
          g.writeNumberField("id", r.id());
          g.writeStringField("schema", r.schema());
          g.writeStringField("name", r.name());
          g.writeStringField("type", r.type().name().toLowerCase(Locale.ROOT));
          g.writeArrayFieldStart("columns");
          for (MappedColumn c : r.columns()) {
            g.writeStartObject();
            g.writeNumberField("number", c.number());
            g.writeStringField("name", c.name());
            g.writeStringField("type", c.type());
            g.writeBooleanField("sensitive", c.sensitive());
            if (c.kind().isPresent()) {
              g.writeStringField("kind", MaskingRules.kindName(c.kind().get()));
            } else {
              g.writeNullField("kind");
            }
            String found = found(c);
            if (found.equals("-")) {
              g.writeNullField("found_by");
            } else {
              g.writeStringField("found_by", found);
            }
            g.writeStringField("detail", c.detail());
            g.writeEndObject();
          }
          g.writeEndArray();
          g.writeEndObject();
        }
        g.writeEndArray();
        g.writeEndObject();
      }
      g.writeEndArray();
      g.writeArrayFieldStart("errors");
      for (Built b : results) {
        if (b.map().isPresent()) {
          continue;
        }
        g.writeStartObject();
        g.writeStringField("environment", b.environment().name());
        g.writeStringField("database", b.database());
        g.writeStringField("message", b.error());
        g.writeEndObject();
      }
      g.writeEndArray();
      g.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return text.toString();
  }
}
