package dev.warden.server.cli;

import dev.warden.core.audit.search.AuditQuery;
import dev.warden.core.audit.search.AuditQueryException;
import dev.warden.core.audit.search.AuditSearch;
import dev.warden.core.identity.Secret;
import dev.warden.server.audit.AuditJson;
import dev.warden.server.config.AuditConfig;
import dev.warden.server.config.ConfigException;
import dev.warden.server.config.ConfigLoader;
import dev.warden.server.config.WardenConfig;
import dev.warden.store.audit.AuditKeys;
import dev.warden.store.audit.AuditVerifier;
import dev.warden.store.postgres.PostgresAuditVerifier;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.SQLException;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.LinkedBlockingQueue;
import org.postgresql.ds.PGSimpleDataSource;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code warden audit search|tail|export|verify}. The first three ask the running server's REST API
 * as a Warden user (the server checks the password and records the search); {@code verify} reads
 * the log's files itself and works with the server stopped.
 */
@Command(
    name = "audit",
    description = "Search, follow, export and verify the audit trail.",
    synopsisSubcommandLabel = "(search | tail | export | verify)")
final class AuditCommand implements Callable<Integer> {
  /** The environment variable a password may come from (never a command-line argument). */
  static final String PASSWORD_VARIABLE = "WARDEN_PASSWORD";

  /** The environment variable naming the user when {@code --as} is not given. */
  static final String USER_VARIABLE = "WARDEN_USER";

  /** The embedded log's directory in the data directory (as the server lays it out). */
  static final Path AUDIT_DIRECTORY = Path.of("audit");

  /** The directory of the audit keys in the data directory (as the server lays it out). */
  static final Path SECRETS_DIRECTORY = Path.of("secrets");

  /** The file the server keeps its generated instance id in, in the data directory. */
  static final String INSTANCE_FILE = "instance-id";

  @Override
  public Integer call() {
    throw new UsageException(
        "missing subcommand: use audit search, audit tail, audit export or audit verify");
  }

  /** Where the server is and who asks it. */
  static final class ClientOptions {
    @Option(
        names = "--server",
        paramLabel = "URL",
        description =
            "Warden's REST API (default: the console address of --config, else"
                + " http://127.0.0.1:8080).")
    Optional<String> server = Optional.empty();

    @Option(
        names = "--config",
        paramLabel = "FILE",
        description = "The server's configuration file, for its console address.")
    Optional<Path> config = Optional.empty();

    @Option(
        names = "--as",
        paramLabel = "NAME",
        description =
            "The Warden user to ask as (default: $"
                + USER_VARIABLE
                + "); the password comes from $"
                + PASSWORD_VARIABLE
                + ", the terminal, or one line of standard input.")
    Optional<String> user = Optional.empty();

    AuditClient client(Terminal terminal) {
      URI uri;
      if (server.isPresent()) {
        uri = AuditClient.serverUri(server.get());
      } else if (config.isPresent()) {
        uri = AuditClient.serverUri("http://" + toolConfig(terminal, config.get()).console());
      } else {
        uri = AuditClient.serverUri("http://" + WardenConfig.DEFAULT_CONSOLE);
      }
      String name =
          user.or(() -> Optional.ofNullable(terminal.environment().get(USER_VARIABLE)))
              .filter(n -> !n.isBlank())
              .orElseThrow(
                  () ->
                      new UsageException(
                          "name the Warden user to ask as with --as NAME (or set "
                              + USER_VARIABLE
                              + ")"));
      return new AuditClient(uri, name, password(terminal, name));
    }
  }

  /** The words of a query, joined: quoting the whole query is optional. */
  static String query(List<String> words) {
    return String.join(" ", words).strip();
  }

