package dev.warden.bench;

import dev.warden.core.audit.AuditChain;
import dev.warden.core.audit.AuditEncoder;
import dev.warden.core.audit.AuditEvent;
import dev.warden.core.audit.ChainedRecord;
import dev.warden.core.audit.Durability;
import dev.warden.core.audit.Redactor;
import dev.warden.core.audit.StatementIntent;
import dev.warden.core.audit.StatementOutcome;
import dev.warden.core.audit.search.AuditQuery;
import dev.warden.core.audit.search.AuditResults;
import dev.warden.core.audit.search.AuditSearch;
import dev.warden.core.environment.Environment;
import dev.warden.core.environment.TlsMode;
import dev.warden.core.environment.Upstream;
import dev.warden.core.gate.Decision;
import dev.warden.core.gate.SessionContext;
import dev.warden.core.gate.StatementPath;
import dev.warden.core.gate.Verdict;
import dev.warden.core.identity.AuthMethod;
import dev.warden.core.identity.Identity;
import dev.warden.core.identity.Secret;
import dev.warden.core.statement.Analysis;
import dev.warden.core.statement.ColumnRef;
import dev.warden.core.statement.LexicalSettings;
import dev.warden.core.statement.Statement;
import dev.warden.core.statement.StatementKind;
import dev.warden.core.statement.TableRef;
import dev.warden.store.audit.index.AuditIndex;
import dev.warden.store.postgres.search.PostgresAuditSearch;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Random;
import java.util.Set;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * How fast the audit search answers over a million records (issue 4: "well under a second"): builds
 * realistic records (two instances, thousands of sessions of a few hundred users over 30 days, a
 * dozen statement shapes over 40 tables with varying constants, denials, outcomes, session and
 * administrative events), indexes them in the embedded index and, when asked, in a PostgreSQL table
 * shaped as the shared audit store's, then times typical queries.
 *
 * <p>Not a JMH benchmark: the setup (minutes) dominates and each query is measured as people meet
 * it, one search at a time. Run after {@code mvn -B -o -Pbench -pl bench -am package -DskipTests}:
 *
 * <pre>
 * java -cp bench/target/benchmarks.jar dev.warden.bench.AuditSearchBenchmark \
 *     [--records 1000000] [--dir /tmp/warden-audit-search] [--postgres jdbc:postgresql://127.0.0.1:5432/postgres?user=postgres]
 * </pre>
 *
 * An index already built in {@code --dir} for the same record count is reused; the PostgreSQL run
 * creates (and leaves, for inspection; drop it by hand) the database {@code
 * warden_audit_search_bench}.
 */
public final class AuditSearchBenchmark {
  static final Instant NOW = Instant.parse("2026-11-27T12:00:00Z");
  static final Clock CLOCK = Clock.fixed(NOW, ZoneOffset.UTC);

  /** The queries timed, each with what it stands for. */
  static final Map<String, String> QUERIES = new LinkedHashMap<>();

  static {
    QUERIES.put(
        "issue example",
        "user:alice table:users kind:delete verdict:denied since:24h \"where id =\"");
    QUERIES.put("selective field filter", "user:user-17 table:sales.invoices");
    QUERIES.put("one session", "session:a-s-4711");
    QUERIES.put("free text, rare", "\"expires < now()\" kind:delete");
    QUERIES.put("free text, common", "email");
    QUERIES.put("free text, phrase", "\"where customer_id = 4242\"");
    QUERIES.put("time range (1 hour)", "since:2026-11-20T10:00Z until:2026-11-20T11:00Z");
    QUERIES.put("many rows, limit 50", "verdict:allowed");
    QUERIES.put("everything, limit 50", "");
    QUERIES.put("outcome filter", "rows>10000 verdict:allowed");
    QUERIES.put("slow statements this week", "duration>2s since:7d");
    QUERIES.put("denials of a group", "verdict:denied group:contractors since:30d");
    QUERIES.put("errors", "status:error sqlstate:23*");
    QUERIES.put("negation and prefix", "table:hr.* -user:user-1* -type:outcome");
    QUERIES.put("failed logins", "event:authenticate -user:*");
  }

  /**
   * What the console's pages ask (docs/console.md), with the limits they ask for: the audit page's
   * newest records, the past sessions list, a session's statements, and exports.
   */
  static final Map<String, Map.Entry<String, Integer>> CONSOLE_QUERIES = new LinkedHashMap<>();

  static {
    CONSOLE_QUERIES.put("audit page, newest", Map.entry("", 100));
    CONSOLE_QUERIES.put("audit page, a user", Map.entry("user:user-17", 100));
    CONSOLE_QUERIES.put("past sessions (1 day)", Map.entry("event:connect since:24h", 200));
    CONSOLE_QUERIES.put("a session's statements", Map.entry("session:a-s-4711", 500));
    CONSOLE_QUERIES.put("export, everything", Map.entry("", 10_000));
    CONSOLE_QUERIES.put("export, denials", Map.entry("verdict:denied", 10_000));
  }

  public static void main(String[] args) throws Exception {
    int records = 1_000_000;
    Path dir = Path.of(System.getProperty("java.io.tmpdir"), "warden-audit-search");
    String postgres = null;
    int runs = 15;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--records" -> records = Integer.parseInt(args[++i]);
        case "--dir" -> dir = Path.of(args[++i]);
        case "--postgres" -> postgres = args[++i];
        case "--runs" -> runs = Integer.parseInt(args[++i]);
        default -> throw new IllegalArgumentException("unknown argument " + args[i]);
      }
    }
    System.out.printf(
        Locale.ROOT,
        "%d records, %d cores, load average %.1f%n",
        records,
        Runtime.getRuntime().availableProcessors(),
        java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
    Files.createDirectories(dir);
    Path file = dir.resolve("index-" + records + ".db");
    Map<String, List<ChainedRecord>> logs = null;
    if (!Files.exists(file)) {
      logs = generate(records);
      Path building = dir.resolve("building.db");
      Files.deleteIfExists(building);
      try (AuditIndex index = AuditIndex.open(building, CLOCK)) {
        long start = System.nanoTime();
        for (Map.Entry<String, List<ChainedRecord>> log : logs.entrySet()) {
          List<ChainedRecord> all = log.getValue();
          for (int i = 0; i < all.size(); i += 8192) {
            index.accept(log.getKey(), all.subList(i, Math.min(all.size(), i + 8192)));
          }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        System.out.printf(
            Locale.ROOT,
            "embedded index built in %.1f s (%.0f records/s)%n",
            seconds,
            records / seconds);
        index.analyze();
      }
      Files.move(building, file);
      Files.deleteIfExists(dir.resolve("building.db-wal"));
      Files.deleteIfExists(dir.resolve("building.db-shm"));
    }
    System.out.printf(Locale.ROOT, "embedded index file: %d MB%n", Files.size(file) >> 20);
    try (AuditIndex index = AuditIndex.open(file, CLOCK)) {
      time("embedded", index, runs);
    }
    if (postgres != null) {
      if (logs == null) {
        logs = generate(records);
      }
      PGSimpleDataSource ds = postgres(postgres, logs);
      PostgresAuditSearch search = new PostgresAuditSearch(ds, CLOCK);
      time("postgres", search, runs);
    }
  }

  static void time(String name, AuditSearch search, int runs) {
    Map<String, Map.Entry<String, Integer>> all = new LinkedHashMap<>();
    QUERIES.forEach((label, q) -> all.put(label, Map.entry(q, 50)));
    CONSOLE_QUERIES.forEach((label, q) -> all.put("console: " + label, q));
    System.out.printf(
        Locale.ROOT,
        "%n%-38s %8s %8s %8s %6s  %s%n",
        name,
        "p50 ms",
        "p90 ms",
        "max ms",
        "hits",
        "query");
    for (Map.Entry<String, Map.Entry<String, Integer>> q : all.entrySet()) {
      AuditQuery query = AuditQuery.parse(q.getValue().getKey());
      int limit = q.getValue().getValue();
      AuditResults results = null;
      for (int i = 0; i < 2; i++) {
        results = search.search(query, limit);
      }
      double[] ms = new double[runs];
      for (int i = 0; i < runs; i++) {
        long t = System.nanoTime();
        results = search.search(query, limit);
        ms[i] = (System.nanoTime() - t) / 1e6;
      }
      Arrays.sort(ms);
      System.out.printf(
          Locale.ROOT,
          "%-38s %8.1f %8.1f %8.1f %5d%s  %s%n",
          q.getKey(),
          ms[runs / 2],
          ms[(int) (runs * 0.9)],
          ms[runs - 1],
          results.hits().size(),
          results.more() ? "+" : " ",
          q.getValue().getKey() + (limit == 50 ? "" : "  (limit " + limit + ")"));
    }
  }

  static PGSimpleDataSource postgres(String url, Map<String, List<ChainedRecord>> logs)
      throws Exception {
    String db = "warden_audit_search_bench";
    try (Connection c = DriverManager.getConnection(url);
        java.sql.Statement s = c.createStatement()) {
      s.execute("DROP DATABASE IF EXISTS " + db + " WITH (FORCE)");
      s.execute("CREATE DATABASE " + db + " ENCODING 'UTF8' TEMPLATE template0");
    }
    PGSimpleDataSource ds = new PGSimpleDataSource();
    ds.setUrl(url.replace("/postgres", "/" + db));
    long start = System.nanoTime();
    try (Connection c = ds.getConnection()) {
      try (java.sql.Statement s = c.createStatement()) {
        s.execute(
            "CREATE TABLE IF NOT EXISTS warden_audit (log_id text NOT NULL, seq bigint NOT NULL,"
                + " time timestamptz NOT NULL, payload bytea NOT NULL, doc jsonb NOT NULL,"
                + " hash bytea NOT NULL, PRIMARY KEY (log_id, seq))");
      }
      c.setAutoCommit(false);
      try (PreparedStatement p =
          c.prepareStatement(
              "INSERT INTO warden_audit VALUES (?, ?, ?, ?, convert_from(?, 'UTF8')::jsonb, ?)")) {
        int n = 0;
        for (Map.Entry<String, List<ChainedRecord>> log : logs.entrySet()) {
          for (ChainedRecord r : log.getValue()) {
            p.setString(1, log.getKey());
            p.setLong(2, r.seq());
            p.setObject(3, OffsetDateTime.ofInstant(timeOf(r.payload()), ZoneOffset.UTC));
            p.setBytes(4, r.payload());
            p.setBytes(5, r.payload());
            p.setBytes(6, r.hash());
            p.addBatch();
            if (++n % 5000 == 0) {
              p.executeBatch();
              c.commit();
            }
          }
        }
        p.executeBatch();
        c.commit();
      }
    }
    System.out.printf(
        Locale.ROOT, "%npostgres table loaded in %.1f s%n", (System.nanoTime() - start) / 1e9);
    start = System.nanoTime();
    boolean trigrams = new PostgresAuditSearch(ds, CLOCK).prepare();
    try (Connection c = ds.getConnection();
        java.sql.Statement s = c.createStatement()) {
      s.execute("VACUUM ANALYZE warden_audit");
    }
    System.out.printf(
        Locale.ROOT,
        "postgres search indexes built in %.1f s (trigram index: %s)%n",
        (System.nanoTime() - start) / 1e9,
        trigrams);
    return ds;
  }

  /** The record's time, read from its fixed-width {@code "time":"..."} field. */
  static Instant timeOf(byte[] payload) {
    String s = new String(payload, java.nio.charset.StandardCharsets.UTF_8);
    int i = s.indexOf("\"time\":\"");
    return Instant.parse(s.substring(i + 8, i + 8 + 27));
  }

  // --- realistic records ---

  record Shape(StatementKind kind, String command, String template, List<String> columns) {}

  static final List<String> TABLES = tables();

  static List<String> tables() {
    List<String> t = new ArrayList<>();
    for (String name :
        List.of(
            "users",
            "orders",
            "order_items",
            "customers",
            "payments",
            "sessions",
            "products",
            "addresses",
            "api_keys",
            "audit_events")) {
      t.add("public." + name);
    }
    for (String name :
        List.of(
            "invoices",
            "leads",
            "quotes",
            "contracts",
            "regions",
            "targets",
            "forecasts",
            "accounts",
            "deals",
            "notes")) {
      t.add("sales." + name);
    }
    for (String name : List.of("employees", "salaries", "reviews", "departments", "benefits")) {
      t.add("hr." + name);
    }
    for (int i = 0; i < 15; i++) {
      t.add("analytics.daily_" + i);
    }
    return t;
  }

  static final List<Shape> SHAPES =
      List.of(
          new Shape(
              StatementKind.READ,
              "SELECT",
              "SELECT id, email, name FROM %s WHERE id = %d",
              List.of("id", "email", "name")),
          new Shape(
              StatementKind.READ,
              "SELECT",
              "SELECT * FROM %s WHERE customer_id = %d ORDER BY created_at DESC LIMIT 20",
              List.of("*", "customer_id", "created_at")),
          new Shape(
              StatementKind.READ,
              "SELECT",
              "select count(*) from %s where created_at > now() - interval '%d days'",
              List.of("created_at")),
          new Shape(
              StatementKind.READ,
              "SELECT",
              "SELECT email FROM %s WHERE email LIKE '%%@example%d.com'",
              List.of("email")),
          new Shape(
              StatementKind.WRITE,
              "UPDATE",
              "UPDATE %s SET status = 'shipped' WHERE id = %d",
              List.of("status", "id")),
          new Shape(
              StatementKind.WRITE,
              "INSERT",
              "INSERT INTO %s (id, total, created_at) VALUES (%d, 9.99, now())",
              List.of("id", "total", "created_at")),
          new Shape(StatementKind.WRITE, "DELETE", "DELETE FROM %s WHERE id = %d", List.of("id")),
          new Shape(
              StatementKind.WRITE,
              "DELETE",
              "DELETE FROM %s WHERE expires < now() - interval '%d days'",
              List.of("expires")),
          new Shape(
              StatementKind.DDL,
              "CREATE INDEX",
              "CREATE INDEX ON %s (created_at) -- ticket %d",
              List.of("created_at")),
          new Shape(StatementKind.DDL, "DROP TABLE", "DROP TABLE %s -- cleanup %d", List.of()),
          new Shape(
              StatementKind.READ,
              "SELECT",
              "SELECT o.id, o.total, c.email FROM %s o JOIN public.customers c ON c.id = o.customer_id WHERE o.id > %d",
              List.of("id", "total", "customer_id")),
          new Shape(StatementKind.TRANSACTION, "BEGIN", "BEGIN -- %s %d", List.of()));

  static Map<String, List<ChainedRecord>> generate(int total) {
    long start = System.nanoTime();
    Random r = new Random(42);
    Map<String, List<ChainedRecord>> logs = new LinkedHashMap<>();
    String[] instances = {"warden-a", "warden-b"};
    Duration span = Duration.ofDays(30);
    for (int in = 0; in < instances.length; in++) {
      String instance = instances[in];
      AuditEncoder encoder = new AuditEncoder(instance, Redactor.NONE, new byte[32]);
      List<byte[]> payloads = new ArrayList<>(total / 2 + 16);
      int target = total / instances.length + (in == 0 ? total % instances.length : 0);
      long stepMicros = span.toNanos() / 1000 / target;
      Instant t = NOW.minus(span);
      int sessionNo = 0;
      while (payloads.size() < target) {
        SessionContext s = session(r, instance.substring(7) + "-s-" + (++sessionNo));
        t = t.plusNanos(stepMicros * 1000);
        payloads.add(
            encoder.encode(
                new AuditEvent(
                    t,
                    "authenticate",
                    true,
                    s.identity().name(),
                    Optional.of(s),
                    Map.of("method", "scram-sha-256"))));
        t = t.plusNanos(stepMicros * 1000);
        payloads.add(
            encoder.encode(
                new AuditEvent(
                    t,
                    "connect",
                    true,
                    s.identity().name(),
                    Optional.of(s),
                    Map.of("upstream_role", "app", "tls", "false"))));
        if (r.nextInt(50) == 0) {
          t = t.plusNanos(stepMicros * 1000);
          payloads.add(
              encoder.encode(
                  new AuditEvent(
                      t,
                      "authenticate",
                      false,
                      "",
                      Optional.empty(),
                      Map.of(
                          "claimed_user",
                          "user-" + r.nextInt(400),
                          "client",
                          "203.0.113." + r.nextInt(255)))));
        }
        int statements = 1 + r.nextInt(40);
        for (long n = 1; n <= statements && payloads.size() < target; n++) {
          t = t.plusNanos(stepMicros * 1000);
          Shape shape = SHAPES.get(r.nextInt(SHAPES.size()));
          String table =
              TABLES.get(Math.min(TABLES.size() - 1, (int) Math.abs(r.nextGaussian() * 12)));
          String text = String.format(Locale.ROOT, shape.template(), table, r.nextInt(10_000));
          Decision d = decision(r, shape, table, s);
          payloads.add(
              encoder.encode(
                  new StatementIntent(
                      t,
                      s,
                      n,
                      StatementPath.SIMPLE,
                      text,
                      LexicalSettings.DEFAULT,
                      "",
                      d,
                      Durability.IMMEDIATE)));
          if (d.verdict() instanceof Verdict.Deny || payloads.size() >= target) {
            continue;
          }
          t = t.plusNanos(stepMicros * 1000);
          payloads.add(encoder.encode(outcome(r, t, s.id(), n, shape)));
        }
        if (payloads.size() < target) {
          t = t.plusNanos(stepMicros * 1000);
          payloads.add(
              encoder.encode(
                  new AuditEvent(
                      t, "disconnect", true, s.identity().name(), Optional.of(s), Map.of())));
        }
        if (r.nextInt(500) == 0 && payloads.size() < target) {
          payloads.add(
              encoder.encode(
                  new AuditEvent(
                      t, "policy-reload", true, "admin", Optional.empty(), Map.of("rules", "12"))));
        }
      }
      logs.put("log-" + instance, AuditChain.chain("log-" + instance, payloads));
    }
    System.out.printf(
        Locale.ROOT, "generated %d records in %.1f s%n", total, (System.nanoTime() - start) / 1e9);
    return logs;
  }

  static SessionContext session(Random r, String id) {
    int u = (int) Math.min(299, Math.abs(r.nextGaussian() * 60));
    String user = u == 3 ? "alice" : "user-" + u;
    Set<String> groups = new HashSet<>();
    groups.add(u % 7 == 0 ? "contractors" : "staff");
    if (u % 5 == 0) {
      groups.add("analysts");
    }
    Upstream upstream =
        new Upstream(
            "10.1.0.5",
            5432,
            Optional.empty(),
            "warden",
            Secret.of("x"),
            TlsMode.REQUIRE,
            Optional.empty());
    String env = r.nextInt(4) == 0 ? "staging" : "production";
    return new SessionContext(
        id,
        new Identity(user, groups, AuthMethod.SCRAM_SHA_256),
        new Environment(env, Set.of(env), List.of("shop"), upstream),
        "10.2." + r.nextInt(40) + "." + r.nextInt(250) + ":" + (40000 + r.nextInt(20000)),
        r.nextBoolean() ? "shop" : "crm",
        List.of("psql", "DBeaver 24.1", "metabase", "app-backend", "").get(r.nextInt(5)));
  }

  static Decision decision(Random r, Shape shape, String table, SessionContext s) {
    int dot = table.indexOf('.');
    TableRef t = new TableRef(table.substring(0, dot), table.substring(dot + 1));
    boolean writes = shape.kind() == StatementKind.WRITE || shape.kind() == StatementKind.DDL;
    Set<ColumnRef> columns = new HashSet<>();
    for (String c : shape.columns()) {
      columns.add(new ColumnRef(t, c));
    }
    Statement st =
        new Statement(
            shape.kind(),
            shape.command(),
            writes || shape.kind() == StatementKind.TRANSACTION ? Set.of() : Set.of(t),
            writes ? Set.of(t) : Set.of(),
            writes ? Set.of() : columns,
            writes ? columns : Set.of(),
            Set.of(),
            true,
            false,
            Set.of(),
            "",
            "",
            Optional.empty());
    Analysis a =
        new Analysis(List.of(st), "fp-" + Integer.toHexString(shape.template().hashCode()));
    int v = r.nextInt(100);
    boolean production = s.environment().name().equals("production");
    if ((shape.command().equals("DROP TABLE") && production) || v < 3) {
      return new Decision(
          new Verdict.Deny("42501", "refused", "ask"),
          a,
          production
              ? "prod-guard"
              : "no-" + shape.command().toLowerCase(Locale.ROOT).replace(' ', '-'),
          false,
          OptionalLong.empty(),
          null,
          1,
          true);
    }
    if (v < 5) {
      return new Decision(
          Verdict.ALLOW, a, "observe-contractors", true, OptionalLong.empty(), null, 1, true);
    }
    return Decision.allow(a);
  }

  static StatementOutcome outcome(Random r, Instant t, String session, long n, Shape shape) {
    int o = r.nextInt(100);
    StatementOutcome.Status status =
        o < 94
            ? StatementOutcome.Status.OK
            : o < 98 ? StatementOutcome.Status.ERROR : StatementOutcome.Status.UNKNOWN;
    OptionalLong rows =
        status == StatementOutcome.Status.OK
            ? OptionalLong.of(r.nextInt(100) == 0 ? 10_000 + r.nextInt(1_000_000) : r.nextInt(200))
            : OptionalLong.empty();
    long micros =
        r.nextInt(50) == 0
            ? 1_000_000 + r.nextInt(30_000_000)
            : (long) Math.min(60_000_000, Math.exp(r.nextGaussian() * 1.5 + 7));
    String sqlState =
        status == StatementOutcome.Status.ERROR
            ? List.of("23505", "23503", "57014", "40001").get(r.nextInt(4))
            : "";
    return new StatementOutcome(
        t,
        session,
        n,
        status,
        rows,
        rows.isPresent() ? shape.command() + " " + rows.getAsLong() : "",
        micros * 1000,
        sqlState,
        List.of());
  }
}
