package dev.warden.sql.postgres;

import dev.warden.core.statement.TableRef;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Reads a relation name written inside a string ({@code nextval('sch."Seq"')}), as regclass does.
 */
final class Names {
  private Names() {}

  static Optional<TableRef> relation(String text) {
    List<String> parts = new ArrayList<>();
    StringBuilder part = new StringBuilder();
    boolean quoted = false;
    String s = text.strip();
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (quoted) {
        if (c == '"') {
          if (i + 1 < s.length() && s.charAt(i + 1) == '"') {
            part.append('"');
            i++;
          } else {
            quoted = false;
          }
        } else {
          part.append(c);
        }
      } else if (c == '"') {
        quoted = true;
      } else if (c == '.') {
        parts.add(part.toString());
        part.setLength(0);
      } else {
        part.append(c >= 'A' && c <= 'Z' ? Character.toLowerCase(c) : c);
      }
    }
    parts.add(part.toString());
    if (quoted || parts.size() > 3 || parts.stream().anyMatch(String::isEmpty)) {
      return Optional.empty();
    }
    int n = parts.size();
    String name = parts.get(n - 1);
    String schema = n >= 2 ? parts.get(n - 2) : "";
    return Optional.of(new TableRef(schema, name));
  }
}
