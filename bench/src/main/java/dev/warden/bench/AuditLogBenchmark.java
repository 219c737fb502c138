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
import dev.warden.core.identity.AuthMethod;
import dev.warden.core.identity.Identity;
import dev.warden.core.identity.Secret;
import dev.warden.core.statement.LexicalSettings;
import dev.warden.sql.postgres.PostgresAnalyzer;
import dev.warden.store.audit.AuditKeys;
import dev.warden.store.audit.AuditLogSettings;
import dev.warden.store.audit.EmbeddedAuditTrail;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;
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
 * What recording a statement costs with the embedded audit trail ({@link EmbeddedAuditTrail}) on
 * this machine's disk: records per second sustained, and the time an appender waits, for {@code
 * IMMEDIATE} records (each waits for its group commit's fsync) from 1, 4 and 16 concurrent
 * appenders, and for {@code BOUNDED} records (accepted at once, fsynced within 20 ms) from 4.
 *
 * <p>Each record is a real statement intent (a session, pgbench's point select analysed by
 * libpg_query, an allow decision) whose canonical encoding is about 700 bytes; it is encoded,
 * chained and written by the trail's writer thread, as in Warden. The log lives in a temporary
 * directory (set {@code -Djava.io.tmpdir} to measure another disk); checkpoints are signed every
 * second or 1000 records, as by default.
 *
 * <p>At the end of each iteration the process's CPU time per record is printed ({@code cpu/record})
 * : the cost of a record to the whole process (appenders, writer, checkpoints).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class AuditLogBenchmark {
  /** How far {@code BOUNDED} appenders may run ahead of the disk before they wait. */
  private static final long MAX_AHEAD = 20_000;

  private Path dir;
  private EmbeddedAuditTrail trail;
  private StatementIntent intent;
  private final AtomicLong appended = new AtomicLong();
  private long cpuAtStart;
  private long recordsAtStart;

  @Setup(Level.Trial)
  public void open() throws IOException {
    dir = Files.createTempDirectory("warden-audit-bench");
    AuditKeys keys = AuditKeys.generate();
    AuditEncoder encoder = new AuditEncoder("bench", Redactor.NONE, keys.textHmacKey());
    trail =
        EmbeddedAuditTrail.open(
            dir, AuditLogSettings.defaults(keys).withMinFreeBytes(0), encoder, Clock.systemUTC());
    intent = intent();
    System.err.printf(
        "%naudit log in %s; one intent record is %d bytes encoded%n",
        dir, encoder.encode(intent).length);
  }

  /** A statement intent as the proxy records it for pgbench's point select. */
  static StatementIntent intent() {
    String sql = "SELECT abalance FROM pgbench_accounts WHERE aid = 48213";
    Upstream upstream =
        new Upstream(
            "db.internal",
            5432,
            Optional.empty(),
            "warden",
            Secret.of("unused"),
            TlsMode.REQUIRE,
            Optional.empty());
    SessionContext session =
        new SessionContext(
            "s-000000017",
            new Identity(
                "alice@corp.example", Set.of("staff", "analysts"), AuthMethod.SCRAM_SHA_256),
            new Environment("production", Set.of("production"), List.of("shop"), upstream),
            "10.0.0.7:51234",
            "shop",
            "pgbench");
    return new StatementIntent(
        Instant.now(),
        session,
        17,
        StatementPath.PREPARED,
        sql,
        LexicalSettings.DEFAULT,
        "S_3",
        Decision.allow(new PostgresAnalyzer(0).analyze(sql, LexicalSettings.DEFAULT)),
        Durability.IMMEDIATE);
  }

  @Setup(Level.Iteration)
  public void startIteration() {
    cpuAtStart = cpuNanos();
    recordsAtStart = trail.durableSeq();
  }

  @TearDown(Level.Iteration)
  public void endIteration() {
    long records = trail.durableSeq() - recordsAtStart;
    long cpu = cpuNanos() - cpuAtStart;
    if (records > 0) {
      System.err.printf("  cpu/record: %.1f µs over %d records%n", cpu / 1000.0 / records, records);
    }
  }

  @TearDown(Level.Trial)
  public void close() throws IOException {
    trail.close();
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }

  private static long cpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
        .getProcessCpuTime();
  }

  private void immediate() {
    trail.append(intent, Durability.IMMEDIATE).join();
  }

  /** One appender, each record waiting for its fsync. */
  @Benchmark
  @Threads(1)
  public void immediate1() {
    immediate();
  }

  /** Four appenders, group commit sharing each fsync among the records that arrive meanwhile. */
  @Benchmark
  @Threads(4)
  public void immediate4() {
    immediate();
  }

  @Benchmark
  @Threads(16)
  public void immediate16() {
    immediate();
  }

  /**
   * Four appenders of {@code BOUNDED} records: accepted at once; an appender waits only when the
   * writer is {@value #MAX_AHEAD} records behind, so the rate measured is what the disk sustains.
   */
  @Benchmark
  @Threads(4)
  public void bounded4() {
    long n = appended.incrementAndGet();
    while (n - trail.durableSeq() > MAX_AHEAD) {
      LockSupport.parkNanos(50_000);
    }
    trail.append(intent, Durability.BOUNDED).join();
  }
}
