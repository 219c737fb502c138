package dev.warden.store.postgres.search;

import dev.warden.core.audit.search.AuditQuery;
import dev.warden.core.audit.search.AuditQuery.FieldFilter;
import dev.warden.core.audit.search.AuditQuery.Match;
import dev.warden.core.audit.search.AuditQuery.NumberFilter;
import dev.warden.core.audit.search.AuditQuery.TextTerm;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;

/**
 * An {@link AuditQuery} as one SQL statement over {@code warden_audit}: each record joined with the
 * next record of the same log, session and statement number (its outcome, when that is one),
 * outcomes that are another record's dropped, then the filters, newest first.
 *
 * <p>Every filter is an exact, cheap expression on the record's {@code doc} (and, for what an
 * outcome adds, on the outcome's): that is what a walk down the time index evaluates per row. A
 * positive field filter also gets {@code warden_audit_terms_v1(r.doc) && terms}, which means the
 * same but lets the planner start from the GIN index when the filter is selective; the function is
 * declared costly, so a walk evaluates it only on rows the cheap expression let through.
 */
final class SearchSql {
  /** A statement and its parameters, in order. */
  record Sql(String sql, List<Object> parameters) {}

  private static final String PAIRED =
      " AND n.log_id = r.log_id AND (n.doc->>'stmt') IS NOT NULL"
          + " AND n.doc->>'session' = r.doc->>'session' AND n.doc->>'stmt' = r.doc->>'stmt'"
          + " AND n.doc->>'type' IN ('intent', 'outcome')";

  /** The record's type as {@code AuditTerms} reads it. */
  private static final String TYPE =
      "(CASE WHEN jsonb_typeof(r.doc->'type') = 'string' THEN r.doc->>'type' ELSE 'event' END)";

  private SearchSql() {}

  static Sql of(AuditQuery query, Instant now, int limit) {
    List<Object> p = new ArrayList<>();
    List<String> where = new ArrayList<>();
    query
        .since(now)
        .ifPresent(
            t -> {
              where.add("r.time >= ?");
              p.add(OffsetDateTime.ofInstant(t, ZoneOffset.UTC));
            });
    query
        .until(now)
        .ifPresent(
            t -> {
              where.add("r.time < ?");
              p.add(OffsetDateTime.ofInstant(t, ZoneOffset.UTC));
            });
    for (FieldFilter f : query.filters()) {
      where.add(filter(f, p));
    }
    for (TextTerm t : query.texts()) {
      where.add(
          t.negated()
              ? "NOT coalesce(r.doc->>'text' ILIKE ?, false)"
              : "coalesce(r.doc->>'text' ILIKE ?, false)");
      p.add("%" + escapeLike(t.text()) + "%");
    }
    for (NumberFilter n : query.numbers()) {
      String v = merged(n.measure().key());
      where.add(
          "coalesce((CASE WHEN jsonb_typeof("
              + v
              + ") = 'number' THEN ("
              + v
              + ")::text::numeric END) "
              + n.comparison().symbol()
              + " ?, false)");
      p.add(n.value());
    }
    p.add(limit);
    String sql =
        "SELECT r.log_id, r.seq, r.time, r.payload, nx.seq, nx.payload"
            + " FROM warden_audit r"
            + " LEFT JOIN LATERAL (SELECT n.seq, n.doc, n.payload FROM warden_audit n"
            + " WHERE r.doc->>'type' = 'intent'"
            + PAIRED
            + " AND n.seq > r.seq ORDER BY n.seq LIMIT 1) nx ON nx.doc->>'type' = 'outcome'"
            + " WHERE (coalesce(r.doc->>'type', '') <> 'outcome' OR NOT EXISTS ("
            + "SELECT 1 FROM (SELECT n.doc->>'type' AS t FROM warden_audit n WHERE true"
            + PAIRED
            + " AND n.seq < r.seq ORDER BY n.seq DESC LIMIT 1) previous"
            + " WHERE previous.t = 'intent'))"
            + (where.isEmpty() ? "" : " AND " + String.join(" AND ", where))
            + " ORDER BY r.time DESC, r.log_id DESC, r.seq DESC LIMIT ?";
    return new Sql(sql, p);
  }

  /** A key of the merged document: the record's value if it has the key, else the outcome's. */
  private static String merged(String key) {
    return "coalesce(r.doc->'" + key + "', nx.doc->'" + key + "')";
  }