  /** Checks a query here first, so that a typo is pointed at before a password is asked for. */
  static AuditQuery checked(String query) {
    try {
      return AuditQuery.parse(query);
    } catch (AuditQueryException e) {
      String shown = AuditLines.escape(query);
      String caret =
          shown.equals(query) && e.position() <= query.length()
              ? "\n  " + shown + "\n  " + " ".repeat(e.position()) + "^"
              : "";
      throw new UsageException(e.getMessage() + caret);
    }
  }

  static int checkLimit(int limit) {
    if (limit < 1 || limit > AuditSearch.MAX_LIMIT) {
      throw new UsageException(
          "--limit must be from 1 to " + AuditSearch.MAX_LIMIT + ", not " + limit);
    }
    return limit;
  }

  @Command(
      name = "search",
      description =
          "Search the audit trail, newest first, e.g. warden audit search 'user:alice"
              + " kind:delete since:24h'. The query language is in docs/audit.md.")
  static final class Search implements Callable<Integer> {
    private final Terminal terminal;

    @Parameters(paramLabel = "QUERY", arity = "0..*", description = "The query (all words).")
    List<String> words = List.of();

    @Option(names = "--json", description = "One JSON object per line instead of a table.")
    boolean json;

    @Option(
        names = "--limit",
        paramLabel = "N",
        description = "At most N results (default ${DEFAULT-VALUE}).",
        defaultValue = "50")
    int limit = 50;

    @CommandLine.Mixin ClientOptions options = new ClientOptions();

    Search(Terminal terminal) {
      this.terminal = terminal;
    }

    @Override
    public Integer call() {
      String query = query(words);
      checked(query);
      checkLimit(limit);
      AuditClient.Page page = options.client(terminal).search(query, limit);
      Printer printer = new Printer(terminal.out(), json);
      if (!json && page.hits().isEmpty()) {
        terminal.err().println("No records match.");
        return Main.OK;
      }
      printer.header();
      for (Map<String, Object> hit : page.hits()) {
        printer.print(hit);
      }
      if (page.more() && !json) {
        terminal
            .err()
            .println(
                "More records match than the "
                    + limit
                    + " shown; narrow the query or raise --limit (at most "
                    + AuditSearch.MAX_LIMIT
                    + ").");
      }
      return Main.OK;
    }
  }

  @Command(
      name = "tail",
      description =
          "Show the latest records, oldest first; with --follow, keep showing new ones as they"
              + " are written (Ctrl-C to stop).")
  static final class Tail implements Callable<Integer> {
    private final Terminal terminal;

    @Parameters(paramLabel = "QUERY", arity = "0..*", description = "Only records matching it.")
    List<String> words = List.of();

    @Option(
        names = {"-f", "--follow"},
        description = "Keep following the trail.")
    boolean follow;

    @Option(names = "--json", description = "One JSON object per line instead of a table.")
    boolean json;

    @Option(
        names = {"-n", "--limit"},
        paramLabel = "N",
        description = "How many of the latest records to show first (default ${DEFAULT-VALUE}).",
        defaultValue = "20")
    int limit = 20;

    @CommandLine.Mixin ClientOptions options = new ClientOptions();

    Tail(Terminal terminal) {
      this.terminal = terminal;
    }

