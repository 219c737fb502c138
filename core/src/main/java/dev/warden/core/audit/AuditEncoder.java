package dev.warden.core.audit;

import dev.warden.core.gate.Decision;
import dev.warden.core.gate.SessionContext;
import dev.warden.core.gate.StatementPath;
import dev.warden.core.gate.Verdict;
import dev.warden.core.statement.Analysis;
import dev.warden.core.statement.ColumnRef;
import dev.warden.core.statement.Statement;
import dev.warden.core.statement.StatementFlag;
import dev.warden.core.statement.TableRef;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;
import java.util.function.Function;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Turns {@link AuditRecord}s into the canonical JSON payloads the trail chains and stores (the
 * field names are documented in {@code docs/audit.md}; searches and exports read them).
 *
 * <p>Statement text passes through the {@link Redactor} first. When it changed anything, the record
 * keeps {@code text_hmac}, an HMAC-SHA-256 of the original text under the audit key, so an
 * investigator holding a suspected statement can confirm it was the one run without the trail
 * storing its secrets; a plain hash would let low-entropy secrets be guessed.
 *
 * <p>Two ways to the same bytes. {@link #fields} builds a record's fields as a map, and {@code
 * CanonicalJson.encode(fields(record))} is the reference encoding. {@link #encode} runs for every
 * record on the audit writer (twice per statement), so it writes the same bytes without the map:
 * each record type's keys in their canonical order straight into a byte array, and the parts that
 * repeat copied from caches by identity: a session's fields (one {@code SessionContext} per
 * session) and a statement's facts (the analysis cache hands out one {@code Analysis} per statement
 * shape), each encoded once by the reference path. A field added to {@link #fields} must be added
 * to the writer in its sorted place too; {@code AuditEncoderEquivalenceTest} compares the two over
 * thousands of random records.
 *
 * <p>Thread-safe; called on the audit writer, not on event loops.
 */
public final class AuditEncoder {
  private static final DateTimeFormatter TIME =
      DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSSSSS'Z'", Locale.ROOT)
          .withZone(ZoneOffset.UTC);

  // Every key a record can have, in the order RFC 8785 sorts them (see encodeIntent and the rest).
  private static final byte[] K_APPLICATION = key("application");
  private static final byte[] K_AUTH = key("auth");
  private static final byte[] K_CLIENT = key("client");
  private static final byte[] K_COLUMNS = key("columns");
  private static final byte[] K_DATABASE = key("database");
  private static final byte[] K_DETAILS = key("details");
  private static final byte[] K_DURABILITY = key("durability");
  private static final byte[] K_DURATION_US = key("duration_us");
  private static final byte[] K_ENV = key("env");
  private static final byte[] K_EVENT = key("event");
  private static final byte[] K_FINGERPRINT = key("fingerprint");
  private static final byte[] K_GROUPS = key("groups");
  private static final byte[] K_AUTH_ON_BEHALF_OF = key("auth_on_behalf_of");
  private static final byte[] K_INSTANCE = key("instance");
  private static final byte[] K_KINDS = key("kinds");
  private static final byte[] K_MASKED = key("masked");
  private static final byte[] K_MASKED_VALUES = key("masked_values");
  private static final byte[] K_PARAMETERS = key("parameters");
  private static final byte[] K_PATH = key("path");
  private static final byte[] K_PREPARED = key("prepared");
  private static final byte[] K_REASON = key("reason");
  private static final byte[] K_ROW_LIMIT = key("row_limit");
  private static final byte[] K_ROWS = key("rows");
  private static final byte[] K_RULE = key("rule");
  private static final byte[] K_SESSION = key("session");
  private static final byte[] K_SQLSTATE = key("sqlstate");
  private static final byte[] K_STATEMENTS = key("statements");
  private static final byte[] K_STATUS = key("status");
  private static final byte[] K_STMT = key("stmt");
  private static final byte[] K_SUCCESS = key("success");
  private static final byte[] K_TABLES = key("tables");
  private static final byte[] K_TAG = key("tag");
  private static final byte[] K_TEXT = key("text");
  private static final byte[] K_TEXT_HMAC = key("text_hmac");
  private static final byte[] K_TIME = key("time");
  private static final byte[] K_USER = key("user");
  private static final byte[] REDACTED = ",\"redacted\":true".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] TYPE_INTENT =
      ",\"type\":\"intent\"".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] TYPE_OUTCOME =
      ",\"type\":\"outcome\"".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] TYPE_EVENT =
      ",\"type\":\"event\"".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] VERDICT_ALLOWED =
      ",\"verdict\":\"allowed\"".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] VERDICT_DENIED =
      ",\"verdict\":\"denied\"".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] VERDICT_OBSERVED =
      ",\"verdict\":\"observed\"".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] TRUE = {'t', 'r', 'u', 'e'};
  private static final byte[] FALSE = {'f', 'a', 'l', 's', 'e'};
  private static final byte[][] PATHS = fields(K_PATH, StatementPath.values());
  private static final byte[][] DURABILITIES = fields(K_DURABILITY, Durability.values());
  private static final byte[][] STATUSES = fields(K_STATUS, StatementOutcome.Status.values());

  /** A time value with its quotes: {@code "2026-11-28T09:15:30.123456Z"}. */
  private static final int TIME_JSON = 29;

  /** A {@code text_hmac} value with its quotes: 64 hex digits. */
  private static final int HMAC_JSON = 66;

  /** The bytes every intent has beside its cached fields: braces, keys, time and type. */
  private static final int INTENT_FIXED =
      1 // '{' and '}', less the first field's comma
          + TIME_JSON
          + length(K_RULE, K_STMT, K_TEXT, K_TIME, TYPE_INTENT);

  /** The bytes every outcome has beside its cached fields: braces, keys, brackets, time, type. */
  private static final int OUTCOME_FIXED =
      1 // '{' and '}', less the first field's comma
          + 2 // the masked columns' brackets
          + TIME_JSON
          + length(K_DURATION_US, K_MASKED, K_SESSION, K_STMT, K_TIME, TYPE_OUTCOME);

  /**
   * Slots of the caches of encoded sessions and statement facts: enough for the sessions and
   * statement shapes active at once on a busy instance; a miss costs one encoding of the map.
   */
  private static final int CACHE_SLOTS = 1024;

  private final String instance;
  private final byte[] instanceField;
  private final Redactor redactor;
  private final SecretKeySpec hmacKey;
  private final IdentityCache<SessionContext, SessionJson> sessions;
  private final IdentityCache<Analysis, AnalysisJson> analyses;

  /**
   * @param instance this Warden instance's name, stored in every record
   * @param redactor removes secrets from statement text
   * @param hmacKey the audit key for {@code text_hmac} (at least 32 bytes)
   */
  public AuditEncoder(String instance, Redactor redactor, byte[] hmacKey) {
    this(instance, redactor, hmacKey, CACHE_SLOTS);
  }

  /** With {@code cacheSlots} slots per cache (a power of two): tests make them collide. */
  AuditEncoder(String instance, Redactor redactor, byte[] hmacKey, int cacheSlots) {
    this.sessions = new IdentityCache<>(cacheSlots);
    this.analyses = new IdentityCache<>(cacheSlots);
    this.instance = Objects.requireNonNull(instance, "instance");
    this.instanceField = field(K_INSTANCE, JsonBytes.quoted(instance));
    this.redactor = Objects.requireNonNull(redactor, "redactor");
    if (hmacKey.length < 32) {
      throw new IllegalArgumentException("the audit HMAC key needs at least 32 bytes");
    }
    this.hmacKey = new SecretKeySpec(hmacKey.clone(), "HmacSHA256");
  }

  /** The time format of every record's {@code time} field: UTC, microseconds, fixed width. */
  public static String formatTime(Instant time) {
    return TIME.format(time);
  }

  /**
   * The record's payload: {@code CanonicalJson.encode(fields(record))}, byte for byte, written
   * without building the map (see the class comment).
   */
  public byte[] encode(AuditRecord record) {
    return switch (record) {
      case StatementIntent i -> encodeIntent(i);
      case StatementOutcome o -> encodeOutcome(o);
      case AuditEvent e -> encodeEvent(e);
    };
  }

  /** The record's fields, as {@link #encode} writes them: the reference for what a record holds. */
  public Map<String, Object> fields(AuditRecord record) {
    Map<String, Object> f = new LinkedHashMap<>();
    f.put("time", formatTime(record.time()));
    f.put("instance", instance);
    switch (record) {
      case StatementIntent i -> intent(f, i);
      case StatementOutcome o -> outcome(f, o);
      case AuditEvent e -> event(f, e);
    }
    return f;
  }

  private void intent(Map<String, Object> f, StatementIntent i) {
    f.put("type", "intent");
    session(f, i.session());
    f.put("stmt", i.number());
    f.put("path", lower(i.path()));
    String text = redactor.redact(i.text(), i.lexical());
    f.put("text", text);
    if (!text.equals(i.text())) {
      f.put("redacted", true);
      f.put("text_hmac", hmac(i.text()));
    }
    if (!i.preparedName().isEmpty()) {
      f.put("prepared", i.preparedName());
    }
    if (!i.parameters().isEmpty()) {
      f.put("parameters", i.parameters());
    }
    Decision d = i.decision();
    analysis(f, d.analysis());
    if (d.verdict() instanceof Verdict.Deny deny) {
      f.put("verdict", "denied");
      f.put("sqlstate", deny.sqlState());
      f.put("reason", deny.message());
    } else {
      f.put("verdict", d.observed() ? "observed" : "allowed");
    }
    f.put("rule", d.rule());
    if (d.rowLimit().isPresent()) {
      f.put("row_limit", d.rowLimit().getAsLong());
    }
    f.put("durability", lower(i.durability()));
  }

  /** The statement facts: what {@link AnalysisJson} holds encoded. */
  private static void analysis(Map<String, Object> f, Analysis a) {
    f.put("fingerprint", a.fingerprint());
    List<Object> statements = new ArrayList<>();
    TreeSet<String> kinds = new TreeSet<>();
    TreeSet<String> tables = new TreeSet<>();
    TreeSet<String> columns = new TreeSet<>();
    for (Statement s : a.statements()) {
      statements.add(statement(s));
      kinds.add(lower(s.kind()));
      add(tables, s.tablesRead(), TableRef::qualifiedName);
      add(tables, s.tablesWritten(), TableRef::qualifiedName);
      add(columns, s.columnsRead(), ColumnRef::toString);
      add(columns, s.columnsWritten(), ColumnRef::toString);
    }
    f.put("statements", statements);
    f.put("kinds", List.copyOf(kinds));
    f.put("tables", List.copyOf(tables));
    f.put("columns", List.copyOf(columns));
  }

  private static Map<String, Object> statement(Statement s) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("kind", lower(s.kind()));
    m.put("command", s.command());
    m.put("tables_read", sorted(s.tablesRead(), TableRef::qualifiedName));
    m.put("tables_written", sorted(s.tablesWritten(), TableRef::qualifiedName));
    m.put("columns_read", sorted(s.columnsRead(), ColumnRef::toString));
    m.put("columns_written", sorted(s.columnsWritten(), ColumnRef::toString));
    m.put("functions", sorted(s.functions(), Function.identity()));
    m.put("flags", sorted(s.flags(), (StatementFlag flag) -> lower(flag)));
    if (!s.unknownReason().isEmpty()) {
      m.put("unknown_reason", s.unknownReason());
    }
    return m;
  }

  private static void outcome(Map<String, Object> f, StatementOutcome o) {
    f.put("type", "outcome");
    f.put("session", o.sessionId());
    f.put("stmt", o.number());
    f.put("status", lower(o.status()));
    if (o.rows().isPresent()) {
      f.put("rows", o.rows().getAsLong());
    }
    if (!o.commandTag().isEmpty()) {
      f.put("tag", o.commandTag());
    }
    f.put("duration_us", o.durationNanos() / 1000);
    if (!o.sqlState().isEmpty()) {
      f.put("sqlstate", o.sqlState());
    }
    f.put("masked", o.maskedColumns());
    if (o.maskedValues() > 0) {
      f.put("masked_values", o.maskedValues());
    }
  }

  private static void event(Map<String, Object> f, AuditEvent e) {
    f.put("type", "event");
    f.put("event", e.name());
    f.put("success", e.success());
    if (!e.actor().isEmpty()) {
      f.put("user", e.actor());
    }
    e.session().ifPresent(s -> session(f, s));
    if (!e.details().isEmpty()) {
      f.put("details", Map.copyOf(e.details()));
    }
  }

  private static void session(Map<String, Object> f, SessionContext s) {
    f.put("session", s.id());
    f.put("user", s.identity().name());
    f.put("groups", List.copyOf(new TreeSet<>(s.identity().groups())));
    f.put("auth", lower(s.identity().method()));
    s.identity().onBehalfOf().ifPresent(p -> f.put("auth_on_behalf_of", p));
    f.put("env", s.environment().name());
    f.put("database", s.database());
    f.put("client", s.clientAddress());
    f.put("application", s.applicationName());
  }

  private byte[] encodeIntent(StatementIntent i) {
    SessionJson s = sessions.get(i.session(), AuditEncoder::sessionJson);
    Decision d = i.decision();
    AnalysisJson a = analyses.get(d.analysis(), AuditEncoder::analysisJson);
    String text = redactor.redact(i.text(), i.lexical());
    boolean redacted = !text.equals(i.text());
    Verdict.Deny deny = d.verdict() instanceof Verdict.Deny denied ? denied : null;
    byte[] verdict =
        deny != null ? VERDICT_DENIED : d.observed() ? VERDICT_OBSERVED : VERDICT_ALLOWED;
    // The exact size when the strings written here are plain ASCII, as they nearly always are:
    // then the array is the record, with no copy.
    int size =
        INTENT_FIXED
            + s.length()
            + a.length()
            + instanceField.length
            + DURABILITIES[i.durability().ordinal()].length
            + PATHS[i.path().ordinal()].length
            + JsonBytes.plainLength(text)
            + JsonBytes.plainLength(d.rule())
            + JsonBytes.numberLength(i.number())
            + verdict.length
            + (i.preparedName().isEmpty()
                ? 0
                : K_PREPARED.length + JsonBytes.plainLength(i.preparedName()))
            + (deny == null
                ? 0
                : K_REASON.length
                    + JsonBytes.plainLength(deny.message())
                    + K_SQLSTATE.length
                    + JsonBytes.plainLength(deny.sqlState()))
            + (redacted ? REDACTED.length + K_TEXT_HMAC.length + HMAC_JSON : 0)
            + (d.rowLimit().isPresent()
                ? K_ROW_LIMIT.length + JsonBytes.numberLength(d.rowLimit().getAsLong())
                : 0);
    JsonBytes w = new JsonBytes(size);
    w.ascii('{');
    w.raw(s.application(), 1);
    w.raw(s.auth());
    w.raw(s.client());
    w.raw(a.columns());
    w.raw(s.database());
    w.raw(DURABILITIES[i.durability().ordinal()]);
    w.raw(s.env());
    w.raw(a.fingerprint());
    w.raw(s.groups());
    w.raw(instanceField);
    w.raw(a.kinds());
    if (!i.parameters().isEmpty()) {
      w.raw(K_PARAMETERS);
      w.ascii('[');
      boolean first = true;
      for (String value : i.parameters()) {
        if (!first) {
          w.ascii(',');
        }
        first = false;
        if (value == null) {
          w.raw(NULL);
        } else {
          w.string(value);
        }
      }
      w.ascii(']');
    }
    w.raw(PATHS[i.path().ordinal()]);
    if (!i.preparedName().isEmpty()) {
      w.raw(K_PREPARED);
      w.string(i.preparedName());
    }
    if (deny != null) {
      w.raw(K_REASON);
      w.string(deny.message());
    }
    if (redacted) {
      w.raw(REDACTED);
    }
    if (d.rowLimit().isPresent()) {
      w.raw(K_ROW_LIMIT);
      w.number(d.rowLimit().getAsLong());
    }
    w.raw(K_RULE);
    w.string(d.rule());
    w.raw(s.session());
    if (deny != null) {
      w.raw(K_SQLSTATE);
      w.string(deny.sqlState());
    }
    w.raw(a.statements());
    w.raw(K_STMT);
    w.number(i.number());
    w.raw(a.tables());
    w.raw(K_TEXT);
    w.string(text);
    if (redacted) {
      w.raw(K_TEXT_HMAC);
      w.string(hmac(i.text()));
    }
    w.raw(K_TIME);
    time(w, i.time());
    w.raw(TYPE_INTENT);
    w.raw(s.user());
    w.raw(verdict);
    w.ascii('}');
    return w.toByteArray();
  }

  private byte[] encodeOutcome(StatementOutcome o) {
    int masked = Math.max(0, o.maskedColumns().size() - 1);
    for (String column : o.maskedColumns()) {
      masked += JsonBytes.plainLength(column);
    }
    int size =
        OUTCOME_FIXED
            + JsonBytes.numberLength(o.durationNanos() / 1000)
            + instanceField.length
            + masked
            + JsonBytes.plainLength(o.sessionId())
            + STATUSES[o.status().ordinal()].length
            + JsonBytes.numberLength(o.number())
            + (o.rows().isPresent()
                ? K_ROWS.length + JsonBytes.numberLength(o.rows().getAsLong())
                : 0)
            + (o.maskedValues() > 0
                ? K_MASKED_VALUES.length + JsonBytes.numberLength(o.maskedValues())
                : 0)
            + (o.sqlState().isEmpty() ? 0 : K_SQLSTATE.length + JsonBytes.plainLength(o.sqlState()))
            + (o.commandTag().isEmpty() ? 0 : K_TAG.length + JsonBytes.plainLength(o.commandTag()));
    JsonBytes w = new JsonBytes(size);
    w.ascii('{');
    w.raw(K_DURATION_US, 1);
    w.number(o.durationNanos() / 1000);
    w.raw(instanceField);
    w.raw(K_MASKED);
    w.ascii('[');
    for (int n = 0; n < o.maskedColumns().size(); n++) {
      if (n > 0) {
        w.ascii(',');
      }
      w.string(o.maskedColumns().get(n));
    }
    w.ascii(']');
    if (o.maskedValues() > 0) {
      w.raw(K_MASKED_VALUES);
      w.number(o.maskedValues());
    }
    if (o.rows().isPresent()) {
      w.raw(K_ROWS);
      w.number(o.rows().getAsLong());
    }
    w.raw(K_SESSION);
    w.string(o.sessionId());
    if (!o.sqlState().isEmpty()) {
      w.raw(K_SQLSTATE);
      w.string(o.sqlState());
    }
    w.raw(STATUSES[o.status().ordinal()]);
    w.raw(K_STMT);
    w.number(o.number());
    if (!o.commandTag().isEmpty()) {
      w.raw(K_TAG);
      w.string(o.commandTag());
    }
    w.raw(K_TIME);
    time(w, o.time());
    w.raw(TYPE_OUTCOME);
    w.ascii('}');
    return w.toByteArray();
  }

  private byte[] encodeEvent(AuditEvent e) {
    SessionJson s = e.session().map(c -> sessions.get(c, AuditEncoder::sessionJson)).orElse(null);
    JsonBytes w = new JsonBytes(256 + (s == null ? 0 : s.length()) + 32 * e.details().size());
    w.ascii('{');
    // The first key present goes without its comma: application with a session, else details or
    // event.
    if (s != null) {
      w.raw(s.application(), 1);
      w.raw(s.auth());
      w.raw(s.client());
      w.raw(s.database());
    }
    if (!e.details().isEmpty()) {
      w.raw(K_DETAILS, s == null ? 1 : 0);
      CanonicalJson.write(w, e.details());
    }
    if (s != null) {
      w.raw(s.env());
    }
    w.raw(K_EVENT, s == null && e.details().isEmpty() ? 1 : 0);
    w.string(e.name());
    if (s != null) {
      w.raw(s.groups());
    }
    w.raw(instanceField);
    if (s != null) {
      w.raw(s.session());
    }
    w.raw(K_SUCCESS);
    w.raw(e.success() ? TRUE : FALSE);
    w.raw(K_TIME);
    time(w, e.time());
    w.raw(TYPE_EVENT);
    // A session's identity is the user; without one, the actor, when known.
    if (s != null) {
      w.raw(s.user());
    } else if (!e.actor().isEmpty()) {
      w.raw(K_USER);
      w.string(e.actor());
    }
    w.ascii('}');
    return w.toByteArray();
  }

  /**
   * Writes {@code time} as {@link #formatTime} does, quoted, without a formatter: the civil date
   * from the epoch day (H. Hinnant's algorithm). Years outside 0000-9999, which the format writes
   * with a sign, take the formatter.
   */
  private static void time(JsonBytes w, Instant time) {
    long seconds = time.getEpochSecond();
    long z = Math.floorDiv(seconds, 86_400) + 719_468;
    int ofDay = Math.floorMod(seconds, 86_400);
    long era = Math.floorDiv(z, 146_097);
    long dayOfEra = z - era * 146_097;
    long yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365;
    long dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100);
    long mp = (5 * dayOfYear + 2) / 153;
    long day = dayOfYear - (153 * mp + 2) / 5 + 1;
    long month = mp < 10 ? mp + 3 : mp - 9;
    long year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
    if (year < 0 || year > 9999) {
      w.string(formatTime(time));
      return;
    }
    w.time((int) year, (int) month, (int) day, ofDay, time.getNano() / 1000);
  }

  /**
   * A session's fields, each encoded with its key and the comma before it ({@code ,"env":"prod"}):
   * the same for all of its records.
   */
  private record SessionJson(
      byte[] application,
      byte[] auth,
      byte[] client,
      byte[] database,
      byte[] env,
      byte[] groups,
      byte[] session,
      byte[] user,
      int length) {}

  private static SessionJson sessionJson(SessionContext context) {
    Map<String, Object> f = new LinkedHashMap<>();
    session(f, context);
    byte[] application = field(K_APPLICATION, encoded(f, "application"));
    // The person a service token acts for sorts right after auth, so it travels with it.
    byte[] auth = field(K_AUTH, encoded(f, "auth"));
    if (f.containsKey("auth_on_behalf_of")) {
      byte[] behalf = field(K_AUTH_ON_BEHALF_OF, encoded(f, "auth_on_behalf_of"));
      byte[] both = Arrays.copyOf(auth, auth.length + behalf.length);
      System.arraycopy(behalf, 0, both, auth.length, behalf.length);
      auth = both;
    }
    byte[] client = field(K_CLIENT, encoded(f, "client"));
    byte[] database = field(K_DATABASE, encoded(f, "database"));
    byte[] env = field(K_ENV, encoded(f, "env"));
    byte[] groups = field(K_GROUPS, encoded(f, "groups"));
    byte[] session = field(K_SESSION, encoded(f, "session"));
    byte[] user = field(K_USER, encoded(f, "user"));
    return new SessionJson(
        application,
        auth,
        client,
        database,
        env,
        groups,
        session,
        user,
        application.length
            + auth.length
            + client.length
            + database.length
            + env.length
            + groups.length
            + session.length
            + user.length);
  }

  /**
   * A statement's facts, each encoded with its key and the comma before it: the same for every
   * record of the same statement shape, which the analysis cache gives the same {@link Analysis}
   * instance.
   */
  private record AnalysisJson(
      byte[] columns, byte[] fingerprint, byte[] kinds, byte[] statements, byte[] tables) {
    int length() {
      return columns.length + fingerprint.length + kinds.length + statements.length + tables.length;
    }
  }

  private static AnalysisJson analysisJson(Analysis analysis) {
    Map<String, Object> f = new LinkedHashMap<>();
    analysis(f, analysis);
    return new AnalysisJson(
        field(K_COLUMNS, encoded(f, "columns")),
        field(K_FINGERPRINT, encoded(f, "fingerprint")),
        field(K_KINDS, encoded(f, "kinds")),
        field(K_STATEMENTS, encoded(f, "statements")),
        field(K_TABLES, encoded(f, "tables")));
  }

  private static byte[] encoded(Map<String, Object> fields, String name) {
    return CanonicalJson.encode(fields.get(name));
  }

  /** {@code "name":} with the comma before it; the first key of a record is written without. */
  private static final byte[] NULL = "null".getBytes(StandardCharsets.US_ASCII);

  private static byte[] key(String name) {
    return (",\"" + name + "\":").getBytes(StandardCharsets.US_ASCII);
  }

  private static int length(byte[]... parts) {
    int n = 0;
    for (byte[] p : parts) {
      n += p.length;
    }
    return n;
  }

  /** {@code key} and {@code value}: {@code ,"key":value}. */
  private static byte[] field(byte[] key, byte[] value) {
    byte[] f = Arrays.copyOf(key, key.length + value.length);
    System.arraycopy(value, 0, f, key.length, value.length);
    return f;
  }

  /** The field {@code key} for each of an enum's values, by ordinal. */
  private static byte[][] fields(byte[] key, Enum<?>[] values) {
    byte[][] out = new byte[values.length][];
    for (Enum<?> v : values) {
      out[v.ordinal()] = field(key, JsonBytes.quoted(lower(v)));
    }
    return out;
  }

  private String hmac(String text) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(hmacKey);
      return HexFormat.of().formatHex(mac.doFinal(text.getBytes(StandardCharsets.UTF_8)));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("the JDK has no HmacSHA256", e);
    }
  }

  private static <T> void add(TreeSet<String> into, Collection<T> from, Function<T, String> name) {
    for (T t : from) {
      into.add(name.apply(t));
    }
  }

  private static <T> List<String> sorted(Collection<T> from, Function<T, String> name) {
    TreeSet<String> out = new TreeSet<>();
    add(out, from, name);
    return List.copyOf(out);
  }

  private static String lower(Enum<?> e) {
    return e.name().toLowerCase(Locale.ROOT).replace('_', '-');
  }
}
