package dev.warden.bench;

import dev.warden.core.audit.AuditChain;
import dev.warden.core.audit.AuditEncoder;
import dev.warden.core.audit.AuditEvent;
import dev.warden.core.audit.ChainedRecord;
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
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.stream.Stream;

/**
 * What keeping the embedded audit index up to date costs: CPU per record of {@link
 * AuditIndex#accept} (thread CPU time, since the machine is shared) and index bytes per record.
 *
 * <p>Two workloads, fed in batches the size the log writer hands over under load:
 *
 * <ul>
 *   <li><b>pgbench</b>: {@code pgbench -S -M extended -c 8} through Warden: eight sessions running
 *       the same prepared {@code SELECT abalance ...} over and over, each an intent and an outcome;
 *   <li><b>mixed</b>: the realistic records of {@link AuditSearchBenchmark} (a dozen shapes over 40
 *       tables with varying constants, so nearly every text is distinct; denials, events).
 * </ul>
 *
 * Run after {@code mvn -B -o -Pbench -pl bench -am package -DskipTests}:
 *
 * <pre>
 * java --enable-native-access=ALL-UNNAMED -cp bench/target/benchmarks.jar \
 *     dev.warden.bench.AuditIndexIngestBenchmark [--records 200000] [--batch 64] [--dir /tmp/x] [--workload all|pgbench|mixed]
 * </pre>
 */
public final class AuditIndexIngestBenchmark {
  public static void main(String[] args) throws Exception {
    int records = 200_000;
    int batch = 64;
    String workload = "all";
    Path dir = Path.of(System.getProperty("java.io.tmpdir"), "warden-audit-ingest");
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--records" -> records = Integer.parseInt(args[++i]);
        case "--batch" -> batch = Integer.parseInt(args[++i]);
        case "--dir" -> dir = Path.of(args[++i]);
        case "--workload" -> workload = args[++i];
        default -> throw new IllegalArgumentException("unknown argument " + args[i]);
      }
    }
    Files.createDirectories(dir);
    System.out.printf(
        Locale.ROOT,
        "%d records per workload, batches of %d, %d cores, load average %.1f%n",
        records,
        batch,
        Runtime.getRuntime().availableProcessors(),
        ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
    if (!workload.equals("all") && !workload.equals("pgbench") && !workload.equals("mixed")) {
      throw new IllegalArgumentException("--workload is all, pgbench or mixed, not " + workload);
    }
    // A short run first, so that what is measured is compiled code, not the interpreter.
    run("warm-up", pgbench(20_000), batch, dir, false);
    if (!workload.equals("mixed")) {
      run("pgbench", pgbench(records), batch, dir, true);
    }
    if (!workload.equals("pgbench")) {
      run("mixed", AuditSearchBenchmark.generate(records), batch, dir, true);
    }
  }

  static void run(
      String name, Map<String, List<ChainedRecord>> logs, int batch, Path dir, boolean print)
      throws IOException {
    Path file = dir.resolve(name + ".db");
    deleteIndex(file);
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    long count = 0;
    long cpu;
    long wall;
    try (AuditIndex index = AuditIndex.open(file, AuditSearchBenchmark.CLOCK)) {
      long cpu0 = threads.getCurrentThreadCpuTime();
      long wall0 = System.nanoTime();
      for (Map.Entry<String, List<ChainedRecord>> log : logs.entrySet()) {
        List<ChainedRecord> all = log.getValue();
        for (int i = 0; i < all.size(); i += batch) {
          index.accept(log.getKey(), all.subList(i, Math.min(all.size(), i + batch)));
        }
        count += all.size();
      }
      cpu = threads.getCurrentThreadCpuTime() - cpu0;
      wall = System.nanoTime() - wall0;
    }
    long bytes = 0;
    try (Stream<Path> files = Files.list(dir)) {
      for (Path f :
          files.filter(f -> f.getFileName().toString().startsWith(name + ".db")).toList()) {
        bytes += Files.size(f);
      }
    }
    if (!print) {
      deleteIndex(file);
      return;
    }
    System.out.printf(
        Locale.ROOT,
        "%-8s %8d records: %6.1f us CPU/record (indexer thread), %6.1f us wall/record, %5d bytes/record%n",
        name,
        count,
        cpu / 1e3 / count,
        wall / 1e3 / count,
        bytes / count);
    deleteIndex(file);
  }

  private static void deleteIndex(Path file) throws IOException {
    for (String suffix : List.of("", "-wal", "-shm", "-journal")) {
      Files.deleteIfExists(Path.of(file + suffix));
    }
  }

  /**
   * What {@code pgbench -S -M extended -c 8} through Warden writes: eight sessions, each running
   * the same prepared statement with a new statement number, intent then outcome.
   */
  static Map<String, List<ChainedRecord>> pgbench(int total) {
    AuditEncoder encoder = new AuditEncoder("warden-a", Redactor.NONE, new byte[32]);
    TableRef accounts = new TableRef("public", "pgbench_accounts");
    Statement select =
        new Statement(
            StatementKind.READ,
            "SELECT",
            Set.of(accounts),
            Set.of(),
            Set.of(new ColumnRef(accounts, "abalance"), new ColumnRef(accounts, "aid")),
            Set.of(),
            Set.of(),
            true,
            false,
            Set.of(),
            "",
            "",
            Optional.empty());
    Decision allow = Decision.allow(new Analysis(List.of(select), "fp-pgbench-select"));
    String text = "SELECT abalance FROM pgbench_accounts WHERE aid = $1;";
    Upstream upstream =
        new Upstream(
            "127.0.0.1",
            5432,
            Optional.empty(),
            "warden",
            Secret.of("x"),
            TlsMode.DISABLE,
            Optional.empty());
    Environment env = new Environment("bench", Set.of("bench"), List.of("pgbench"), upstream);
    List<SessionContext> sessions = new ArrayList<>();
    List<byte[]> payloads = new ArrayList<>(total);
    Instant t = AuditSearchBenchmark.NOW.minusSeconds(3600);
    for (int c = 0; c < 8; c++) {
      SessionContext s =
          new SessionContext(
              "a-s-" + c,
              new Identity("bench", Set.of("staff"), AuthMethod.SCRAM_SHA_256),
              env,
              "127.0.0.1:" + (50000 + c),
              "pgbench",
              "pgbench");
      sessions.add(s);
      payloads.add(
          encoder.encode(
              new AuditEvent(
                  t, "authenticate", true, "bench", Optional.of(s), Map.of("method", "scram"))));
    }
    long n = 0;
    while (payloads.size() < total) {
      n++;
      for (SessionContext s : sessions) {
        if (payloads.size() >= total) {
          break;
        }
        t = t.plusNanos(12_000);
        payloads.add(
            encoder.encode(
                new StatementIntent(
                    t,
                    s,
                    n,
                    StatementPath.PREPARED,
                    text,
                    LexicalSettings.DEFAULT,
                    "",
                    allow,
                    Durability.BOUNDED)));
        t = t.plusNanos(40_000);
        payloads.add(
            encoder.encode(
                new StatementOutcome(
                    t,
                    s.id(),
                    n,
                    StatementOutcome.Status.OK,
                    OptionalLong.of(1),
                    "SELECT 1",
                    40_000,
                    "",
                    List.of())));
      }
    }
    return Map.of("log-warden-a", AuditChain.chain("log-warden-a", payloads));
  }

  private AuditIndexIngestBenchmark() {}
}
