package dev.warden.store.audit.index;

import dev.warden.core.audit.AuditChain;
import dev.warden.core.audit.AuditEncoder;
import dev.warden.core.audit.AuditEvent;
import dev.warden.core.audit.AuditRecord;
import dev.warden.core.audit.ChainedRecord;
import dev.warden.core.audit.Durability;
import dev.warden.core.audit.Redactor;
import dev.warden.core.audit.StatementIntent;
import dev.warden.core.audit.StatementOutcome;
import dev.warden.core.environment.Environment;
import dev.warden.core.environment.TlsMode;
import dev.warden.core.environment.Upstream;
import dev.warden.core.gate.Decision;
import dev.warden.core.gate.SessionContext;
import dev.warden.core.gate.StatementPath;
import dev.warden.core.gate.Verdict;
import dev.warden.core.identity.AuthMethod;
import dev.warden.core.identity.Identity;
import dev.warden.core.identity.Secret;
import dev.warden.core.statement.Analysis;
import dev.warden.core.statement.ColumnRef;
import dev.warden.core.statement.LexicalSettings;
import dev.warden.core.statement.Statement;
import dev.warden.core.statement.StatementKind;
import dev.warden.core.statement.TableRef;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Random;
import java.util.Set;

/**
 * Realistic audit records, encoded by the real {@link AuditEncoder}, for the search tests and the
 * benchmark: one {@link Writer} per Warden instance, and seeded random logs.
 */
public final class AuditFixture {
  /** "Now" for every search test. */
  public static final Instant NOW = Instant.parse("2026-11-02T12:00:00Z");

  public static final Clock CLOCK = Clock.fixed(NOW, ZoneOffset.UTC);

  private AuditFixture() {}

  /** The payloads of one instance's log, chained as its writer stores them. */
  public static final class Writer {
    private final AuditEncoder encoder;
    private final List<byte[]> payloads = new ArrayList<>();

    public Writer(String instance) {
      this.encoder = new AuditEncoder(instance, Redactor.NONE, new byte[32]);
    }

    /** Adds a record; returns its sequence number. */
    public long add(AuditRecord record) {
      payloads.add(encoder.encode(record));
      return payloads.size();
    }

    /** Adds a payload as it is (for records no encoder writes); returns its sequence number. */
    public long addRaw(byte[] payload) {
      payloads.add(payload.clone());
      return payloads.size();
    }

    public List<ChainedRecord> chain(String logId) {
      return AuditChain.chain(logId, payloads);
    }
  }

  public static SessionContext session(String id, String user, String env, String application) {
    Upstream upstream =
        new Upstream(
            "127.0.0.1",
            5432,
            Optional.empty(),
            "warden",
            Secret.of("never-recorded"),
            TlsMode.DISABLE,
            Optional.empty());
    Set<String> groups =
        switch (user) {
          case "alice" -> Set.of("analysts", "staff");
          case "bob" -> Set.of("dba");
          case "carol" -> Set.of("staff");
          default -> Set.of("contractors");
        };
    return new SessionContext(
        id,
        new Identity(user, groups, AuthMethod.SCRAM_SHA_256),
        new Environment(env, Set.of(env), List.of("shop"), upstream),
        "10.0." + (id.hashCode() & 7) + ".7:5" + (1000 + (id.hashCode() & 1023)),
        env.equals("production") ? "shop" : "shop_test",
        application);
  }

  /** A statement that reads or writes {@code table} (qualified as written) and its columns. */
  public static Statement statement(
      StatementKind kind, String command, String table, List<String> columns) {
    int dot = table.indexOf('.');
    TableRef t =
        dot < 0
            ? TableRef.unqualified(table)
            : new TableRef(table.substring(0, dot), table.substring(dot + 1));
    boolean writes = kind != StatementKind.READ;
    Set<ColumnRef> cols = new java.util.HashSet<>();
    for (String c : columns) {
      cols.add(new ColumnRef(t, c));
    }
    return new Statement(
        kind,
        command,
        writes ? Set.of() : Set.of(t),
        writes ? Set.of(t) : Set.of(),
        writes ? Set.of() : cols,
        writes ? cols : Set.of(),
        Set.of(),
        true,
        false,
        Set.of(),
        "",
        "",
        Optional.empty());
  }

