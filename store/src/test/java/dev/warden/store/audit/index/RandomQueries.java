package dev.warden.store.audit.index;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/** Random queries over the vocabulary of {@link AuditFixture#randomLogs}. */
final class RandomQueries {
  private RandomQueries() {}

  private static final String[][] FIELDS = {
    {"user", "alice", "bob", "carol", "dave@corp.example", "zed", "al*", "dave@*"},
    {"group", "staff", "dba", "contractors", "analysts", "st*"},
    {"env", "production", "staging", "prod*"},
    {"database", "shop", "shop_test"},
    {"session", "s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8"},
    {"client", "10.0.*", "10.0.1.*"},
    {"application", "psql", "\"DBeaver 24\"", "metabase", "DB*", "*"},
    {"kind", "read", "write", "ddl", "delete", "select", "drop", "create", "update", "insert"},
    {
      "table",
      "users",
      "public.users",
      "public.*",
      "orders",
      "hr.salaries",
      "hr.*",
      "salaries",
      "audit.users",
      "u*"
    },
    {"column", "email", "users.email", "id", "amount", "public.orders.id", "*", "name"},
    {"command", "SELECT", "\"drop table\"", "DROP*", "delete", "\"CREATE INDEX\"", "insert"},
    {"verdict", "allowed", "denied", "observed"},
    {"rule", "no-drop", "prod-guard", "observe", "*", "no-*"},
    {"type", "intent", "outcome", "event"},
    {
      "event",
      "connect",
      "authenticate",
      "disconnect",
      "policy-reload",
      "audit-search",
      "torn-tail-removed",
      "*"
    },
    {"status", "ok", "error", "refused", "unknown", "not-run"},
    {"sqlstate", "42501", "0A000", "57014", "23505", "42*", "5*"},
    {"instance", "warden-a", "warden-b", "warden-*"},
    {"fingerprint", "fp-select", "fp-delete", "fp-drop-table", "fp-*"},
  };

  private static final String[] WORDS = {
    "select",
    "FROM USERS",
    "where id",
    "id",
    "1",
    "Ünïcode",
    "café",
    "CAFÉ",
    "amount * 1.1",
    "'%@corp",
    "100%",
    "sure_",
    "_",
    "%",
    "users",
    "orders",
    "Drop",
    "x",
    "\\\"",
    "interval '1 year'",
  };

  private static final String[] TIMES = {
    "1h",
    "12h",
    "1d",
    "2d",
    "3d",
    "4d",
    "2026-10-31",
    "2026-11-01",
    "2026-11-01T06:00Z",
    "2026-11-01T12:30:00+01:00",
  };

  static String query(Random r) {
    int n = r.nextInt(5) == 0 ? 0 : 1 + r.nextInt(3);
    List<String> terms = new ArrayList<>();
    boolean since = false;
    boolean until = false;
    for (int i = 0; i < n; i++) {
      int kind = r.nextInt(10);
      if (kind < 5) {
        String[] f = FIELDS[r.nextInt(FIELDS.length)];
        StringBuilder t = new StringBuilder();
        if (r.nextInt(4) == 0) {
          t.append('-');
        }
        t.append(f[0]).append(':').append(f[1 + r.nextInt(f.length - 1)]);
        if (r.nextInt(4) == 0) {
          t.append(',').append(f[1 + r.nextInt(f.length - 1)]);
        }
        terms.add(t.toString());
      } else if (kind < 8) {
        String w = WORDS[r.nextInt(WORDS.length)];
        if (r.nextBoolean()) {
          w = r.nextBoolean() ? w.toUpperCase(Locale.ROOT) : w.toLowerCase(Locale.ROOT);
        }
        String neg = r.nextInt(4) == 0 ? "-" : "";
        terms.add(neg + (w.contains(" ") || w.contains("\"") || r.nextBoolean() ? quote(w) : w));
      } else if (kind < 9) {
        String[] ops = {">", ">=", "<", "<=", "="};
        String op = ops[r.nextInt(ops.length)];
        if (r.nextBoolean()) {
          terms.add("rows" + op + new int[] {0, 1, 10, 100, 1000, 4000}[r.nextInt(6)]);
        } else {
          terms.add(
              "duration"
                  + op
                  + new String[] {"1ms", "500ms", "1s", "2s", "2500000us"}[r.nextInt(5)]);
        }
      } else if (!since && r.nextBoolean()) {
        since = true;
        terms.add("since:" + TIMES[r.nextInt(TIMES.length)]);
      } else if (!until) {
        until = true;
        terms.add("until:" + TIMES[r.nextInt(TIMES.length)]);
      }
    }
    return String.join(" ", terms);
  }

  private static String quote(String w) {
    return "\"" + w.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
  }
}
