package dev.warden.server.cli;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** One run of the {@code warden} command line with captured streams. */
record CliRun(int exitCode, String out, String err) {
  static CliRun run(Path workingDirectory, String stdin, String... args) {
    return run(workingDirectory, stdin, Map.of(), Optional.empty(), args);
  }

  /** Runs as if a person typed {@code typed} at each password prompt, in order. */
  static CliRun interactive(Path workingDirectory, List<String> typed, String... args) {
    Deque<String> answers = new ArrayDeque<>(typed);
    Terminal.PasswordPrompt prompt =
        text -> answers.isEmpty() ? null : answers.removeFirst().toCharArray();
    return run(workingDirectory, "", Map.of(), Optional.of(prompt), args);
  }

  static CliRun run(
      Path workingDirectory,
      String stdin,
      Map<String, String> environment,
      Optional<Terminal.PasswordPrompt> prompt,
      String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    Terminal terminal =
        new Terminal(
            new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)),
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8),
            environment,
            workingDirectory,
            prompt);
    int code = Main.run(args, terminal);
    return new CliRun(
        code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }
}
