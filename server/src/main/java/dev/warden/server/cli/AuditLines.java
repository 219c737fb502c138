package dev.warden.server.cli;

import dev.warden.server.audit.AuditJson;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Audit records as one line each for people: time, user, environment, verdict, kind, rows and the
 * statement shortened. Every character a terminal could act on (controls, escapes, bidirectional
 * overrides) is shown escaped (THREATS AD07): statement text is written by whoever connects, and
 * {@code warden audit tail} runs in an auditor's terminal.
 */
final class AuditLines {
  /** The longest statement text shown on a line. */
  static final int TEXT_WIDTH = 100;

  private static final Pattern WHITESPACE = Pattern.compile("[ \\t\\r\\n]+");

  private AuditLines() {}

  /** One line for a search hit or a tailed record (no line break). */
  static String line(Map<String, Object> fields) {
    String time = time(string(fields, "time"));
    String user = string(fields, "user");
    String env = string(fields, "env");
    String type = string(fields, "type");
    String result;
    String kind;
    String rows = "";
    String text;
    if (type.equals("event") || type.isEmpty()) {
      result = Boolean.FALSE.equals(fields.get("success")) ? "failed" : "ok";
      kind = string(fields, "event");
      text = details(fields.get("details"));
    } else {
      String verdict = string(fields, "verdict");
      String status = string(fields, "status");
      result = verdict.isEmpty() ? status : status.isEmpty() ? verdict : verdict + "/" + status;
      kind =
          fields.get("kinds") instanceof List<?> kinds && !kinds.isEmpty()
              ? String.join(",", kinds.stream().map(String::valueOf).toList())
              : type;
      if (fields.get("rows") instanceof Number n) {
        rows = n.longValue() == 1 ? "1 row" : n.longValue() + " rows";
      }
      text = escape(collapse(raw(fields, "text")));
      if (text.isEmpty() && fields.containsKey("tag")) {
        text = string(fields, "tag");
      }
    }
    return String.format(
            Locale.ROOT,
            "%-23s  %-12s  %-10s  %-14s  %-10s  %8s  %s",
            time,
            orDash(user),
            orDash(env),
            orDash(result),
            orDash(kind),
            rows,
            shorten(text))
        .stripTrailing();
  }

  /** The column titles over {@link #line}s. */
  static String header() {
    return String.format(
        Locale.ROOT,
        "%-23s  %-12s  %-10s  %-14s  %-10s  %8s  %s",
        "TIME (UTC)",
        "USER",
        "ENV",
        "RESULT",
        "KIND",
        "ROWS",
        "STATEMENT / DETAILS");
  }

  /** {@code text} with every unsafe character escaped, fit for a terminal. */
  static String escape(String text) {
    StringBuilder out = null;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (AuditJson.unsafe(c)) {
        if (out == null) {
          out = new StringBuilder(text.length() + 16).append(text, 0, i);
        }
        switch (c) {
          case '\n' -> out.append("\\n");
          case '\r' -> out.append("\\r");
          case '\t' -> out.append("\\t");
          default -> out.append(String.format(Locale.ROOT, "\\u%04X", (int) c));
        }
      } else if (out != null) {
        out.append(c);
      }
    }
    return out == null ? text : out.toString();
  }

  private static String string(Map<String, Object> fields, String key) {
    return escape(raw(fields, key));
  }

  private static String raw(Map<String, Object> fields, String key) {
    Object value = fields.get(key);
    return value == null ? "" : String.valueOf(value);
  }

  /** The record's time as {@code 2026-11-01 10:00:00.123}. */
  private static String time(String iso) {
    if (iso.length() >= 23 && iso.charAt(10) == 'T') {
      return iso.substring(0, 10) + " " + iso.substring(11, 23);
    }
    return iso;
  }

  private static String details(Object details) {
    if (!(details instanceof Map<?, ?> map) || map.isEmpty()) {
      return "";
    }
    StringBuilder out = new StringBuilder();
    for (Map.Entry<?, ?> e : new TreeMap<>(map).entrySet()) {
      if (!out.isEmpty()) {
        out.append(' ');
      }
      out.append(escape(String.valueOf(e.getKey())))
          .append('=')
          .append(escape(String.valueOf(e.getValue())));
    }
    return out.toString();
  }

  /** Runs of spaces, tabs and line breaks as one space: a statement on one line. */
  private static String collapse(String text) {
    return WHITESPACE.matcher(text).replaceAll(" ").strip();
  }

  private static String shorten(String text) {
    if (text.length() <= TEXT_WIDTH) {
      return text;
    }
    // Never cut an escape sequence in half: cut before its backslash.
    int cut = TEXT_WIDTH - 1;
    int backslash = text.lastIndexOf('\\', cut);
    if (backslash >= 0 && cut - backslash < 6) {
      cut = backslash;
    }
    return text.substring(0, cut) + "…";
  }

  private static String orDash(String value) {
    return value.isEmpty() ? "-" : value;
  }
}
