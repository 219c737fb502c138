package dev.warden.server.cli;

import java.io.Console;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * What a command may touch of the outside world: its streams, the environment, the working
 * directory and, when a person is typing, a way to read a password without echoing it. Tests pass
 * their own.
 *
 * @param in standard input
 * @param out standard output
 * @param err standard error
 * @param environment environment variables
 * @param workingDirectory the directory relative paths are resolved against
 * @param passwordPrompt present when standard input is an interactive terminal
 */
record Terminal(
    InputStream in,
    PrintStream out,
    PrintStream err,
    Map<String, String> environment,
    Path workingDirectory,
    Optional<PasswordPrompt> passwordPrompt) {
  Terminal {
    Objects.requireNonNull(in, "in");
    Objects.requireNonNull(out, "out");
    Objects.requireNonNull(err, "err");
    environment = Map.copyOf(environment);
    Objects.requireNonNull(workingDirectory, "workingDirectory");
    Objects.requireNonNull(passwordPrompt, "passwordPrompt");
  }

  /** Reads a password without echoing it. */
  @FunctionalInterface
  interface PasswordPrompt {
    /** The password typed, or null at end of input. */
    char[] read(String prompt);
  }

  /** The process's own streams and terminal. */
  static Terminal system() {
    Console console = System.console();
    // Since JDK 22 System.console() exists even when input is redirected; only a real terminal
    // can prompt without echo, otherwise the password is read from standard input.
    Optional<PasswordPrompt> prompt =
        console != null && console.isTerminal()
            ? Optional.of(text -> console.readPassword("%s", text))
            : Optional.empty();
    return new Terminal(
        System.in, System.out, System.err, System.getenv(), Path.of("").toAbsolutePath(), prompt);
  }

  /** {@code path} resolved against the working directory. */
  Path resolve(Path path) {
    return workingDirectory.resolve(path).normalize();
  }
}
