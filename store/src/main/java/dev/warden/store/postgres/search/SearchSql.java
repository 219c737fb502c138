package dev.warden.store.postgres.search;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
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
import java.util.Set;

/**
 * An {@link AuditQuery} as one SQL statement over {@code warden_audit}: each record joined with the
 * next record of the same log, session and statement number (its outcome, when that is one),
 * outcomes that are another record's dropped, then the filters, newest first.
 *
 * <p>Every filter is an exact expression on the record's {@code doc} (and, for what an outcome
 * adds, on the outcome's), cheap enough to evaluate on each row of a walk down the time index, and
 * where possible one that a GIN index answers too: containment ({@code doc @> '{"user":"alice"}'})
 * for most fields, and for table and column names {@code warden_audit_names_v1(doc) && terms},
 * added beside the exact expression (the function is declared costly, so a walk evaluates it only
 * on rows the exact expression let through).
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

  private static final ObjectMapper JSON = new ObjectMapper();

  private SearchSql() {}

  static Sql of(AuditQuery query, Instant now, int limit, boolean namesFunction) {
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
      where.add(filter(f, namesFunction, p));
    }
    for (TextTerm t : query.texts()) {
      where.add(
          t.negated()
              ? "NOT coalesce(r.doc->>'text' ILIKE ?, false)"
              // Bare, so that the trigram index and the planner's estimate can see it.
              : "r.doc->>'text' ILIKE ?");
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

  private static String filter(FieldFilter f, boolean namesFunction, List<Object> p) {
    List<String> any = new ArrayList<>();
    List<String> names = new ArrayList<>();
    boolean allNames = true;
    boolean indexable = true;
    for (Match m : f.matches()) {
      String term = m.term();
      int colon = term.indexOf(':');
      String field = term.substring(0, colon);
      String value = term.substring(colon + 1);
      boolean name = field.equals("table") || field.equals("column");
      allNames &= name && !m.prefix();
      indexable &= !m.prefix() && !Set.of("status", "sqlstate", "type").contains(field);
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
            "fingerprint" -> {
          if (m.prefix()) {
            any.add(string("r.doc->'" + field + "'", value, true, p));
          } else {
            any.add(contains(JSON.createObjectNode().put(field, value), p));
          }
        }
        case "status", "sqlstate" -> any.add(string(merged(field), value, m.prefix(), p));
        case "type" -> {
          if (value.equals("outcome")) {
            any.add("(" + TYPE + " = 'outcome' OR nx.doc IS NOT NULL)");
          } else {
            any.add(TYPE + " = ?");
            p.add(value);
          }
        }
        case "group", "kind" -> {
          String key = field.equals("group") ? "groups" : "kinds";
          if (m.prefix()) {
            any.add(elements("r.doc->'" + key + "'", "e <> '' AND starts_with(e, ?)", p, value));
          } else {
            ObjectNode o = JSON.createObjectNode();
            o.putArray(key).add(value);
            any.add(contains(o, p));
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
            ObjectNode o = JSON.createObjectNode();
            o.putArray("statements").addObject().put("command", value);
            any.add(contains(o, p));
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
            names.add(term);
          }
        }
        default -> throw new IllegalArgumentException("no field " + field);
      }
    }
    String exact = any.size() == 1 ? any.getFirst() : "(" + String.join(" OR ", any) + ")";
    if (f.negated()) {
      // NULL (the record has no such field) must count as "does not have the value".
      return "NOT coalesce(" + exact + ", false)";
    }
    if (!indexable) {
      // No index answers it: kept opaque, so that the planner assumes it common and walks the
      // time index rather than trusting a guessed product of selectivities (which for
      // status:error sqlstate:23* once came out as one row, and a sequential scan).
      return "coalesce(" + exact + ", false)";
    }
    // Bare (NULL excludes the row as false does), so that indexes and estimates can see it.
    String condition = exact;
    if (allNames && namesFunction) {
      // The same condition, in a form the names index answers; evaluated last on a walk (costly).
      condition += " AND warden_audit_names_v1(r.doc) && ?::text[]";
      p.add(names.toArray(String[]::new));
    }
    return condition;
  }

  /** The record's document contains {@code json}: exact, and answered by the GIN index on doc. */
  private static String contains(ObjectNode json, List<Object> p) {
    p.add(new Json(json.toString()));
    return "r.doc @> ?::jsonb";
  }

  /** A JSON text parameter. */
  record Json(String text) {}

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
