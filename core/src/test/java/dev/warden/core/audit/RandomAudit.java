package dev.warden.core.audit;

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
import dev.warden.core.statement.StatementFlag;
import dev.warden.core.statement.StatementKind;
import dev.warden.core.statement.TableRef;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Random;
import java.util.Set;

/**
 * Random strings, JSON values and audit records from a seeded {@link Random}, reaching every branch
 * of the encoders: quotes, backslashes, every control character, DEL, two- and three-byte UTF-8,
 * characters in U+E000–U+FFFF and surrogate pairs (the two disagree on key order by code point and
 * by code unit), unpaired surrogates, empty strings; every record type with optional fields absent
 * and present; denied, allowed and observed decisions; times before 1970 and beyond year 9999.
 *
 * <p>Sessions and analyses are drawn from small pools half of the time, as the proxy hands out the
 * same instances again, so that the encoder's caches are hit as well as missed.
 */
final class RandomAudit {
  /** A redactor that changes texts holding {@code pw}, so that some records are redacted. */
  static final Redactor REDACTOR =
      (sql, lexical) -> sql.contains("pw") ? sql.replace("pw", "**") : sql;

  private static final String[] PIECES = {
    "a",
    "Z",
    "users",
    "public",
    " ",
    "SELECT * FROM t WHERE x = 1",
    "pw",
    "\"",
    "\\",
    "\\\"",
    "'",
    "/",
    "\u007f",
    "é",
    "ß",
    "\u00ff",
    "\u0100",
    "✓",
    "中文",
    "\u0800",
    "\uffff",
    "\ue000",
    "\ufeff",
    "\ud83d\ude00",
    "\udbff\udfff",
    "\ud800\udc00",
    "\ud800",
    "\udc00",
    "\ud83d",
    "\ude00",
    "\u2028",
    "{",
    "}",
    ":",
    ",",
    "[",
    "]",
    "null",
    "0",
    "-1",
  };

  private final Random random;
  private final List<SessionContext> sessions = new ArrayList<>();
  private final List<Analysis> analyses = new ArrayList<>();

  RandomAudit(long seed) {
    this.random = new Random(seed);
    for (int i = 0; i < 8; i++) {
      sessions.add(freshSession());
      analyses.add(freshAnalysis());
    }
  }

  Random random() {
    return random;
  }

  /** A string of up to {@code max} pieces: ASCII runs, specials, control characters, non-ASCII. */
  String string(int max) {
    int n = random.nextInt(max + 1);
    StringBuilder s = new StringBuilder();
    for (int i = 0; i < n; i++) {
      int pick = random.nextInt(10);
      if (pick == 0) {
        s.append((char) random.nextInt(0x20));
      } else if (pick == 1) {
        s.append((char) random.nextInt(0x10000));
      } else if (pick == 2) {
        s.appendCodePoint(0x10000 + random.nextInt(0x100000));
      } else {
        s.append(PIECES[random.nextInt(PIECES.length)]);
      }
    }
    return s.toString();
  }

  /** A JSON value of {@link CanonicalJson}'s domain, nested up to {@code depth}. */
  Object value(int depth) {
    int pick = random.nextInt(depth > 0 ? 9 : 6);
    return switch (pick) {
      case 0 -> null;
      case 1 -> random.nextBoolean();
      case 2 -> longValue();
      case 3 -> random.nextBoolean() ? random.nextInt() : random.nextInt(-5, 5);
      case 4, 5 -> string(6);
      case 6 -> {
        List<Object> list = new ArrayList<>();
        int n = random.nextInt(4);
        for (int i = 0; i < n; i++) {
          list.add(value(depth - 1));
        }
        yield list;
      }
      default -> {
        Map<String, Object> map = random.nextBoolean() ? new HashMap<>() : new LinkedHashMap<>();
        int n = random.nextInt(5);
        for (int i = 0; i < n; i++) {
          map.put(string(3), value(depth - 1));
        }
        yield map;
      }
    };
  }

  long longValue() {
    return switch (random.nextInt(6)) {
      case 0 -> Long.MIN_VALUE;
      case 1 -> Long.MAX_VALUE;
      case 2 -> 0;
      case 3 -> random.nextInt(-1000, 1000);
      default -> random.nextLong();
    };
  }

  /** A record of any type. */
  AuditRecord record() {
    return switch (random.nextInt(5)) {
      case 0, 1 -> intent();
      case 2, 3 -> outcome();
      default -> event();
    };
  }

  StatementIntent intent() {
    Analysis analysis =
        random.nextBoolean() ? analyses.get(random.nextInt(analyses.size())) : freshAnalysis();
    Verdict verdict =
        random.nextInt(3) == 0
            ? new Verdict.Deny(fiveChars(), string(4), string(2))
            : Verdict.ALLOW;
    boolean limited = random.nextInt(4) == 0;
    Decision decision =
        new Decision(
            verdict,
            analysis,
            random.nextBoolean() ? "" : string(3),
            random.nextInt(3) == 0,
            limited ? OptionalLong.of(longValue()) : OptionalLong.empty(),
            limited ? new Verdict.Deny("54000", "too many rows", "") : null,
            random.nextInt(5),
            random.nextBoolean());
    return new StatementIntent(
        time(),
        session(),
        longValue(),
        StatementPath.values()[random.nextInt(StatementPath.values().length)],
        string(12),
        LexicalSettings.DEFAULT,
        random.nextBoolean() ? "" : string(2),
        decision,
        Durability.values()[random.nextInt(Durability.values().length)],
        parameters());
  }

