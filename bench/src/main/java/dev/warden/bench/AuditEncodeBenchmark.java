package dev.warden.bench;

import com.sun.management.ThreadMXBean;
import dev.warden.core.audit.AuditEncoder;
import dev.warden.core.audit.CanonicalJson;
import dev.warden.core.audit.Durability;
import dev.warden.core.audit.Redactor;
import dev.warden.core.audit.StatementIntent;
import dev.warden.core.audit.StatementOutcome;
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
import dev.warden.core.statement.StatementFlag;
import dev.warden.core.statement.StatementKind;
import dev.warden.core.statement.TableRef;
import dev.warden.sql.postgres.PostgresRedactor;
import java.lang.management.ManagementFactory;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * What encoding one audit record costs the audit writer: it runs for every statement twice (its
 * intent before it runs, its outcome after), so it counts against the proxy's CPU budget per
 * statement.
 *
 * <p>{@code intent}: a typical one-statement SELECT (a join) or UPDATE (with a FROM) over 2 tables
 * and 4 columns, a 120-character text, a session with 2 groups, repeated as a busy session repeats
 * its statements (the same session and analysis instances, as the analysis and decision caches hand
 * them out); {@code intentColdCaches}: the same records, but each from a different session and
 * analysis (4096 of each, more than any encoder cache holds), the worst case; {@code outcome}: the
 * record after it; {@code generic}: {@code CanonicalJson.encode(fields(intent))}, the reference
 * encoding the fast one must equal byte for byte. {@code redactor}: {@code none} keeps the text,
 * {@code postgres} is the production redactor in its default mode (its fast path: no trigger word
 * in the text).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class AuditEncodeBenchmark {
  @Param({"select", "update"})
  public String workload;

  @Param({"none"})
  public String redactor;

  private static final String SELECT =
      "SELECT o.id, o.total, c.email, c.full_name FROM orders o JOIN customers c ON c.id ="
          + " o.customer_id WHERE o.id = 471100000";
  private static final String UPDATE =
      "UPDATE orders o SET status = 'shipped', total = o.total + 5 FROM customers c WHERE"
          + " c.id = o.customer_id AND o.id = 47110";

  private static final int COLD = 4096;

  private AuditEncoder encoder;
  private StatementIntent intent;
  private StatementOutcome outcome;
  private StatementIntent[] cold;
  private int next;

  @Setup
  public void setUp() {
    String text =
        switch (workload) {
          case "select" -> SELECT;
          case "update" -> UPDATE;
          default -> throw new IllegalArgumentException("unknown workload: " + workload);
        };
    if (text.length() != 120) {
      throw new IllegalStateException("the text should be 120 characters: " + text.length());
    }
    Redactor r =
        switch (redactor) {
          case "none" -> Redactor.NONE;
          case "postgres" -> new PostgresRedactor();
          default -> throw new IllegalArgumentException("unknown redactor: " + redactor);
        };
    encoder = new AuditEncoder("warden-1", r, new byte[32]);
    Instant time = Instant.parse("2026-11-28T09:15:30.123456789Z");
    intent = intent(time, session(7), analysis(workload), text);
    outcome =
        new StatementOutcome(
            time.plusNanos(412_345),
            intent.session().id(),
            intent.number(),
            StatementOutcome.Status.OK,
            OptionalLong.of(1),
            workload.equals("select") ? "SELECT 1" : "UPDATE 1",
            412_345,
            "",
            List.of());
    cold = new StatementIntent[COLD];
    for (int i = 0; i < COLD; i++) {
      cold[i] = intent(time.plusNanos(i * 1000L), session(i), analysis(workload), text);
    }
  }

  /** A typical intent, its session and analysis seen before. */
  @Benchmark
  public byte[] intent() {
    return encoder.encode(intent);
  }

  /** A typical intent whose session and analysis the encoder has not seen lately. */
  @Benchmark
  public byte[] intentColdCaches() {
    StatementIntent i = cold[next];
    next = (next + 1) & (COLD - 1);
    return encoder.encode(i);
  }

  /** A typical outcome. */
  @Benchmark
  public byte[] outcome() {
    return encoder.encode(outcome);
  }

  /** The reference encoding of the same intent: its fields as a map, then canonical JSON. */
  @Benchmark
  public byte[] generic() {
    return CanonicalJson.encode(encoder.fields(intent));
  }

  /**
   * Thread CPU time and bytes allocated per call of each benchmark, measured with {@link
   * ThreadMXBean}: on a machine shared with other work, JMH's wall-clock averages also count the
   * time the thread waited for a core, and this machine's hardware counters ({@code -prof
   * perfnorm}) are not available. Best of 5 measured rounds after 3 warm-up rounds, per workload.
   * Run as {@code java -cp bench/target/benchmarks.jar dev.warden.bench.AuditEncodeBenchmark
   * [none|postgres]}.
   */
  public static void main(String[] args) {
    ThreadMXBean threads = (ThreadMXBean) ManagementFactory.getThreadMXBean();
    long thread = Thread.currentThread().threadId();
    for (String workload : List.of("select", "update")) {
      AuditEncodeBenchmark b = new AuditEncodeBenchmark();
      b.workload = workload;
      b.redactor = args.length > 0 ? args[0] : "none";
      b.setUp();
      Map<String, Supplier<byte[]>> benchmarks = new LinkedHashMap<>();
      benchmarks.put("intent", b::intent);
      benchmarks.put("outcome", b::outcome);
      benchmarks.put("intentColdCaches", b::intentColdCaches);
      benchmarks.put("generic", b::generic);
      for (Map.Entry<String, Supplier<byte[]>> e : benchmarks.entrySet()) {
        int calls =
            e.getKey().equals("intent") || e.getKey().equals("outcome") ? 2_000_000 : 200_000;
        double cpu = Double.MAX_VALUE;
        double bytes = 0;
        long sink = 0;
        for (int round = 0; round < 8; round++) {
          long allocated = threads.getThreadAllocatedBytes(thread);
          long start = threads.getCurrentThreadCpuTime();
          for (int i = 0; i < calls; i++) {
            sink += e.getValue().get().length;
          }
          long end = threads.getCurrentThreadCpuTime();
          if (round >= 3) {
            cpu = Math.min(cpu, (end - start) / (double) calls);
            bytes = (threads.getThreadAllocatedBytes(thread) - allocated) / (double) calls;
          }
        }
        if (sink == 0) {
          throw new IllegalStateException("nothing was encoded");
        }
        System.out.printf(
            Locale.ROOT,
            "%-8s %-17s %8.0f cpu-ns/op %8.0f B/op  (a record of %d bytes)%n",
            workload,
            e.getKey(),
            cpu,
            bytes,
            e.getValue().get().length);
      }
    }
  }

  private static StatementIntent intent(
      Instant time, SessionContext session, Analysis analysis, String text) {
    Decision decision =
        new Decision(
            Verdict.ALLOW, analysis, "default", false, OptionalLong.empty(), null, 3, true);
    return new StatementIntent(
        time,
        session,
        42,
        StatementPath.SIMPLE,
        text,
        LexicalSettings.DEFAULT,
        "",
        decision,
        Durability.BOUNDED);
  }

  private static SessionContext session(int n) {
    Upstream upstream =
        new Upstream(
            "127.0.0.1",
            5432,
            Optional.empty(),
            "warden",
            Secret.of("not-recorded"),
            TlsMode.DISABLE,
            Optional.empty());
    return new SessionContext(
        "s-" + (1000 + n),
        new Identity("alice@corp.example", Set.of("analysts", "staff"), AuthMethod.SCRAM_SHA_256),
        new Environment("production", Set.of("production"), List.of("shop"), upstream),
        "10.0.0.7:51234",
        "shop",
        "psql");
  }

  private static Analysis analysis(String workload) {
    TableRef orders = new TableRef("public", "orders");
    TableRef customers = new TableRef("public", "customers");
    Statement s =
        workload.equals("select")
            ? new Statement(
                StatementKind.READ,
                "SELECT",
                Set.of(orders, customers),
                Set.of(),
                Set.of(
                    new ColumnRef(orders, "id"),
                    new ColumnRef(orders, "total"),
                    new ColumnRef(customers, "email"),
                    new ColumnRef(customers, "full_name")),
                Set.of(),
                Set.of(),
                true,
                false,
                Set.of(),
                "",
                "",
                Optional.empty())
            : new Statement(
                StatementKind.WRITE,
                "UPDATE",
                Set.of(customers),
                Set.of(orders),
                Set.of(
                    new ColumnRef(orders, "id"),
                    new ColumnRef(orders, "total"),
                    new ColumnRef(customers, "email")),
                Set.of(new ColumnRef(orders, "status"), new ColumnRef(orders, "total")),
                Set.of(),
                true,
                false,
                Set.of(StatementFlag.LOCKS),
                "",
                "",
                Optional.empty());
    return new Analysis(List.of(s), "a1b2c3d4e5f60718");
  }
}
