package dev.warden.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * A throwaway PostgreSQL 15 cluster with pgaudit, the tests' oracle of what the database really
 * executed (THREATS H3, oracle O1). Warden's word about what it forwarded proves nothing; pgaudit
 * logs from inside the server every statement that reached the executor or utility processing,
 * including the sub-statements of dynamic SQL in {@code DO} blocks, {@code EXECUTE} and functions,
 * and nothing that failed to parse. Statements that never ran leave no {@code AUDIT:} line.
 *
 * <p>One cluster per test JVM, started on first use and stopped by a shutdown hook. It runs
 * Debian's binaries as the {@code postgres} OS user when the JVM runs as root (initdb refuses
 * root), logs in CSV through the logging collector (so statements spanning lines stay one record,
 * with the session's application name and id in their own columns), and trusts loopback clients.
 *
 * <p>The log is written asynchronously by the server's logger process; {@link #flush()} runs a
 * marker statement on a fresh session and waits for its line, after which every line of a statement
 * that completed before the call is readable.
 */
public final class AuditedPostgres {
  private static final Path BIN = Path.of("/usr/lib/postgresql/15/bin");
  private static final Duration START_TIMEOUT = Duration.ofSeconds(60);
  private static final Duration FLUSH_TIMEOUT = Duration.ofSeconds(15);
  private static final String SUPERUSER = "postgres";
  private static final String AUDIT_PREFIX = "AUDIT: ";
  // Columns of PostgreSQL 15's csvlog format (runtime.config-logging, "Using CSV-Format Log
  // Output").
  private static final int CSV_SESSION_ID = 5;
  private static final int CSV_MESSAGE = 13;
  private static final int CSV_APPLICATION = 22;

  private static AuditedPostgres shared;

  private final Path root;
  private final Path dataDir;
  private final Path logFile;
  private final int port;
  private final boolean asPostgresUser;

  private final Object logLock = new Object();
  private long logOffset;
  private final Map<String, List<AuditEntry>> entriesByApplication = new HashMap<>();
  private final Map<String, List<AuditEntry>> entriesBySession = new HashMap<>();

  /**
   * One statement or sub-statement the server executed, as pgaudit logged it.
   *
   * @param sessionId the server's session id ({@code %c}), distinct per connection
   * @param applicationName the session's application_name when the statement ran
   * @param statementId pgaudit's statement id, counted per session
   * @param substatementId 1 for the statement itself, 2.. for statements it ran (dynamic SQL)
   * @param auditClass READ, WRITE, FUNCTION, ROLE, DDL, MISC or MISC_SET
   * @param command the command, e.g. {@code DROP TABLE}
   * @param objectType object type for DDL and relation access, else empty
   * @param objectName object name (schema-qualified) for DDL and relation access, else empty
   * @param statement the statement text pgaudit saw (for a sub-statement, the dynamic text)
   * @param parameter bound parameters, {@code <none>} or {@code <not logged>}
   */
  public record AuditEntry(
      String sessionId,
      String applicationName,
      long statementId,
      long substatementId,
      String auditClass,
      String command,
      String objectType,
      String objectName,
      String statement,
      String parameter) {}

  private AuditedPostgres(Path root, int port, boolean asPostgresUser) {
    this.root = root;
    this.dataDir = root.resolve("data");
    this.logFile = root.resolve("log").resolve("postgresql.csv");
    this.port = port;
    this.asPostgresUser = asPostgresUser;
  }

  /** The cluster of this JVM, started on first call (a few seconds). */
  public static synchronized AuditedPostgres shared() {
    if (shared == null) {
      AuditedPostgres cluster = start();
      Runtime.getRuntime().addShutdownHook(new Thread(cluster::stop, "audited-postgres-stop"));
      shared = cluster;
    }
    return shared;
  }

  private static AuditedPostgres start() {
    try {
      if (!Files.isExecutable(BIN.resolve("initdb"))) {
        throw new IllegalStateException(
            "PostgreSQL 15 binaries not found in " + BIN + ": apt-get install postgresql-15");
      }
      if (!Files.exists(Path.of("/usr/lib/postgresql/15/lib/pgaudit.so"))) {
        throw new IllegalStateException(
            "pgaudit is not installed: apt-get install postgresql-15-pgaudit");
      }
      boolean root = "root".equals(System.getProperty("user.name"));
      Path dir = Files.createTempDirectory("warden-audited-pg-");
      Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
      if (root) {
        UserPrincipal postgres =
            dir.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName(SUPERUSER);
        Files.setOwner(dir, postgres);
      }
      AuditedPostgres cluster = new AuditedPostgres(dir, freePort(), root);
      cluster.initAndStart();
      return cluster;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start the audited PostgreSQL cluster", e);
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }

  private void initAndStart() throws IOException {
    run(
        List.of(
            BIN.resolve("initdb").toString(),
            "-D",
            dataDir.toString(),
            "-U",
            SUPERUSER,
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync"));
    String settings =
        String.join(
            "\n",
            "",
            "# AuditedPostgres",
            "listen_addresses = '127.0.0.1'",
            "port = " + port,
            "unix_socket_directories = '" + root + "'",
            "max_connections = 200",
            "fsync = off",
            "synchronous_commit = off",
            "full_page_writes = off",
            "shared_preload_libraries = 'pgaudit'",
            "pgaudit.log = 'all'",
            "pgaudit.log_parameter = on",
            "pgaudit.log_catalog = on",
            "pgaudit.log_relation = off",
            "pgaudit.log_statement_once = off",
            "logging_collector = on",
            "log_destination = 'csvlog'",
            "log_directory = '" + root.resolve("log") + "'",
            "log_filename = 'postgresql.log'",
            "log_file_mode = 0644",
            "log_rotation_age = 0",
            "log_rotation_size = 0",
            "log_line_prefix = '%m [%p] %c %a '",
            "");
    Files.writeString(
        dataDir.resolve("postgresql.conf"),
        settings,
        StandardCharsets.UTF_8,
        StandardOpenOption.APPEND);
    run(
        List.of(
            BIN.resolve("pg_ctl").toString(),
            "-D",
            dataDir.toString(),
            "-l",
            root.resolve("startup.log").toString(),
            "-w",
            "-t",
            String.valueOf(START_TIMEOUT.toSeconds()),
            "start"));
  }

  private void run(List<String> command) throws IOException {
    List<String> full = new ArrayList<>();
    if (asPostgresUser) {
      full.addAll(List.of("runuser", "-u", SUPERUSER, "--"));
    }
    full.addAll(command);
    Path output = Files.createTempFile("warden-audited-pg-cmd-", ".out");
    try {
      Process process =
          new ProcessBuilder(full)
              .directory(Path.of("/").toFile())
              .redirectErrorStream(true)
              .redirectOutput(output.toFile())
              .start();
      if (!process.waitFor(START_TIMEOUT.toSeconds() + 10, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        throw new IllegalStateException("timed out: " + String.join(" ", full));
      }
      if (process.exitValue() != 0) {
        String startupLog = "";
        Path startup = root.resolve("startup.log");
        if (Files.isReadable(startup)) {
          startupLog = "\n" + Files.readString(startup);
        }
        throw new IllegalStateException(
            String.join(" ", full)
                + " failed with exit code "
                + process.exitValue()
                + ":\n"
                + Files.readString(output)
                + startupLog);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted: " + String.join(" ", full), e);
    } finally {
      Files.deleteIfExists(output);
    }
  }

  private void stop() {
    try {
      run(
          List.of(
              BIN.resolve("pg_ctl").toString(),
              "-D",
              dataDir.toString(),
              "-m",
              "immediate",
              "-w",
              "stop"));
    } catch (IOException | RuntimeException e) {
      System.err.println("AuditedPostgres: cannot stop the cluster in " + root + ": " + e);
    }
    try {
      deleteTree(root);
    } catch (IOException e) {
      System.err.println("AuditedPostgres: cannot delete " + root + ": " + e);
    }
  }

  private static void deleteTree(Path dir) throws IOException {
    Files.walkFileTree(
        dir,
        new SimpleFileVisitor<>() {
          @Override
          public FileVisitResult visitFile(Path file, BasicFileAttributes attrs)
              throws IOException {
            Files.delete(file);
            return FileVisitResult.CONTINUE;
          }

          @Override
          public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
            Files.delete(d);
            return FileVisitResult.CONTINUE;
          }
        });
  }

  /** The loopback TCP port the cluster listens on. */
  public int port() {
    return port;
  }

  /** The superuser Warden and tests log in as (trust authentication on loopback). */
  public String superuser() {
    return SUPERUSER;
  }

  /** A pgjdbc URL for {@code database} as the superuser, without TLS. */
  public String jdbcUrl(String database) {
    return "jdbc:postgresql://127.0.0.1:"
        + port
        + "/"
        + database
        + "?user="
        + SUPERUSER
        + "&sslmode=disable";
  }

  /** Opens a superuser connection to {@code database} with the given application name. */
  public Connection connect(String database, String applicationName) throws SQLException {
    Properties properties = new Properties();
    properties.setProperty("ApplicationName", applicationName);
    return DriverManager.getConnection(jdbcUrl(database), properties);
  }

  /** Runs {@code sql} as the superuser in the {@code postgres} database. */
  public void admin(String sql) {
    admin(SUPERUSER, sql);
  }

  /** Runs {@code sql} as the superuser in {@code database}. */
  public void admin(String database, String sql) {
    try (Connection connection = connect(database, "warden-audited-pg-admin");
        Statement statement = connection.createStatement()) {
      statement.execute(sql);
    } catch (SQLException e) {
      throw new IllegalStateException("admin statement failed: " + sql + ": " + e.getMessage(), e);
    }
  }

  /**
   * Waits until every statement that completed before this call is in the log: runs a marker on a
   * new session and waits for its audit line. The server's logger reads one pipe in order, and a
   * backend writes a statement's audit line before it answers the client, so the marker's line
   * comes after all of them.
   */
  public void flush() {
    String marker = "warden-flush-" + UUID.randomUUID();
    try (Connection connection = connect(SUPERUSER, marker);
        Statement statement = connection.createStatement()) {
      statement.execute("SELECT 1");
    } catch (SQLException e) {
      throw new IllegalStateException("cannot run the flush marker: " + e.getMessage(), e);
    }
    long deadline = System.nanoTime() + FLUSH_TIMEOUT.toNanos();
    while (entriesFor(marker).isEmpty()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("the audit log did not show the flush marker " + marker);
      }
      try {
        Thread.sleep(5);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while waiting for the audit log", e);
      }
    }
    synchronized (logLock) {
      entriesByApplication.remove(marker);
    }
  }

  /**
   * The audit entries of every session that ran with {@code applicationName}, in log order, as far
   * as the log has been written; call {@link #flush()} first to include all completed statements.
   */
  public List<AuditEntry> entriesFor(String applicationName) {
    synchronized (logLock) {
      readNewLines();
      return List.copyOf(entriesByApplication.getOrDefault(applicationName, List.of()));
    }
  }

  /**
   * The audit entries of one server session in log order, whatever its application name was at the
   * time: statements such as {@code DISCARD ALL} or {@code RESET ALL} change the name back to the
   * one the session started with.
   */
  public List<AuditEntry> entriesOfSession(String sessionId) {
    synchronized (logLock) {
      readNewLines();
      return List.copyOf(entriesBySession.getOrDefault(sessionId, List.of()));
    }
  }

  /** Every audit entry so far, grouped by application name (for diagnostics). */
  public List<AuditEntry> allEntries() {
    synchronized (logLock) {
      readNewLines();
      List<AuditEntry> all = new ArrayList<>();
      entriesByApplication.values().forEach(all::addAll);
      return all;
    }
  }

  private void readNewLines() {
    byte[] bytes;
    try {
      if (!Files.exists(logFile)) {
        return;
      }
      try (var channel = Files.newByteChannel(logFile)) {
        long size = channel.size();
        if (size <= logOffset) {
          return;
        }
        channel.position(logOffset);
        ByteBuffer buffer = ByteBuffer.allocate((int) (size - logOffset));
        while (buffer.hasRemaining() && channel.read(buffer) > 0) {
          // read until the snapshot size
        }
        bytes = Arrays.copyOf(buffer.array(), buffer.position());
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the audit log " + logFile, e);
    }
    // Consume complete records only: a record ends at a newline outside quotes. The logger may be
    // in the middle of writing the last one.
    int consumed = 0;
    int start = 0;
    boolean quoted = false;
    for (int i = 0; i < bytes.length; i++) {
      byte b = bytes[i];
      if (b == '"') {
        quoted = !quoted;
      } else if (b == '\n' && !quoted) {
        String record = new String(bytes, start, i - start, StandardCharsets.UTF_8);
        accept(Csv.parse(record));
        start = i + 1;
        consumed = start;
      }
    }
    logOffset += consumed;
  }

  private void accept(List<String> columns) {
    if (columns.size() <= CSV_APPLICATION) {
      return;
    }
    String message = columns.get(CSV_MESSAGE);
    if (!message.startsWith(AUDIT_PREFIX)) {
      return;
    }
    List<String> fields = Csv.parse(message.substring(AUDIT_PREFIX.length()));
    if (fields.size() < 9 || !"SESSION".equals(fields.get(0))) {
      return;
    }
    String application = columns.get(CSV_APPLICATION);
    AuditEntry entry =
        new AuditEntry(
            columns.get(CSV_SESSION_ID),
            application,
            Long.parseLong(fields.get(1)),
            Long.parseLong(fields.get(2)),
            fields.get(3),
            fields.get(4),
            fields.get(5),
            fields.get(6),
            fields.get(7),
            String.join(",", fields.subList(8, fields.size())));
    entriesByApplication.computeIfAbsent(application, a -> new ArrayList<>()).add(entry);
    entriesBySession.computeIfAbsent(entry.sessionId(), a -> new ArrayList<>()).add(entry);
  }

  /** RFC 4180 fields as PostgreSQL's csvlog and pgaudit write them. */
  static final class Csv {
    private Csv() {}

    static List<String> parse(String line) {
      List<String> fields = new ArrayList<>();
      StringBuilder field = new StringBuilder();
      boolean quoted = false;
      int i = 0;
      while (i < line.length()) {
        char c = line.charAt(i);
        if (quoted) {
          if (c == '"') {
            if (i + 1 < line.length() && line.charAt(i + 1) == '"') {
              field.append('"');
              i++;
            } else {
              quoted = false;
            }
          } else {
            field.append(c);
          }
        } else if (c == '"') {
          quoted = true;
        } else if (c == ',') {
          fields.add(field.toString());
          field.setLength(0);
        } else {
          field.append(c);
        }
        i++;
      }
      fields.add(field.toString());
      return fields;
    }
  }
}
