package dev.warden.store.postgres;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A PostgreSQL 15 cluster of a test's own, which the test may stop and start: a real outage of the
 * audit store. Debian's binaries run as the {@code postgres} OS user when the JVM runs as root
 * (initdb refuses root), as {@code testkit}'s AuditedPostgres does. The cluster commits
 * asynchronously ({@code synchronous_commit = off}), so a store that did not insist on synchronous
 * commits for its own sessions would lose acknowledged records when the cluster is stopped in
 * {@code immediate} mode.
 */
final class ThrowawayPostgres implements AutoCloseable {
  private static final Path BIN = Path.of("/usr/lib/postgresql/15/bin");
  private static final int TIMEOUT_SECONDS = 60;

  private final Path root;
  private final Path data;
  private final int port;
  private final boolean asPostgres;

  private ThrowawayPostgres(Path root, int port, boolean asPostgres) {
    this.root = root;
    this.data = root.resolve("data");
    this.port = port;
    this.asPostgres = asPostgres;
  }

  /** Creates and starts a cluster on a free loopback port. */
  static ThrowawayPostgres start() throws IOException {
    if (!Files.isExecutable(BIN.resolve("initdb"))) {
      throw new IllegalStateException(
          "PostgreSQL 15 binaries not found in " + BIN + ": apt-get install postgresql-15");
    }
    boolean root = "root".equals(System.getProperty("user.name"));
    Path dir = Files.createTempDirectory("warden-pgstore-");
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
    if (root) {
      Files.setOwner(
          dir,
          dir.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("postgres"));
    }
    int port;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    ThrowawayPostgres pg = new ThrowawayPostgres(dir, port, root);
    try {
      pg.run(
          BIN.resolve("initdb").toString(),
          "-D",
          pg.data.toString(),
          "-U",
          "postgres",
          "-A",
          "trust",
          "-E",
          "UTF8",
          "--locale=C",
          "--no-sync");
      Files.writeString(
          pg.data.resolve("postgresql.conf"),
          String.join(
              "\n",
              "",
              "listen_addresses = '127.0.0.1'",
              "port = " + port,
              "unix_socket_directories = '" + dir + "'",
              "fsync = off",
              "synchronous_commit = off",
              "full_page_writes = off",
              ""),
          StandardCharsets.UTF_8,
          StandardOpenOption.APPEND);
      pg.startServer();
    } catch (IOException | RuntimeException e) {
      pg.close();
      throw e;
    }
    return pg;
  }

  int port() {
    return port;
  }

  void startServer() throws IOException {
    run(
        BIN.resolve("pg_ctl").toString(),
        "-D",
        data.toString(),
        "-l",
        root.resolve("server.log").toString(),
        "-w",
        "-t",
        String.valueOf(TIMEOUT_SECONDS),
        "start");
  }

  /** Stops the server: {@code immediate} is a crash (no checkpoint, clients cut off). */
  void stopServer(String mode) throws IOException {
    run(BIN.resolve("pg_ctl").toString(), "-D", data.toString(), "-m", mode, "-w", "stop");
  }

  private void run(String... command) throws IOException {
    List<String> full = new ArrayList<>();
    if (asPostgres) {
      full.addAll(List.of("runuser", "-u", "postgres", "--"));
    }
    full.addAll(List.of(command));
    Path output = Files.createTempFile("warden-pgstore-cmd-", ".out");
    try {
      Process p =
          new ProcessBuilder(full)
              .directory(Path.of("/").toFile())
              .redirectErrorStream(true)
              .redirectOutput(output.toFile())
              .start();
      if (!p.waitFor(TIMEOUT_SECONDS + 10, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IllegalStateException("timed out: " + String.join(" ", full));
      }
      if (p.exitValue() != 0) {
        throw new IllegalStateException(
            String.join(" ", full)
                + " exited with "
                + p.exitValue()
                + ":\n"
                + Files.readString(output));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted: " + String.join(" ", full), e);
    } finally {
      Files.deleteIfExists(output);
    }
  }

  /** Stops the server if it runs and deletes the cluster. */
  @Override
  public void close() throws IOException {
    try {
      if (Files.exists(data.resolve("postmaster.pid"))) {
        stopServer("immediate");
      }
    } finally {
      deleteTree();
    }
  }

  private void deleteTree() throws IOException {
    // The server's last processes may still remove their files as the walk runs: tolerate that.
    Files.walkFileTree(
        root,
        new SimpleFileVisitor<>() {
          @Override
          public FileVisitResult visitFile(Path file, BasicFileAttributes attrs)
              throws IOException {
            Files.deleteIfExists(file);
            return FileVisitResult.CONTINUE;
          }

          @Override
          public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
            if (e instanceof NoSuchFileException) {
              return FileVisitResult.CONTINUE;
            }
            throw e;
          }

          @Override
          public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
            Files.deleteIfExists(d);
            return FileVisitResult.CONTINUE;
          }
        });
  }
}
