package dev.warden.proxy.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * pgbench runs through Warden as it runs against PostgreSQL: {@code -i -s 1}, then two clients for
 * a few seconds in each query mode (simple, extended, prepared) and with a new connection per
 * transaction ({@code -C}). Each run must end with status 0 and no failed transaction, and leave
 * the tables in the same state both ways: the same row counts in the fixed tables, one history row
 * per transaction pgbench reports, and balances that agree across accounts, branches and tellers.
 * How many transactions fit in the time differs from run to run, so it is compared with what each
 * run reports rather than between runs.
 *
 * <p>Warden gets an identity named {@code postgres} so that both runs use the same user name.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PgbenchTransparencyTest {
  private static final Path PGBENCH = Path.of("/usr/bin/pgbench");
  private static final String WARDEN_PASSWORD = "postgres-at-warden";
  private static final Pattern PROCESSED =
      Pattern.compile("(?m)^number of transactions actually processed: (\\d+)");
  private static final Pattern FAILED =
      Pattern.compile("(?m)^number of failed transactions: (\\d+)");

  private ProxyFixture fixture;

  /**
   * The Warden under test. Here with no policy; the server module runs the same scenarios with the
   * real analyser and the default policy, by overriding this.
   */
  ProxyFixture newFixture() {
    return new ProxyFixture();
  }

  @BeforeAll
  void start() {
    assumeTrue(Files.isExecutable(PGBENCH), "pgbench is not installed at " + PGBENCH);
    fixture = newFixture();
    fixture.users.add(ProxyFixture.PG_USER, WARDEN_PASSWORD);
  }

  @AfterAll
  void stop() {
    if (fixture != null) {
      fixture.close();
    }
  }

  @Test
  void initialisationAndEveryQueryModeRunTheSameThroughWarden(@TempDir Path dir) throws Exception {
    List<String> direct = benchmark(dir, ProxyFixture.PG_PORT);
    List<String> proxied = benchmark(dir, fixture.port());

    assertThat(proxied).containsExactlyElementsOf(direct);
    assertThat(direct)
        .contains(
            "-i -s 1: exit 0",
            "tables: accounts 100000, branches 1, tellers 10, history 0",
            "-M simple: exit 0, failed 0, some processed true, no errors true",
            "-M extended: exit 0, failed 0, some processed true, no errors true",
            "-M prepared: exit 0, failed 0, some processed true, no errors true",
            "-C -M extended: exit 0, failed 0, some processed true, no errors true")
        .doesNotContain("history matches processed false", "balances agree false");
  }

  /** Initialises and runs every mode against {@code port}; returns what is comparable. */
  private List<String> benchmark(Path dir, int port) throws Exception {
    List<String> seen = new ArrayList<>();
    Result init = pgbench(dir, port, Duration.ofSeconds(60), "-i", "-s", "1");
    seen.add("-i -s 1: exit " + init.exitCode());
    seen.add(tables());
    for (List<String> mode :
        List.of(
            List.of("-M", "simple", "-T", "3"),
            List.of("-M", "extended", "-T", "3"),
            List.of("-M", "prepared", "-T", "3"),
            List.of("-C", "-M", "extended", "-T", "2"))) {
      List<String> args = new ArrayList<>(List.of("-c", "2", "-j", "2"));
      args.addAll(mode);
      Result run = pgbench(dir, port, Duration.ofSeconds(30), args.toArray(String[]::new));
      long processed = number(PROCESSED, run.stdout());
      String name = String.join(" ", mode.subList(0, mode.size() - 2));
      seen.add(
          name
              + ": exit "
              + run.exitCode()
              + ", failed "
              + number(FAILED, run.stdout())
              + ", some processed "
              + (processed > 0)
              + ", no errors "
              + !run.stderr().contains("error"));
      seen.add(tables().replaceFirst("history \\d+", "history <run>"));
      // pgbench empties pgbench_history before each run, so it holds exactly this run's rows.
      seen.add("history matches processed " + (historyRows() == processed));
      seen.add("balances agree " + balancesAgree());
    }
    return seen;
  }

  private record Result(int exitCode, String stdout, String stderr) {}

  private Result pgbench(Path dir, int port, Duration limit, String... args) throws Exception {
    Path out = Files.createTempFile(dir, "pgbench", ".out");
    Path err = Files.createTempFile(dir, "pgbench", ".err");
    List<String> command =
        new ArrayList<>(
            List.of(
                PGBENCH.toString(),
                "-h",
                "127.0.0.1",
                "-p",
                Integer.toString(port),
                "-U",
                ProxyFixture.PG_USER));
    command.addAll(List.of(args));
    command.add(fixture.database);
    ProcessBuilder pb =
        new ProcessBuilder(command)
            .directory(dir.toFile())
            .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
            .redirectOutput(out.toFile())
            .redirectError(err.toFile());
    Map<String, String> env = pb.environment();
    env.keySet().removeIf(k -> k.startsWith("PG"));
    env.put("HOME", dir.toString());
    env.put("PGPASSWORD", WARDEN_PASSWORD);
    env.put("PGSSLMODE", "disable");
    env.put("PGCONNECT_TIMEOUT", "10");
    Process p = pb.start();
    if (!p.waitFor(limit.toSeconds(), TimeUnit.SECONDS)) {
      p.destroyForcibly();
      fail("pgbench " + String.join(" ", args) + " did not finish: " + Files.readString(err));
    }
    return new Result(p.exitValue(), Files.readString(out), Files.readString(err));
  }

  private static long number(Pattern pattern, String output) {
    Matcher m = pattern.matcher(output);
    return m.find() ? Long.parseLong(m.group(1)) : -1;
  }

  private String tables() throws SQLException {
    return "tables: "
        + query(
            "SELECT format('accounts %s, branches %s, tellers %s, history %s',"
                + " (SELECT count(*) FROM pgbench_accounts),"
                + " (SELECT count(*) FROM pgbench_branches),"
                + " (SELECT count(*) FROM pgbench_tellers),"
                + " (SELECT count(*) FROM pgbench_history))");
  }

  private long historyRows() throws SQLException {
    return Long.parseLong(query("SELECT count(*) FROM pgbench_history"));
  }

  /** Every pgbench transaction adds the same delta to one account, teller and branch. */
  private boolean balancesAgree() throws SQLException {
    return "t"
        .equals(
            query(
                "SELECT (SELECT sum(abalance) FROM pgbench_accounts)"
                    + " = (SELECT sum(bbalance) FROM pgbench_branches)"
                    + " AND (SELECT sum(bbalance) FROM pgbench_branches)"
                    + " = (SELECT sum(tbalance) FROM pgbench_tellers)"));
  }

  private String query(String sql) throws SQLException {
    try (Connection c = fixture.direct();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      rs.next();
      return rs.getString(1);
    }
  }
}