    @Override
    public Integer call() throws InterruptedException {
      String query = query(words);
      checked(query);
      checkLimit(limit);
      AuditClient client = options.client(terminal);
      Printer printer = new Printer(terminal.out(), json);
      if (!follow) {
        List<Map<String, Object>> hits = new ArrayList<>(client.search(query, limit).hits());
        printer.header();
        for (Map<String, Object> hit : hits.reversed()) {
          printer.print(hit);
        }
        return Main.OK;
      }
      // Follow first, then show the latest records: nothing written in between is missed, and
      // what both show is printed once.
      BlockingQueue<Object> arrived = new LinkedBlockingQueue<>();
      Object started = new Object();
      Thread follower =
          Thread.ofVirtual()
              .name("warden-audit-tail")
              .start(
                  () -> {
                    try {
                      client.tail(query, () -> arrived.add(started), arrived::add);
                    } catch (RuntimeException e) {
                      arrived.add(e);
                    }
                  });
      try {
        Object first = arrived.take();
        if (first instanceof RuntimeException e) {
          throw e;
        }
        Set<String> shown = new HashSet<>();
        List<Map<String, Object>> hits = new ArrayList<>(client.search(query, limit).hits());
        printer.header();
        for (Map<String, Object> hit : hits.reversed()) {
          shown.add(key(hit, "seq"));
          if (hit.get("outcome_seq") != null) {
            shown.add(key(hit, "outcome_seq"));
          }
          printer.print(hit);
        }
        while (true) {
          Object next = arrived.take();
          if (next instanceof RuntimeException e) {
            throw e;
          }
          @SuppressWarnings("unchecked")
          Map<String, Object> record = (Map<String, Object>) next;
          if (!shown.remove(key(record, "seq"))) {
            printer.print(record);
          }
        }
      } finally {
        follower.interrupt();
      }
    }

    private static String key(Map<String, Object> record, String seqField) {
      return record.get("log_id") + ":" + record.get(seqField);
    }
  }

  @Command(
      name = "export",
      description =
          "Write every record matching the query and time range as JSON lines, oldest first,"
              + " e.g. warden audit export --since 2026-11-01 --until 2026-11-02 > day.jsonl.")
  static final class Export implements Callable<Integer> {
    private final Terminal terminal;

    @Parameters(paramLabel = "QUERY", arity = "0..*", description = "Only records matching it.")
    List<String> words = List.of();

    @Option(
        names = "--since",
        paramLabel = "TIME",
        description = "From this time on (e.g. 24h, 7d, 2026-11-01, 2026-11-01T10:00Z).")
    Optional<String> since = Optional.empty();

    @Option(
        names = "--until",
        paramLabel = "TIME",
        description = "Before this time (same forms as --since).")
    Optional<String> until = Optional.empty();

    @Option(
        names = "--format",
        paramLabel = "FORMAT",
        description = "Only jsonl (JSON lines) for now.",
        defaultValue = "jsonl")
    String format = "jsonl";

    @CommandLine.Mixin ClientOptions options = new ClientOptions();

    /** Results asked for per request. */
    static final int PAGE = AuditSearch.MAX_LIMIT;

    Export(Terminal terminal) {
      this.terminal = terminal;
    }