  public static Decision allow(Statement s) {
    return new Decision(Verdict.ALLOW, analysis(s), "", false, OptionalLong.empty(), null, 1, true);
  }

  public static Decision observed(Statement s, String rule) {
    return new Decision(
        Verdict.ALLOW, analysis(s), rule, true, OptionalLong.empty(), null, 1, true);
  }

  public static Decision deny(Statement s, String rule, String sqlState) {
    return new Decision(
        new Verdict.Deny(sqlState, "refused by " + rule, "ask an administrator"),
        analysis(s),
        rule,
        false,
        OptionalLong.empty(),
        null,
        1,
        true);
  }

  private static Analysis analysis(Statement s) {
    return new Analysis(List.of(s), "fp-" + s.command().toLowerCase().replace(' ', '-'));
  }

  public static StatementIntent intent(
      Instant time, SessionContext s, long n, String text, Decision d) {
    return new StatementIntent(
        time,
        s,
        n,
        StatementPath.SIMPLE,
        text,
        LexicalSettings.DEFAULT,
        "",
        d,
        Durability.IMMEDIATE);
  }

  public static StatementOutcome outcome(
      Instant time,
      String session,
      long n,
      StatementOutcome.Status status,
      OptionalLong rows,
      Duration duration,
      String sqlState) {
    return new StatementOutcome(
        time,
        session,
        n,
        status,
        rows,
        rows.isPresent() ? "SELECT " + rows.getAsLong() : "",
        duration.toNanos(),
        sqlState,
        List.of());
  }

  public static AuditEvent event(
      Instant time, String name, String actor, Optional<SessionContext> session) {
    return new AuditEvent(time, name, true, actor, session, Map.of("method", "scram-sha-256"));
  }

  // --- seeded random logs ---

  /** A statement template: text and what it does. */
  record Template(
      String text, StatementKind kind, String command, String table, List<String> columns) {}

  static final List<Template> TEMPLATES =
      List.of(
          new Template(
              "SELECT * FROM users WHERE id = 5",
              StatementKind.READ,
              "SELECT",
              "public.users",
              List.of("*", "id")),
          new Template(
              "select email, name from public.users where email like '%@corp.example'",
              StatementKind.READ, "SELECT", "public.users", List.of("email", "name")),
          new Template(
              "DELETE FROM orders WHERE created < now() - interval '1 year'",
              StatementKind.WRITE,
              "DELETE",
              "public.orders",
              List.of("created")),
          new Template(
              "UPDATE hr.salaries SET amount = amount * 1.1",
              StatementKind.WRITE,
              "UPDATE",
              "hr.salaries",
              List.of("amount")),
          new Template(
              "DROP TABLE audit.users", StatementKind.DDL, "DROP TABLE", "audit.users", List.of()),
          new Template(
              "INSERT INTO orders (id, total) VALUES (1, 9.99)",
              StatementKind.WRITE,
              "INSERT",
              "public.orders",
              List.of("id", "total")),
          new Template(
              "SELECT 'Ünïcode Café' AS greeting FROM users",
              StatementKind.READ,
              "SELECT",
              "users",
              List.of()),
          new Template(
              "CREATE INDEX ON users (email)",
              StatementKind.DDL,
              "CREATE INDEX",
              "users",
              List.of("email")),
          new Template("SELECT 1", StatementKind.READ, "SELECT", "", List.of()),
          new Template(
              "delete from public.users where id = 7 -- 100% sure_",
              StatementKind.WRITE, "DELETE", "public.users", List.of("id")));

  static final List<String> USERS = List.of("alice", "bob", "carol", "dave@corp.example");
  static final List<String> APPLICATIONS = List.of("psql", "DBeaver 24", "", "metabase");
  static final List<String> EVENTS =
      List.of("connect", "authenticate", "disconnect", "policy-reload", "audit-search");

