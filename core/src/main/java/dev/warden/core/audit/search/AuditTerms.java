package dev.warden.core.audit.search;

import dev.warden.core.audit.search.AuditQuery.Field;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The terms a record can be found by: one {@code field:value} string per value of each {@link
 * Field}, as a field filter compares them. The embedded index stores exactly these; the PostgreSQL
 * search expresses the same comparisons in SQL, and the shared contract test holds the two to them.
 *
 * <p>Table and column names are found by every dotted suffix, so that {@code table:users} finds
 * {@code public.users} and {@code column:users.email} finds {@code public.users.email}. Empty
 * values have no term. A record is of {@code type:event} when it names no type; a statement whose
 * outcome is merged in is of {@code type:intent} and {@code type:outcome}.
 */
public final class AuditTerms {
  private AuditTerms() {}

  /** The terms of {@code fields}, a record's or a merged statement's. */
  public static Set<String> of(Map<String, Object> fields) {
    Set<String> terms = new TreeSet<>();
    one(terms, Field.USER, fields.get("user"));
    each(terms, Field.GROUP, fields.get("groups"));
    one(terms, Field.ENV, fields.get("env"));
    one(terms, Field.DATABASE, fields.get("database"));
    one(terms, Field.SESSION, fields.get("session"));
    one(terms, Field.CLIENT, fields.get("client"));
    one(terms, Field.APPLICATION, fields.get("application"));
    each(terms, Field.KIND, fields.get("kinds"));
    suffixes(terms, Field.TABLE, fields.get("tables"));
    suffixes(terms, Field.COLUMN, fields.get("columns"));
    if (fields.get("statements") instanceof List<?> statements) {
      for (Object s : statements) {
        if (s instanceof Map<?, ?> statement) {
          one(terms, Field.COMMAND, statement.get("command"));
        }
      }
    }
    one(terms, Field.VERDICT, fields.get("verdict"));
    one(terms, Field.RULE, fields.get("rule"));
    one(terms, Field.TYPE, fields.get("type") instanceof String type ? type : "event");
    if (fields.containsKey(AuditHit.OUTCOME_TIME)) {
      one(terms, Field.TYPE, "outcome");
    }
    one(terms, Field.EVENT, fields.get("event"));
    one(terms, Field.STATUS, fields.get("status"));
    one(terms, Field.SQLSTATE, fields.get("sqlstate"));
    one(terms, Field.INSTANCE, fields.get("instance"));
    one(terms, Field.FINGERPRINT, fields.get("fingerprint"));
    return terms;
  }

  /** The term of {@code field} with {@code value}. */
  public static String term(Field field, String value) {
    return field.key() + ":" + value;
  }

  private static void one(Set<String> terms, Field field, Object value) {
    if (value instanceof String s && !s.isEmpty()) {
      terms.add(term(field, s));
    }
  }

  private static void each(Set<String> terms, Field field, Object values) {
    if (values instanceof List<?> list) {
      for (Object v : list) {
        one(terms, field, v);
      }
    }
  }

  private static void suffixes(Set<String> terms, Field field, Object values) {
    if (values instanceof List<?> list) {
      for (Object v : list) {
        if (v instanceof String name) {
          String rest = name;
          while (true) {
            one(terms, field, rest);
            int dot = rest.indexOf('.');
            if (dot < 0) {
              break;
            }
            rest = rest.substring(dot + 1);
          }
        }
      }
    }
  }
}