    @Override
    public Integer call() throws IOException {
      if (!format.equals("jsonl")) {
        throw new UsageException("--format must be jsonl (JSON lines), not '" + format + "'");
      }
      String base = query(words);
      AuditQuery parsed = checked(base);
      if (parsed.since().isPresent() || parsed.until().isPresent()) {
        throw new UsageException(
            "give the time range with --since and --until, not in the query: export reads the"
                + " range page by page");
      }
      for (Optional<String> bound : List.of(since, until)) {
        if (bound.isPresent() && (bound.get().isBlank() || bound.get().contains(" "))) {
          throw new UsageException("--since and --until take one time, e.g. 24h or 2026-11-01");
        }
      }
      if (since.isPresent()) {
        base = (base + " since:" + since.get()).strip();
      }
      checked(base + until.map(u -> " until:" + u).orElse(""));
      AuditClient client = options.client(terminal);
      AuditJson json = new AuditJson();
      Path pages =
          Files.createTempDirectory(
              "warden-export-",
              PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
      try {
        int count = fetch(client, json, base, pages);
        write(pages, count);
      } finally {
        try (var files = Files.list(pages)) {
          for (Path file : files.toList()) {
            Files.deleteIfExists(file);
          }
        }
        Files.deleteIfExists(pages);
      }
      return Main.OK;
    }

    /**
     * Reads the range newest first, a page at a time, each page into a file: the next page ends
     * just after the oldest time seen (so records sharing that time are not lost) and what was
     * already seen is dropped.
     *
     * @return the number of page files
     */
    private int fetch(AuditClient client, AuditJson json, String base, Path pages)
        throws IOException {
      Optional<String> end = until;
      Set<String> seenAtEdge = new HashSet<>();
      int files = 0;
      while (true) {
        String query = (base + end.map(u -> " until:" + u).orElse("")).strip();
        AuditClient.Page page = client.search(query, PAGE);
        List<String> lines = new ArrayList<>();
        Instant oldest = null;
        for (Map<String, Object> hit : page.hits()) {
          String key = hit.get("log_id") + ":" + hit.get("seq");
          if (seenAtEdge.contains(key)) {
            continue;
          }
          lines.add(json.write(hit));
          oldest = time(hit);
        }
        if (!lines.isEmpty()) {
          Files.write(pages.resolve(String.format("%08d", files++)), lines);
        }
        if (!page.more()) {
          return files;
        }
        if (lines.isEmpty()) {
          throw new CommandFailure(
              "more than "
                  + PAGE
                  + " records share one time stamp; export a narrower query, then the rest");
        }
        Instant edge = oldest;
        seenAtEdge.clear();
        for (Map<String, Object> hit : page.hits()) {
          if (time(hit).equals(edge)) {
            seenAtEdge.add(hit.get("log_id") + ":" + hit.get("seq"));
          }
        }
        // until: is exclusive; one microsecond later keeps the records at the edge time in range.
        end = Optional.of(edge.plusNanos(1000).toString());
      }
    }

    private static Instant time(Map<String, Object> hit) {
      try {
        return Instant.parse(String.valueOf(hit.get("time")));
      } catch (DateTimeParseException e) {
        throw new CommandFailure("the server sent a record without a readable time", e);
      }
    }

    /** The pages in reverse, each reversed: oldest first. */
    private void write(Path pages, int count) throws IOException {
      PrintStream out = terminal.out();
      for (int i = count - 1; i >= 0; i--) {
        List<String> lines = Files.readAllLines(pages.resolve(String.format("%08d", i)));
        for (String line : lines.reversed()) {
          out.println(line);
        }
      }
      out.flush();
    }
  }

  @Command(
      name = "verify",
      description =
          "Check that the audit log on disk is complete and unaltered (hash chain, signed"
              + " checkpoints, the witness's copies). Exit code 0: intact; 1: not.")
  static final class Verify implements Callable<Integer> {
    private final Terminal terminal;

    @Option(
        names = "--data-dir",
        paramLabel = "DIR",
        description = "Warden's data directory (default: from --config, else ./warden-data).")
    Optional<Path> dataDir = Optional.empty();

    @Option(
        names = "--witness",
        paramLabel = "DIR",
        description =
            "The witness directory the checkpoints were copied to (default: from --config). With"
                + " it, a log rewritten together with its own checkpoints is caught.")
    Optional<Path> witness = Optional.empty();

    @Option(
        names = "--config",
        paramLabel = "FILE",
        description =
            "The server's configuration file, for its data directory, witness and store (a"
                + " PostgreSQL store is verified in its table; its password must then be"
                + " available as the file says).")
    Optional<Path> config = Optional.empty();

    @Option(
        names = "--instance",
        paramLabel = "ID",
        description =
            "With a PostgreSQL store: the log to verify (default: the configured instance, else"
                + " the one kept in the data directory).")
    Optional<String> instance = Optional.empty();

    Verify(Terminal terminal) {
      this.terminal = terminal;
    }

