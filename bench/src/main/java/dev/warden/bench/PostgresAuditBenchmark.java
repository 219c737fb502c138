package dev.warden.bench;

import dev.warden.core.audit.AuditEncoder;
import dev.warden.core.audit.Durability;
import dev.warden.core.audit.Redactor;
import dev.warden.core.audit.StatementIntent;
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
import dev.warden.store.postgres.PostgresAuditSettings;
import dev.warden.store.postgres.PostgresAuditTrail;
import java.security.KeyPairGenerator;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;

/**
 * Sustained rate of durable audit records in the shared PostgreSQL store: each of 16 threads (a
 * session each) appends an IMMEDIATE intent of a typical UPDATE (about 900 bytes encoded) and waits
 * until it is committed, as a session waits before its statement goes upstream. The ops/s score is
 * committed records per second; {@code -bm sample} gives the latency one statement waits.
 *
 * <p>Runs against {@code -Dwarden.bench.pg.port} (default 5432) on loopback as {@code postgres}
 * (trust), in a database {@code warden_bench_audit} it creates and drops per trial.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Threads(16)
public class PostgresAuditBenchmark {
  private static final String DATABASE = "warden_bench_audit";
  private static final String TEXT =
      "UPDATE orders o SET status = 'shipped', total = o.total + 5 FROM customers c WHERE"
          + " c.id = o.customer_id AND o.id = 47110";

  private final int port = Integer.getInteger("warden.bench.pg.port", 5432);
  private final AtomicInteger sessions = new AtomicInteger();
  private PostgresAuditTrail trail;

  /** One session per benchmark thread, numbering its statements. */
  @State(Scope.Thread)
  public static class Session {
    SessionContext context;
    Decision decision;
    long number;

    @Setup
    public void setUp(PostgresAuditBenchmark bench) {
      context = session(bench.sessions.incrementAndGet());
      TableRef orders = new TableRef("public", "orders");
      TableRef customers = new TableRef("public", "customers");
      Statement update =
          new Statement(
              StatementKind.WRITE,
              "UPDATE",
              Set.of(customers),
              Set.of(orders),
              Set.of(
                  new ColumnRef(orders, "total"),
                  new ColumnRef(orders, "id"),
                  new ColumnRef(customers, "id")),
              Set.of(new ColumnRef(orders, "status"), new ColumnRef(orders, "total")),
              Set.of(),
              true,
              false,
              Set.of(),
              "",
              "",
              Optional.empty());
      decision =
          new Decision(
              Verdict.ALLOW,
              new Analysis(List.of(update), "9f3c2a1b7e6d5f40"),
              "default",
              false,
              OptionalLong.empty(),
              null,
              1,
              true);
    }
  }

  private static SessionContext session(int n) {
    Upstream upstream =
        new Upstream(
            "db.internal",
            5432,
            Optional.empty(),
            "warden_prod",
            Secret.of("not-recorded"),
            TlsMode.VERIFY_FULL,
            Optional.empty());
    return new SessionContext(
        "s-" + n + "-7f3a9c",
        new Identity(
            "alice" + n + "@corp.example", Set.of("dev", "oncall"), AuthMethod.SCRAM_SHA_256),
        new Environment("production", Set.of("production"), List.of("shop"), upstream),
        "10.0.3." + n + ":51234",
        "shop",
        "psql");
  }

  @Setup(Level.Trial)
  public void open() throws SQLException, NoSuchAlgorithmException {
    admin("DROP DATABASE IF EXISTS " + DATABASE + " WITH (FORCE)");
    admin("CREATE DATABASE " + DATABASE + " ENCODING 'UTF8' TEMPLATE template0");
    trail =
        PostgresAuditTrail.open(
            PostgresAuditSettings.defaults(
                "jdbc:postgresql://127.0.0.1:" + port + "/" + DATABASE + "?sslmode=disable",
                "postgres",
                Secret.of(""),
                "bench-" + ProcessHandle.current().pid()),
            KeyPairGenerator.getInstance("Ed25519").generateKeyPair(),
            new AuditEncoder("warden-bench", Redactor.NONE, new byte[32]),
            Clock.systemUTC());
  }

  @TearDown(Level.Trial)
  public void close() throws SQLException {
    trail.close();
    admin("DROP DATABASE IF EXISTS " + DATABASE + " WITH (FORCE)");
  }

  private void admin(String sql) throws SQLException {
    try (Connection c =
            DriverManager.getConnection(
                "jdbc:postgresql://127.0.0.1:" + port + "/postgres?sslmode=disable&user=postgres");
        java.sql.Statement s = c.createStatement()) {
      s.execute(sql);
    }
  }

  /** One statement's intent, made durable before the statement would go upstream. */
  @Benchmark
  public void immediate(Session s) {
    trail
        .append(
            new StatementIntent(
                Instant.now(),
                s.context,
                ++s.number,
                StatementPath.SIMPLE,
                TEXT,
                LexicalSettings.DEFAULT,
                "",
                s.decision,
                Durability.IMMEDIATE),
            Durability.IMMEDIATE)
        .join();
  }
}
