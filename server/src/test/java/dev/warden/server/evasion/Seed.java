package dev.warden.server.evasion;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * One line of {@code evasion/seeds.txt}: a statement and the verdict the default policy must reach
 * for it in a {@code production} environment.
 *
 * @param line line number in the file, for names and failure messages
 * @param expect what must happen to it
 * @param threat the THREATS.md case it comes from
 * @param flags the line's flags ({@code staging}, {@code noprep}, {@code nomut}, {@code rejects})
 * @param deniedAt for a denied multi-statement string, the 1-based position of the first statement
 *     that is denied on its own (the ones before it may run when a client sends them as separate
 *     messages)
 * @param sql the statement text
 */
record Seed(int line, Expect expect, String threat, Set<String> flags, int deniedAt, String sql) {
  static final String RESOURCE = "/evasion/seeds.txt";

  enum Expect {
    ALLOW,
    DENY
  }

  boolean has(String flag) {
    return flags.contains(flag);
  }

  static List<Seed> load() {
    try (InputStream in = Seed.class.getResourceAsStream(RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException("missing test resource " + RESOURCE);
      }
      return parse(new String(in.readAllBytes(), StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static List<Seed> parse(String text) {
    List<Seed> seeds = new ArrayList<>();
    String[] lines = text.split("\n", -1);
    for (int i = 0; i < lines.length; i++) {
      String line = lines[i];
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      String[] parts = line.split(" \\| ", 4);
      if (parts.length != 4) {
        throw new IllegalArgumentException(
            RESOURCE + ":" + (i + 1) + ": expected 'verdict | threat | flags | SQL'");
      }
      Expect expect =
          switch (parts[0].strip()) {
            case "deny" -> Expect.DENY;
            case "allow" -> Expect.ALLOW;
            default ->
                throw new IllegalArgumentException(
                    RESOURCE + ":" + (i + 1) + ": verdict must be deny or allow");
          };
      Set<String> flags =
          Arrays.stream(parts[2].strip().split(","))
              .map(String::strip)
              .filter(f -> !f.isEmpty() && !f.equals("-"))
              .collect(Collectors.toUnmodifiableSet());
      int deniedAt = 1;
      for (String flag : flags) {
        if (flag.startsWith("at=")) {
          deniedAt = Integer.parseInt(flag.substring(3));
        } else if (!Set.of("staging", "noprep", "nomut", "rejects", "single").contains(flag)) {
          throw new IllegalArgumentException(RESOURCE + ":" + (i + 1) + ": unknown flag " + flag);
        }
      }
      seeds.add(new Seed(i + 1, expect, parts[1].strip(), flags, deniedAt, parts[3]));
    }
    return List.copyOf(seeds);
  }
}