    @Override
    public Integer call() {
      Optional<WardenConfig> configured = config.map(c -> toolConfig(terminal, c));
      if (configured.isPresent()
          && configured.get().audit().store() instanceof AuditConfig.Store.Postgres) {
        return verifyPostgres(fullConfig(terminal, config.get()));
      }
      if (instance.isPresent()) {
        throw new UsageException("--instance applies to a PostgreSQL store (named by --config)");
      }
      Path data =
          dataDir
              .map(terminal::resolve)
              .or(() -> configured.map(WardenConfig::dataDir))
              .orElse(terminal.resolve(WardenConfig.DEFAULT_DATA_DIR));
      Optional<Path> witnessDir =
          witness.map(terminal::resolve).or(() -> configured.flatMap(c -> c.audit().witness()));
      Path auditDir = data.resolve(AUDIT_DIRECTORY);
      if (!Files.isDirectory(auditDir)) {
        throw new CommandFailure(
            "no audit log in "
                + data
                + " (no directory "
                + auditDir
                + "); name Warden's data directory with --data-dir");
      }
      AuditVerifier.Report report;
      try {
        report = AuditVerifier.verify(auditDir, witnessDir);
      } catch (IOException e) {
        throw new CommandFailure(
            "cannot read the audit log in " + auditDir + ": " + e.getMessage(), e);
      }
      PrintStream out = report.intact() ? terminal.out() : terminal.err();
      out.println(AuditLines.escape(report.summary()));
      for (String note : report.notes()) {
        out.println("  note: " + AuditLines.escape(note));
      }
      return report.intact() ? Main.OK : Main.FAILED;
    }

    /** Verifies this instance's chain in the shared table with the key in the data directory. */
    private int verifyPostgres(WardenConfig full) {
      AuditConfig.Store.Postgres store = (AuditConfig.Store.Postgres) full.audit().store();
      Path data = dataDir.map(terminal::resolve).orElse(full.dataDir());
      Optional<Path> witnessDir = witness.map(terminal::resolve).or(() -> full.audit().witness());
      String logId =
          instance.or(() -> full.audit().instance()).orElseGet(() -> storedInstance(data));
      Path secrets = data.resolve(SECRETS_DIRECTORY);
      if (!Files.isRegularFile(secrets.resolve(AuditKeys.SIGNING_KEY_FILE))) {
        throw new CommandFailure(
            "no audit signing key in "
                + secrets
                + ": name the data directory of the instance that wrote log "
                + logId
                + " with --data-dir");
      }
      PostgresAuditVerifier.Report report;
      try {
        AuditKeys keys = AuditKeys.loadOrCreate(secrets);
        PGSimpleDataSource source = new PGSimpleDataSource();
        source.setURL(store.jdbcUrl());
        source.setUser(store.connection().user());
        if (!store.connection().password().isEmpty()) {
          source.setPassword(store.connection().password().reveal());
        }
        report = PostgresAuditVerifier.verify(source, logId, keys.publicKey(), witnessDir);
      } catch (IOException | SQLException e) {
        throw new CommandFailure(
            "cannot verify log " + logId + " in " + store.jdbcUrl() + ": " + e.getMessage(), e);
      }
      if (report.intact()) {
        terminal
            .out()
            .println(
                AuditLines.escape(
                    "audit log "
                        + logId
                        + " in PostgreSQL is intact: "
                        + report.records()
                        + " records, "
                        + report.checkpoints()
                        + " checkpoint(s)"
                        + (witnessDir.isPresent()
                            ? ", checked against the witness"
                            : ", no witness checked")));
        return Main.OK;
      }
      terminal
          .err()
          .println(
              AuditLines.escape(
                  "audit log "
                      + logId
                      + " in PostgreSQL is NOT intact"
                      + (report.firstBadSeq() > 0
                          ? ": record "
                              + report.firstBadSeq()
                              + " is the first that cannot be trusted"
                          : "")
                      + ": "
                      + report.reason()));
      return Main.FAILED;
    }

