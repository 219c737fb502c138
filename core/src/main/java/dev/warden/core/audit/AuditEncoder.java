package dev.warden.core.audit;

import dev.warden.core.gate.Decision;
import dev.warden.core.gate.SessionContext;
import dev.warden.core.gate.Verdict;
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
 * <p>Thread-safe; called on the audit writer, not on event loops.
 */
public final class AuditEncoder {
  private static final DateTimeFormatter TIME =
      DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSSSSS'Z'", Locale.ROOT)
          .withZone(ZoneOffset.UTC);

  private final String instance;
  private final Redactor redactor;
  private final SecretKeySpec hmacKey;

  /**
   * @param instance this Warden instance's name, stored in every record
   * @param redactor removes secrets from statement text
   * @param hmacKey the audit key for {@code text_hmac} (at least 32 bytes)
   */
  public AuditEncoder(String instance, Redactor redactor, byte[] hmacKey) {
    this.instance = Objects.requireNonNull(instance, "instance");
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

  /** The record's payload. */
  public byte[] encode(AuditRecord record) {
    return CanonicalJson.encode(fields(record));
  }

  /** The record's fields, as {@link #encode} writes them. */
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
    Decision d = i.decision();
    f.put("fingerprint", d.analysis().fingerprint());
    List<Object> statements = new ArrayList<>();
    TreeSet<String> kinds = new TreeSet<>();
    TreeSet<String> tables = new TreeSet<>();
    TreeSet<String> columns = new TreeSet<>();
    for (Statement s : d.analysis().statements()) {
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
    f.put("env", s.environment().name());
    f.put("database", s.database());
    f.put("client", s.clientAddress());
    f.put("application", s.applicationName());
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
