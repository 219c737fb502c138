package dev.warden.server.masking;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * psql 15 with its standard input as a pipe: each case's statements are written as a person would
 * type them, followed by an {@code \echo} of a marker, and the case is over when the marker comes
 * back. psql sends each statement as its own Query message. One psql process runs many cases; it is
 * started again when it exits (a lost connection ends a non-interactive psql).
 */
final class PsqlCaseSession implements CaseSession {
  private static final AtomicInteger MARKERS = new AtomicInteger();

  private final Login login;
  private Process process;
  private OutputStream stdin;
  private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();

  private PsqlCaseSession(Login login) {
    this.login = login;
  }

  static PsqlCaseSession open(Login login) {
    PsqlCaseSession s = new PsqlCaseSession(login);
    s.start();
    return s;
  }

  static String executable() {
    for (String candidate :
        List.of("/usr/lib/postgresql/15/bin/psql", "/usr/bin/psql", "/usr/local/bin/psql")) {
      if (Files.isExecutable(Path.of(candidate))) {
        return candidate;
      }
    }
    return "psql";
  }

  private void start() {
    ProcessBuilder pb =
        new ProcessBuilder(
            executable(),
            "-X",
            "-q",
            "-v",
            "ON_ERROR_STOP=0",
            "host=127.0.0.1 port="
                + login.address().getPort()
                + " dbname="
                + login.database()
                + " user="
                + login.user()
                + " sslmode=disable gssencmode=disable application_name=masking-psql");
    pb.environment().put("PGPASSWORD", login.password());
    pb.environment().put("PGCLIENTENCODING", "UTF8");
    pb.redirectErrorStream(true);
    try {
      process = pb.start();
    } catch (IOException e) {
      throw new IllegalStateException("psql cannot be started: " + e.getMessage(), e);
    }
    stdin = process.getOutputStream();
    Process p = process;
    Thread.ofVirtual()
        .start(
            () -> {
              try (BufferedReader r =
                  new BufferedReader(
                      new InputStreamReader(p.getInputStream(), StandardCharsets.ISO_8859_1))) {
                String line;
                while ((line = r.readLine()) != null) {
                  lines.add(line);
                }
              } catch (IOException e) {
                // the process ended
              }
            });
  }

  @Override
  public List<String> run(List<String> statements) {
    if (!process.isAlive()) {
      lines.clear();
      start();
    }
    StringBuilder script = new StringBuilder();
    for (String s : statements) {
      script.append(s).append(";\n");
    }
    script.append("ROLLBACK;\n");
    return send(script.toString());
  }

  @Override
  public boolean reconnectInPlace() {
    if (!process.isAlive()) {
      return false;
    }
    List<String> problems = send("\\connect\n");
    return problems.isEmpty() && process.isAlive();
  }

  /** Writes {@code script} and an echo of a marker; returns psql's complaints until the marker. */
  private List<String> send(String script) {
    List<String> problems = new ArrayList<>();
    String marker = "@@masking-case-" + MARKERS.incrementAndGet() + "@@";
    try {
      stdin.write((script + "\\echo " + marker + "\n").getBytes(StandardCharsets.UTF_8));
      stdin.flush();
    } catch (IOException e) {
      problems.add("psql's input closed: " + e.getMessage());
      return problems;
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (true) {
      String line;
      try {
        line = lines.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        problems.add("interrupted");
        return problems;
      }
      if (line == null) {
        problems.add(process.isAlive() ? "no marker from psql within 20 s" : "psql exited");
        return problems;
      }
      if (line.contains(marker)) {
        return problems;
      }
      if (line.startsWith("ERROR:")
          || line.startsWith("psql:")
          || line.startsWith("FATAL")
          || line.startsWith("\\connect:")) {
        problems.add(line);
      }
    }
  }

  @Override
  public boolean usable() {
    return process.isAlive();
  }

  @Override
  public void close() {
    try {
      stdin.close();
      if (!process.waitFor(2, TimeUnit.SECONDS)) {
        process.destroy();
      }
    } catch (IOException e) {
      process.destroy();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroy();
    }
  }
}