    /** The instance id the server generated and keeps in the data directory. */
    private static String storedInstance(Path data) {
      Path file = data.resolve(INSTANCE_FILE);
      try {
        String id = Files.readString(file, StandardCharsets.UTF_8).strip();
        if (id.isEmpty() || id.length() > 63 || !id.matches("[A-Za-z0-9][A-Za-z0-9._-]*")) {
          throw new CommandFailure(file + " does not hold an instance id; name it with --instance");
        }
        return id;
      } catch (IOException e) {
        throw new CommandFailure(
            "no instance id in "
                + data
                + " ("
                + file.getFileName()
                + "): name the log with --instance, or the data directory with --data-dir",
            e);
      }
    }
  }

  /** Prints hits and records as lines for people or as JSON lines. */
  private static final class Printer {
    private final PrintStream out;
    private final boolean json;
    private final AuditJson writer = new AuditJson();

    Printer(PrintStream out, boolean json) {
      this.out = out;
      this.json = json;
    }

    void header() {
      if (!json) {
        out.println(AuditLines.header());
      }
    }

    void print(Map<String, Object> record) {
      out.println(json ? writer.write(record) : AuditLines.line(record));
      out.flush();
    }
  }

  /** The configuration file as the server reads it, secrets included. */
  static WardenConfig fullConfig(Terminal terminal, Path file) {
    try {
      WardenConfig loaded = new ConfigLoader(terminal.environment()).load(terminal.resolve(file));
      return loaded.withDataDir(terminal.resolve(loaded.dataDir()));
    } catch (ConfigException e) {
      throw new CommandFailure("invalid configuration: " + e.getMessage(), e);
    }
  }

  /** The configuration file as tools read it: addresses and paths, no secrets. */
  static WardenConfig toolConfig(Terminal terminal, Path file) {
    try {
      WardenConfig loaded =
          new ConfigLoader(terminal.environment()).withoutSecrets().load(terminal.resolve(file));
      return loaded.withDataDir(terminal.resolve(loaded.dataDir()));
    } catch (ConfigException e) {
      throw new CommandFailure("invalid configuration: " + e.getMessage(), e);
    }
  }

  /** The password: from the environment, the terminal, or one line of standard input. */
  static Secret password(Terminal terminal, String user) {
    String fromEnvironment = terminal.environment().get(PASSWORD_VARIABLE);
    if (fromEnvironment != null && !fromEnvironment.isEmpty()) {
      return Secret.of(fromEnvironment);
    }
    if (terminal.passwordPrompt().isPresent()) {
      char[] typed = terminal.passwordPrompt().get().read("Password for " + user + ": ");
      if (typed == null || typed.length == 0) {
        throw new CommandFailure("no password entered");
      }
      try {
        ByteBuffer encoded = StandardCharsets.UTF_8.encode(CharBuffer.wrap(typed));
        byte[] bytes = new byte[encoded.remaining()];
        encoded.get(bytes);
        try {
          return Secret.ofBytes(bytes);
        } finally {
          Arrays.fill(bytes, (byte) 0);
        }
      } finally {
        Arrays.fill(typed, '\0');
      }
    }
    return firstLine(terminal.in());
  }

  private static Secret firstLine(InputStream in) {
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    try {
      int b;
      while ((b = in.read()) != -1 && b != '\n') {
        if (line.size() >= UsersCommand.MAX_PASSWORD_BYTES) {
          throw new CommandFailure(
              "the password on standard input is longer than "
                  + UsersCommand.MAX_PASSWORD_BYTES
                  + " bytes");
        }
        line.write(b);
      }
    } catch (IOException e) {
      throw new CommandFailure("cannot read the password from standard input: " + e, e);
    }
    byte[] bytes = line.toByteArray();
    int length =
        bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
    try {
      if (length == 0) {
        throw new CommandFailure(
            "no password: set "
                + PASSWORD_VARIABLE
                + ", run in a terminal to be asked, or pipe it in on one line");
      }
      byte[] password = Arrays.copyOf(bytes, length);
      try {
        return Secret.ofBytes(password);
      } finally {
        Arrays.fill(password, (byte) 0);
      }
    } finally {
      Arrays.fill(bytes, (byte) 0);
    }
  }
}
