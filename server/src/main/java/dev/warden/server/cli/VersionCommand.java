package dev.warden.server.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** {@code warden version}. */
@Command(name = "version", description = "Print Warden's version.")
final class VersionCommand implements Callable<Integer> {
  private final Terminal terminal;

  VersionCommand(Terminal terminal) {
    this.terminal = terminal;
  }

  @Override
  public Integer call() {
    terminal.out().println("warden " + Version.current());
    terminal.out().println("Java " + Runtime.version());
    return Main.OK;
  }
}