  private static String filter(FieldFilter f, List<Object> p) {
    List<String> any = new ArrayList<>();
    List<String> indexed = new ArrayList<>();
    boolean outcomeDependent = false;
    for (Match m : f.matches()) {
      String term = m.term();
      int colon = term.indexOf(':');
      String field = term.substring(0, colon);
      String value = term.substring(colon + 1);
      switch (field) {
        case "user",
            "env",
            "database",
            "session",
            "client",
            "application",
            "verdict",
            "rule",
            "event",
            "instance",
            "fingerprint" ->
            any.add(string("r.doc->'" + field + "'", value, m.prefix(), p));
        case "status", "sqlstate" -> {
          outcomeDependent = true;
          any.add(string(merged(field), value, m.prefix(), p));
        }
        case "type" -> {
          outcomeDependent = true;
          any.add(
              value.equals("outcome")
                  ? "(" + TYPE + " = 'outcome' OR nx.doc IS NOT NULL)"
                  : TYPE + " = ?");
          if (!value.equals("outcome")) {
            p.add(value);
          }
        }
        case "group", "kind" -> {
          String array = "r.doc->'" + (field.equals("group") ? "groups" : "kinds") + "'";
          if (m.prefix()) {
            any.add(elements(array, "e <> '' AND starts_with(e, ?)", p, value));
          } else {
            any.add(array + " @> jsonb_build_array(?::text)");
            p.add(value);
          }
        }
        case "command" -> {
          if (m.prefix()) {
            any.add(
                "EXISTS (SELECT 1 FROM jsonb_array_elements(CASE WHEN"
                    + " jsonb_typeof(r.doc->'statements') = 'array' THEN r.doc->'statements' END) s"
                    + " WHERE jsonb_typeof(s->'command') = 'string' AND s->>'command' <> ''"
                    + " AND starts_with(s->>'command', ?))");
            p.add(value);
          } else {
            any.add(
                "r.doc->'statements' @> jsonb_build_array(jsonb_build_object('command', ?::text))");
            p.add(value);
          }
        }
        case "table", "column" -> {
          String array = "r.doc->'" + field + "s'";
          if (m.prefix()) {
            // A suffix term starts with the prefix: the name does, or has it right after a dot.
            any.add(
                elements(
                    array,
                    "e <> '' AND (starts_with(e, ?) OR strpos(e, ?) > 0)",
                    p,
                    value,
                    "." + value));
          } else {
            any.add(
                elements(
                    array,
                    "(e = ? OR right(e, ?) = ?)",
                    p,
                    value,
                    value.length() + 1,
                    "." + value));
          }
        }
        default -> throw new IllegalArgumentException("no field " + field);
      }
      if (!m.prefix()) {
        indexed.add(term);
      }
    }
    String exact = any.size() == 1 ? any.getFirst() : "(" + String.join(" OR ", any) + ")";
    String condition = "coalesce(" + exact + ", false)";
    if (f.negated()) {
      return "NOT " + condition;
    }
    if (!outcomeDependent && indexed.size() == f.matches().size()) {
      condition += " AND warden_audit_terms_v1(r.doc) && ?::text[]";
      p.add(indexed.toArray(String[]::new));
    }
    return condition;
  }

  /** A string value: exactly {@code value}, or starting with it. */
  private static String string(String json, String value, boolean prefix, List<Object> p) {
    p.add(value);
    if (prefix) {
      return "(jsonb_typeof("
          + json
          + ") = 'string' AND ("
          + json
          + ")#>>'{}' <> '' AND starts_with(("
          + json
          + ")#>>'{}', ?))";
    }
    return "(jsonb_typeof(" + json + ") = 'string' AND (" + json + ")#>>'{}' = ?)";
  }

  /** Some string element {@code e} of the JSON array {@code array} satisfies {@code test}. */
  private static String elements(String array, String test, List<Object> p, Object... values) {
    p.addAll(List.of(values));
    return "EXISTS (SELECT 1 FROM jsonb_array_elements(CASE WHEN jsonb_typeof("
        + array
        + ") = 'array' THEN "
        + array
        + " END) j, LATERAL (SELECT j#>>'{}' AS e) x WHERE jsonb_typeof(j) = 'string' AND "
        + test
        + ")";
  }

  /** {@code s} as a literal inside a LIKE pattern whose escape character is the backslash. */
  static String escapeLike(String s) {
    return s.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_");
  }
}