  /**
   * Two logs ({@code log-warden-a}, {@code log-warden-b}) of {@code perLog} records each: sessions
   * of the same ids in both, intents, outcomes arriving in any order, intents without outcome,
   * outcomes without intent, repeated session ids after a "restart", events, equal times.
   */
  public static Map<String, List<ChainedRecord>> randomLogs(long seed, int perLog) {
    Random r = new Random(seed);
    Map<String, List<ChainedRecord>> logs = new LinkedHashMap<>();
    for (String instance : List.of("warden-a", "warden-b")) {
      Writer w = new Writer(instance);
      Map<String, SessionContext> sessions = new HashMap<>();
      Map<String, Long> numbers = new HashMap<>();
      List<long[]> pending = new ArrayList<>();
      List<String> pendingSession = new ArrayList<>();
      Instant t = NOW.minus(Duration.ofDays(3));
      int count = 0;
      while (count < perLog) {
        t = t.plusSeconds(r.nextInt(4) == 0 ? 0 : r.nextInt(900));
        Instant time = t.minusMillis(r.nextInt(3) == 0 ? r.nextInt(2000) : 0);
        String sessionId = "s" + (1 + r.nextInt(6));
        SessionContext s =
            sessions.computeIfAbsent(
                sessionId,
                id ->
                    session(
                        id,
                        USERS.get(r.nextInt(USERS.size())),
                        r.nextBoolean() ? "production" : "staging",
                        APPLICATIONS.get(r.nextInt(APPLICATIONS.size()))));
        int roll = r.nextInt(100);
        if (roll < 10) {
          w.add(
              event(
                  time,
                  EVENTS.get(r.nextInt(EVENTS.size())),
                  r.nextInt(5) == 0 ? "" : s.identity().name(),
                  r.nextBoolean() ? Optional.of(s) : Optional.empty()));
        } else if (roll < 55) {
          long n = numbers.merge(sessionId, 1L, Long::sum);
          Template tpl = TEMPLATES.get(r.nextInt(TEMPLATES.size()));
          Statement st = statement(tpl.kind(), tpl.command(), tpl.table(), tpl.columns());
          int v = r.nextInt(10);
          Decision d =
              v < 7
                  ? allow(st)
                  : v < 9
                      ? deny(
                          st,
                          r.nextBoolean() ? "no-drop" : "prod-guard",
                          r.nextBoolean() ? "42501" : "0A000")
                      : observed(st, "observe");
          w.add(intent(time, s, n, tpl.text(), d));
          pending.add(new long[] {n});
          pendingSession.add(sessionId);
        } else if (roll < 92 && !pending.isEmpty()) {
          int i = r.nextInt(pending.size());
          long n = pending.remove(i)[0];
          String sid = pendingSession.remove(i);
          w.add(randomOutcome(r, time, sid, n));
        } else if (roll < 95) {
          // An outcome no intent precedes (or a second outcome of an intent).
          w.add(randomOutcome(r, time, "s" + (1 + r.nextInt(8)), 1 + r.nextInt(4)));
        } else if (roll < 97) {
          numbers.clear(); // a restart: session ids and statement numbers repeat
          pending.clear();
          pendingSession.clear();
          sessions.clear();
          continue;
        } else {
          w.addRaw(
              ("{\"event\":\"torn-tail-removed\",\"after\":" + count + "}")
                  .getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
        count++;
      }
      logs.put("log-" + instance, w.chain("log-" + instance));
    }
    return logs;
  }

  private static StatementOutcome randomOutcome(Random r, Instant time, String session, long n) {
    int s = r.nextInt(20);
    StatementOutcome.Status status =
        s < 13
            ? StatementOutcome.Status.OK
            : s < 16
                ? StatementOutcome.Status.ERROR
                : s < 17
                    ? StatementOutcome.Status.REFUSED
                    : s < 18 ? StatementOutcome.Status.NOT_RUN : StatementOutcome.Status.UNKNOWN;
    OptionalLong rows =
        status == StatementOutcome.Status.OK
            ? OptionalLong.of(r.nextInt(5) == 0 ? r.nextInt(5000) : r.nextInt(120))
            : OptionalLong.empty();
    String sqlState =
        status == StatementOutcome.Status.ERROR ? (r.nextBoolean() ? "57014" : "23505") : "";
    return outcome(
        time.plusMillis(r.nextInt(3000)),
        session,
        n,
        status,
        rows,
        Duration.ofNanos(r.nextLong(3_000_000_000L)),
        sqlState);
  }
}