  /** None most of the time; else a few values, NULL among them. */
  private List<String> parameters() {
    List<String> values = new ArrayList<>();
    if (random.nextInt(3) == 0) {
      int n = 1 + random.nextInt(3);
      for (int i = 0; i < n; i++) {
        values.add(random.nextInt(4) == 0 ? null : string(3));
      }
    }
    return values;
  }

  StatementOutcome outcome() {
    List<String> masked = new ArrayList<>();
    int n = random.nextInt(4);
    for (int i = 0; i < n; i++) {
      masked.add(string(3));
    }
    return new StatementOutcome(
        time(),
        random.nextBoolean() ? session().id() : string(3),
        longValue(),
        StatementOutcome.Status.values()[random.nextInt(StatementOutcome.Status.values().length)],
        random.nextBoolean() ? OptionalLong.of(longValue()) : OptionalLong.empty(),
        random.nextBoolean() ? "" : string(2),
        longValue(),
        random.nextBoolean() ? "" : fiveChars(),
        masked,
        masked.isEmpty() || random.nextBoolean() ? 0 : 1 + random.nextInt(100_000));
  }

  AuditEvent event() {
    Map<String, String> details = new HashMap<>();
    int n = random.nextInt(4);
    for (int i = 0; i < n; i++) {
      details.put(string(3), string(3));
    }
    return new AuditEvent(
        time(),
        string(2),
        random.nextBoolean(),
        random.nextBoolean() ? "" : string(2),
        random.nextBoolean() ? Optional.of(session()) : Optional.empty(),
        details);
  }

  /**
   * Mostly this century, sometimes anywhere a time can be written ({@link Instant#MIN} and {@link
   * Instant#MAX} lie beyond the dates the time format can write).
   */
  Instant time() {
    return switch (random.nextInt(8)) {
      case 0 -> Instant.ofEpochSecond(random.nextLong(-62_167_219_200L, 253_402_300_800L));
      case 1 ->
          Instant.ofEpochSecond(
              random.nextLong(
                  LocalDateTime.MIN.toEpochSecond(ZoneOffset.UTC),
                  LocalDateTime.MAX.toEpochSecond(ZoneOffset.UTC)),
              random.nextInt(1_000_000_000));
      case 2 -> Instant.ofEpochSecond(random.nextInt(-86_400 * 366, 86_400 * 366));
      default ->
          Instant.ofEpochSecond(
              random.nextLong(1_700_000_000L, 1_900_000_000L), random.nextInt(1_000_000_000));
    };
  }

  private SessionContext session() {
    return random.nextBoolean() ? sessions.get(random.nextInt(sessions.size())) : freshSession();
  }

  SessionContext freshSession() {
    Set<String> groups = new HashSet<>();
    int n = random.nextInt(4);
    for (int i = 0; i < n; i++) {
      groups.add(string(3));
    }
    Upstream upstream =
        new Upstream(
            "127.0.0.1",
            5432,
            Optional.empty(),
            "warden",
            Secret.of("not-recorded"),
            TlsMode.DISABLE,
            Optional.empty());
    return new SessionContext(
        string(3),
        new Identity(
            string(3),
            groups,
            AuthMethod.values()[random.nextInt(AuthMethod.values().length)],
            random.nextInt(4) == 0 ? java.util.Optional.of(string(3)) : java.util.Optional.empty(),
            java.util.Optional.empty()),
        new Environment(string(2), Set.of(), List.of(), upstream),
        string(2),
        string(2),
        random.nextBoolean() ? "" : string(2));
  }

  Analysis freshAnalysis() {
    List<Statement> statements = new ArrayList<>();
    int n = random.nextInt(4);
    for (int i = 0; i < n; i++) {
      statements.add(statement());
    }
    return new Analysis(statements, random.nextBoolean() ? "" : string(3));
  }

  private Statement statement() {
    StatementKind kind = StatementKind.values()[random.nextInt(StatementKind.values().length)];
    Set<StatementFlag> flags = EnumSet.noneOf(StatementFlag.class);
    for (StatementFlag f : StatementFlag.values()) {
      if (random.nextInt(6) == 0) {
        flags.add(f);
      }
    }
    Set<String> functions = new HashSet<>();
    for (int i = random.nextInt(3); i > 0; i--) {
      functions.add(string(2));
    }
    return new Statement(
        kind,
        string(2),
        tables(),
        tables(),
        columns(),
        columns(),
        functions,
        random.nextBoolean(),
        random.nextBoolean(),
        flags,
        kind == StatementKind.UNKNOWN || random.nextInt(4) == 0 ? "x" + string(3) : "",
        "",
        Optional.empty());
  }

  private Set<TableRef> tables() {
    Set<TableRef> tables = new HashSet<>();
    for (int i = random.nextInt(4); i > 0; i--) {
      tables.add(table());
    }
    return tables;
  }

  private TableRef table() {
    return new TableRef(random.nextBoolean() ? "" : string(2), string(2));
  }

  private Set<ColumnRef> columns() {
    Set<ColumnRef> columns = new HashSet<>();
    for (int i = random.nextInt(5); i > 0; i--) {
      columns.add(new ColumnRef(table(), random.nextInt(5) == 0 ? "*" : string(2)));
    }
    return columns;
  }

  private String fiveChars() {
    StringBuilder s = new StringBuilder();
    for (int i = 0; i < 5; i++) {
      s.append(random.nextInt(4) == 0 ? (char) random.nextInt(0x10000) : (char) ('0' + i));
    }
    return s.toString();
  }
}
