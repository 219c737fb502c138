package dev.warden.proxy.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * psql cannot tell Warden from PostgreSQL. A script of meta-commands runs once straight against the
 * database and once through Warden, and an interactive session is interrupted with Ctrl-C in a
 * terminal (tmux) both ways; the outputs must be the same once what has to differ is normalised:
 * the port, timings, the PIDs of server processes and the OIDs the server gives large objects.
 *
 * <p>Warden gets an identity named {@code postgres} (with a password of its own), so that psql logs
 * in under the same user name both ways and {@code \conninfo} needs no normalising.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PsqlTransparencyTest {
  private static final Path PSQL = Path.of("/usr/bin/psql");
  private static final Path TMUX = Path.of("/usr/bin/tmux");
  private static final String WARDEN_PASSWORD = "postgres-at-warden";
  private static final Duration WAIT = Duration.ofSeconds(15);

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
    assumeTrue(Files.isExecutable(PSQL), "psql is not installed at " + PSQL);
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
  void aScriptOfMetaCommandsPrintsTheSameThroughWarden(@TempDir Path dir) throws Exception {
    Path script = dir.resolve("psql-meta-commands.sql");
    try (InputStream in = getClass().getResourceAsStream("/transparency/psql-meta-commands.sql")) {
      assertThat(in).as("script resource").isNotNull();
      Files.copy(in, script);
    }
    byte[] blob = new byte[256 * 1024];
    new Random(15).nextBytes(blob);

    Run direct = runScript(dir.resolve("direct"), ProxyFixture.PG_PORT, script, blob);
    Run proxied = runScript(dir.resolve("warden"), fixture.port(), script, blob);

    assertThat(proxied.exitCode()).as("exit code").isEqualTo(direct.exitCode());
    assertThat(proxied.stdout()).isEqualTo(direct.stdout());
    assertThat(proxied.stderr()).isEqualTo(direct.stderr());
    assertThat(Files.readAllBytes(dir.resolve("warden/t.csv")))
        .isEqualTo(Files.readAllBytes(dir.resolve("direct/t.csv")));
    assertThat(Files.readAllBytes(dir.resolve("warden/blob-out.bin"))).isEqualTo(blob);
    assertThat(Files.readAllBytes(dir.resolve("direct/blob-out.bin"))).isEqualTo(blob);

    // ON_ERROR_STOP ends the script at its deliberate error with status 3.
    assertThat(direct.exitCode()).isEqualTo(3);
    assertThat(direct.stdout())
        .contains(
            " public | t    | table | postgres",
            "Table \"public.t\"",
            "You are connected to database \""
                + fixture.database
                + "\" as user \"postgres\" on host \"127.0.0.1\" at port \"<port>\".",
            "Timing is on.",
            "Time: <timing>",
            "maxid is 2 and tag is tagged",
            "INSERT 0 1\nINSERT 0 1\nINSERT 0 1\n",
            "COPY 5",
            "-[ RECORD 1 ]",
            "ROLLBACK",
            "lo_import <oid>",
            "lo_export",
            "lo_unlink <oid>",
            "Asynchronous notification \"transparency\" with payload \"hello from psql\" received"
                + " from server process with PID <pid>.",
            "(3 rows)")
        .doesNotContain("not reached");
    assertThat(direct.stderr())
        .contains(
            "NOTICE:  table \"no_such_table\" does not exist, skipping",
            "NOTICE:  a notice with a value",
            "ERROR:  22012: division by zero");
  }

  @Test
  void ctrlCCancelsTheRunningQueryAndPsqlStaysUsable(@TempDir Path dir) throws Exception {
    assumeTrue(Files.isExecutable(TMUX), "tmux is not installed: Ctrl-C needs psql in a terminal");
    String direct = interruptedSession(dir, ProxyFixture.PG_PORT);
    String proxied = interruptedSession(dir, fixture.port());

    assertThat(proxied).isEqualTo(direct);
    assertThat(direct)
        .contains(
            "=# SELECT pg_sleep(30) \\g",
            "Cancel request sent",
            "ERROR:  canceling statement due to user request",
            " still usable",
            "(1 row)",
            "cancelled within 2 s: true");
  }

  private record Run(int exitCode, String stdout, String stderr) {}

  private Run runScript(Path workDir, int port, Path script, byte[] blob) throws Exception {
    Files.createDirectories(workDir);
    Files.write(workDir.resolve("blob.bin"), blob);
    Path out = workDir.resolve("stdout.txt");
    Path err = workDir.resolve("stderr.txt");
    ProcessBuilder pb =
        new ProcessBuilder(
                PSQL.toString(),
                "-X",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                "127.0.0.1",
                "-p",
                Integer.toString(port),
                "-U",
                ProxyFixture.PG_USER,
                "-d",
                fixture.database,
                "-f",
                script.toString())
            .directory(workDir.toFile())
            .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
            .redirectOutput(out.toFile())
            .redirectError(err.toFile());
    clientEnvironment(pb.environment(), workDir);
    Process p = pb.start();
    if (!p.waitFor(WAIT.toSeconds(), TimeUnit.SECONDS)) {
      p.destroyForcibly();
      fail("psql did not finish within " + WAIT + ": " + Files.readString(err));
    }
    return new Run(
        p.exitValue(), normalise(Files.readString(out)), normalise(Files.readString(err)));
  }

  /**
   * Runs psql in a tmux terminal, starts {@code pg_sleep(30)}, presses Ctrl-C once the server runs
   * it, then runs one more query; returns the screen, normalised, and whether the cancel took less
   * than two seconds.
   */
  private String interruptedSession(Path dir, int port) throws Exception {
    String socket = "warden-transparency-" + ProcessHandle.current().pid() + "-" + port;
    List<String> command = new ArrayList<>(List.of("new-session", "-d", "-x", "120", "-y", "50"));
    command.addAll(
        List.of(
            "env",
            "-i",
            "PATH=/usr/bin:/bin",
            "LC_ALL=C.UTF-8",
            "TERM=xterm",
            "HOME=" + dir,
            "PGPASSWORD=" + WARDEN_PASSWORD,
            "PGSSLMODE=disable",
            PSQL.toString(),
            "-X",
            "-h",
            "127.0.0.1",
            "-p",
            Integer.toString(port),
            "-U",
            ProxyFixture.PG_USER,
            "-d",
            fixture.database));
    try {
      tmux(socket, command.toArray(String[]::new));
      String prompt = fixture.database + "=# ";
      awaitScreen(socket, s -> s.contains(prompt));
      // tmux reads a trailing ';' as a command separator, so the query ends with psql's \g.
      tmux(socket, "send-keys", "-l", "SELECT pg_sleep(30) \\g");
      tmux(socket, "send-keys", "Enter");
      awaitSleeping();
      long pressed = System.nanoTime();
      tmux(socket, "send-keys", "C-c");
      awaitScreen(socket, s -> s.contains("canceling statement due to user request"));
      Duration took = Duration.ofNanos(System.nanoTime() - pressed);
      awaitScreen(socket, s -> s.strip().endsWith(prompt.strip()));
      tmux(socket, "send-keys", "-l", "SELECT 'still usable' AS after_cancel \\g");
      tmux(socket, "send-keys", "Enter");
      String screen = awaitScreen(socket, s -> s.contains("(1 row)") && s.strip().endsWith("=#"));
      return normalise(screen)
          + "\ncancelled within 2 s: "
          + (took.compareTo(Duration.ofSeconds(2)) < 0);
    } finally {
      tmuxQuietly(socket, "kill-server");
    }
  }

  /** Waits until this database's psql session is inside {@code pg_sleep}. */
  private void awaitSleeping() throws Exception {
    long deadline = System.nanoTime() + WAIT.toNanos();
    try (Connection admin = fixture.direct();
        PreparedStatement ps =
            admin.prepareStatement(
                "SELECT 1 FROM pg_stat_activity WHERE datname = ? AND application_name = 'psql'"
                    + " AND state = 'active' AND query LIKE 'SELECT pg_sleep(30)%'")) {
      ps.setString(1, fixture.database);
      while (System.nanoTime() < deadline) {
        try (ResultSet rs = ps.executeQuery()) {
          if (rs.next()) {
            return;
          }
        }
        Thread.sleep(20);
      }
    }
    fail("psql never started pg_sleep");
  }

  private static String awaitScreen(String socket, Predicate<String> ready) throws Exception {
    long deadline = System.nanoTime() + WAIT.toNanos();
    String screen = "";
    while (System.nanoTime() < deadline) {
      screen = tmux(socket, "capture-pane", "-p", "-J", "-S", "-");
      if (ready.test(screen)) {
        return screen.strip();
      }
      Thread.sleep(20);
    }
    return fail("the terminal never showed what was expected; it shows:\n" + screen);
  }

  private static String tmux(String socket, String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of(TMUX.toString(), "-L", socket));
    command.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
    pb.environment().remove("TMUX");
    Process p = pb.start();
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(WAIT.toSeconds(), TimeUnit.SECONDS) || p.exitValue() != 0) {
      p.destroyForcibly();
      fail("tmux " + String.join(" ", args) + " failed: " + output);
    }
    return output;
  }

  private static void tmuxQuietly(String socket, String... args) {
    try {
      tmux(socket, args);
    } catch (Exception | AssertionError ignored) {
      // The server is already gone.
    }
  }

  private static void clientEnvironment(Map<String, String> env, Path home) {
    env.keySet().removeIf(k -> k.startsWith("PG") || k.startsWith("PSQL") || k.startsWith("LC_"));
    env.put("HOME", home.toString());
    env.put("LC_ALL", "C.UTF-8");
    env.put("PGPASSWORD", WARDEN_PASSWORD);
    env.put("PGSSLMODE", "disable");
    env.put("PGCONNECT_TIMEOUT", "10");
  }

  private static final List<Map.Entry<Pattern, String>> NORMALISE =
      List.of(
          Map.entry(Pattern.compile("at port \"\\d+\""), "at port \"<port>\""),
          Map.entry(Pattern.compile("(?m)^Time: \\d+[.,]\\d+ ms.*$"), "Time: <timing>"),
          Map.entry(Pattern.compile("(?m)^lo_(import|unlink) \\d+$"), "lo_$1 <oid>"),
          Map.entry(
              Pattern.compile("server process with PID \\d+"), "server process with PID <pid>"));

  /** Replaces what must differ between two runs, and nothing else. */
  static String normalise(String output) {
    String s = output;
    for (Map.Entry<Pattern, String> e : NORMALISE) {
      s = e.getKey().matcher(s).replaceAll(e.getValue());
    }
    return s;
  }
}
