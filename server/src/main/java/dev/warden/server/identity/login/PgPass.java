package dev.warden.server.identity.login;

import dev.warden.core.identity.Secret;
import dev.warden.store.files.PrivateFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * libpq's password file ({@code ~/.pgpass} or {@code $PGPASSFILE}, PostgreSQL documentation
 * §34.16): lines of {@code hostname:port:database:username:password}, where {@code :} and {@code \}
 * inside a field are escaped with a backslash and {@code *} in the first four fields matches
 * anything. libpq uses the first line that matches and ignores the file unless its mode is 0600 or
 * stricter.
 */
public final class PgPass {
  private PgPass() {}

  /** {@code $PGPASSFILE}, else {@code ~/.pgpass}. */
  public static Path location(Map<String, String> env) {
    String override = env.get("PGPASSFILE");
    if (override != null && !override.isBlank()) {
      return Path.of(override);
    }
    return Path.of(env.getOrDefault("HOME", System.getProperty("user.home")), ".pgpass");
  }

  /**
   * Adds or replaces the line for {@code connection} in {@code file} with {@code password}, keeping
   * every other line, and leaves the file with mode 0600.
   *
   * @throws LoginException when the file cannot be read or written
   */
  public static void write(Path file, PgConnection connection, Secret password) {
    String existing;
    try {
      existing = Files.readString(file, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      existing = "";
    } catch (IOException e) {
      throw new LoginException("cannot read " + file + " (" + e.getMessage() + ")", e);
    }
    String updated = updated(existing, connection, password);
    try {
      Files.createDirectories(file.toAbsolutePath().getParent());
      PrivateFiles.write(file, updated.getBytes(StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new LoginException("cannot write " + file + " (" + e.getMessage() + ")", e);
    }
  }

  /**
   * The file's text with the line for {@code connection} set to {@code password}: a line with the
   * same four fields is replaced (and any later copy dropped); otherwise the new line goes before
   * the first wildcard line libpq would use instead, or at the end.
   */
  static String updated(String existing, PgConnection connection, Secret password) {
    List<String> key =
        List.of(
            connection.host(),
            Integer.toString(connection.port()),
            connection.database(),
            connection.user());
    String line =
        escape(key.get(0))
            + ":"
            + escape(key.get(1))
            + ":"
            + escape(key.get(2))
            + ":"
            + escape(key.get(3))
            + ":"
            + escape(password.reveal());
    List<String> lines = new ArrayList<>(List.of(existing.split("\n", -1)));
    if (!lines.isEmpty() && lines.getLast().isEmpty()) {
      lines.removeLast();
    }
    int exact = -1;
    int shadowing = -1;
    for (int i = 0; i < lines.size(); i++) {
      List<String> fields = fields(stripCr(lines.get(i)));
      if (fields == null) {
        continue;
      }
      if (fields.subList(0, 4).equals(key)) {
        if (exact < 0) {
          exact = i;
        } else {
          lines.set(i, null);
        }
      } else if (shadowing < 0 && exact < 0 && matchesWildcard(fields, key)) {
        shadowing = i;
      }
    }
    if (exact >= 0) {
      lines.set(exact, line);
    } else if (shadowing >= 0) {
      lines.add(shadowing, line);
    } else {
      lines.add(line);
    }
    StringBuilder out = new StringBuilder();
    for (String l : lines) {
      if (l != null) {
        out.append(l).append('\n');
      }
    }
    return out.toString();
  }

  /** Escapes {@code \} and {@code :} with a backslash, as libpq reads them. */
  static String escape(String field) {
    return field.replace("\\", "\\\\").replace(":", "\\:");
  }

  /** The fields of a line as libpq splits them, or null for comments and lines without five. */
  static List<String> fields(String line) {
    if (line.isEmpty() || line.startsWith("#")) {
      return null;
    }
    List<String> fields = new ArrayList<>();
    StringBuilder field = new StringBuilder();
    for (int i = 0; i < line.length(); i++) {
      char c = line.charAt(i);
      if (c == '\\' && i + 1 < line.length()) {
        field.append(line.charAt(++i));
      } else if (c == ':' && fields.size() < 4) {
        fields.add(field.toString());
        field.setLength(0);
      } else {
        field.append(c);
      }
    }
    fields.add(field.toString());
    return fields.size() == 5 ? fields : null;
  }

  private static boolean matchesWildcard(List<String> fields, List<String> key) {
    for (int i = 0; i < 4; i++) {
      if (!fields.get(i).equals("*") && !fields.get(i).equals(key.get(i))) {
        return false;
      }
    }
    return true;
  }

  private static String stripCr(String line) {
    return line.endsWith("\r") ? line.substring(0, line.length() - 1) : line;
  }
}
