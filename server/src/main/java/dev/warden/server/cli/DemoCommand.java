package dev.warden.server.cli;

import dev.warden.server.StartupException;
import dev.warden.server.config.HostPort;
import dev.warden.server.demo.Demo;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code warden demo}: Warden in front of an embedded, seeded PostgreSQL. */
@Command(
    name = "demo",
    description =
        "Start an embedded PostgreSQL with a seeded 'shop' database and Warden in front of it;"
            + " no database needs to be installed.")
final class DemoCommand implements Callable<Integer> {
  private final Terminal terminal;

  @Option(
      names = "--listen",
      paramLabel = "HOST:PORT",
      description = "Where clients connect (default: ${DEFAULT-VALUE}).",
      defaultValue = "127.0.0.1:6432")
  HostPort listen;

  @Option(
      names = "--console",
      paramLabel = "HOST:PORT",
      description = "Where the REST API listens (default: ${DEFAULT-VALUE}).",
      defaultValue = "127.0.0.1:8080")
  HostPort console;

  @Option(
      names = "--data-dir",
      paramLabel = "DIR",
      description =
          "The demo's data: Warden's store and the database files (default: ${DEFAULT-VALUE}).",
      defaultValue = "warden-demo")
  Path dataDir;

  @Option(names = "--fresh", description = "Drop the shop database and seed it again.")
  boolean fresh;

  DemoCommand(Terminal terminal) {
    this.terminal = terminal;
  }

  @Override
  public Integer call() throws InterruptedException {
    long started = System.nanoTime();
    terminal.out().println("Starting the Warden demo (the first start initialises a database)...");
    terminal.out().flush();
    Demo demo;
    try {
      demo =
          Demo.start(
              terminal.resolve(dataDir),
              listen,
              console,
              fresh,
              Clock.systemUTC(),
              new SecureRandom());
    } catch (StartupException e) {
      throw new CommandFailure(e.getMessage(), e);
    }
    Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().unstarted(demo::close));
    Duration elapsed = Duration.ofNanos(System.nanoTime() - started);
    Banner.print(terminal.out(), demo.server());
    terminal.out().println();
    terminal.out().print(demo.instructions(Banner.host(demo.server())));
    terminal
        .out()
        .printf("%nReady in %.1f s. Press Ctrl-C to stop.%n", elapsed.toMillis() / 1000.0);
    terminal.out().flush();
    // The shutdown hook stops Warden and the database; the JVM ends when it returns.
    new CountDownLatch(1).await();
    return Main.OK;
  }
}
