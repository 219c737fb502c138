package dev.warden.core.audit.search;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * A search of the audit trail, as people write it ({@code docs/audit.md}): free words and quoted
 * phrases that statement text must contain, field filters, numeric comparisons and a time range,
 * all of which must hold.
 *
 * <pre>user:alice table:users kind:delete verdict:denied since:24h "where id ="</pre>
 *
 * <p>The query is parsed once, without a clock: relative times ({@code since:24h}) stay relative
 * until a search resolves them against its own injected clock ({@link #since(Instant)}). It carries
 * no SQL; each store translates it, and {@link #matches} is the reference both are tested against.
 *
 * @param source the text the query was parsed from, for the audit record of the search itself
 * @param texts what statement text must (or must not) contain
 * @param filters field filters
 * @param numbers comparisons of a statement's rows or duration
 * @param since the earliest time, inclusive
 * @param until the latest time, exclusive
 */
public record AuditQuery(
    String source,
    List<TextTerm> texts,
    List<FieldFilter> filters,
    List<NumberFilter> numbers,
    Optional<TimeBound> since,
    Optional<TimeBound> until) {
  public AuditQuery {
    Objects.requireNonNull(source, "source");
    texts = List.copyOf(texts);
    filters = List.copyOf(filters);
    numbers = List.copyOf(numbers);
    Objects.requireNonNull(since, "since");
    Objects.requireNonNull(until, "until");
  }

  /**
   * Reads a query.
   *
   * @throws AuditQueryException with the position and what was expected there
   */
  public static AuditQuery parse(String query) {
    return QueryParser.parse(query);
  }

  /** The query that matches everything. */
  public static AuditQuery all() {
    return new AuditQuery("", List.of(), List.of(), List.of(), Optional.empty(), Optional.empty());
  }

  /** The earliest time a result may have, with relative times counted back from {@code now}. */
  public Optional<Instant> since(Instant now) {
    return since.map(b -> b.resolve(now));
  }

  /** The time every result must be before, with relative times counted back from {@code now}. */
  public Optional<Instant> until(Instant now) {
    return until.map(b -> b.resolve(now));
  }

  /**
   * Whether a result matches: the meaning every {@link AuditSearch} implements, and a filter for
   * records as they are written ({@code warden audit tail --follow QUERY}).
   *
   * @param fields the record's fields, a statement's merged with its outcome ({@link
   *     AuditHit#merge})
   * @param time the record's time
   * @param now the time relative bounds are counted back from
   */
  public boolean matches(Map<String, Object> fields, Instant time, Instant now) {
    Optional<Instant> from = since(now);
    if (from.isPresent() && time.isBefore(from.get())) {
      return false;
    }
    Optional<Instant> to = until(now);
    if (to.isPresent() && !time.isBefore(to.get())) {
      return false;
    }
    String text = fields.get("text") instanceof String s ? fold(s) : "";
    for (TextTerm t : texts) {
      if (text.contains(fold(t.text())) == t.negated()) {
        return false;
      }
    }
    for (NumberFilter n : numbers) {
      if (!(fields.get(n.measure().key()) instanceof Number value)
          || !n.comparison().test(value.longValue(), n.value())) {
        return false;
      }
    }
    if (!filters.isEmpty()) {
      Set<String> terms = AuditTerms.of(fields);
      for (FieldFilter f : filters) {
        if (f.matches(terms) == f.negated()) {
          return false;
        }
      }
    }
    return true;
  }

  /**
   * How statement text and search words are compared: case-insensitively, as the embedded index's
   * trigram tokenizer and PostgreSQL's {@code ILIKE} compare them.
   */
  public static String fold(String s) {
    return s.toLowerCase(Locale.ROOT);
  }

  @Override
  public String toString() {
    return "AuditQuery[" + source + "]";
  }

  /** The fields a filter can name. */
  public enum Field {
    USER("user"),
    GROUP("group"),
    ENV("env"),
    DATABASE("database"),
    SESSION("session"),
    CLIENT("client"),
    APPLICATION("application"),
    KIND("kind"),
    TABLE("table"),
    COLUMN("column"),
    COMMAND("command"),
    VERDICT("verdict"),
    RULE("rule"),
    TYPE("type"),
    EVENT("event"),
    STATUS("status"),
    SQLSTATE("sqlstate"),
    INSTANCE("instance"),
    FINGERPRINT("fingerprint");

    private final String key;

    Field(String key) {
      this.key = key;
    }

    /** The field's name in queries and terms. */
    public String key() {
      return key;
    }

    static Optional<Field> named(String name) {
      for (Field f : values()) {
        if (f.key.equals(name)) {
          return Optional.of(f);
        }
      }
      return Optional.empty();
    }
  }

  /**
   * One term a field filter accepts.
   *
   * @param term an {@link AuditTerms} term ({@code field:value})
   * @param prefix true when the term is a prefix ({@code table:public.*})
   */
  public record Match(String term, boolean prefix) {
    public Match {
      Objects.requireNonNull(term, "term");
    }

    boolean matches(Set<String> terms) {
      if (!prefix) {
        return terms.contains(term);
      }
      for (String t : terms) {
        if (t.startsWith(term)) {
          return true;
        }
      }
      return false;
    }
  }

  /**
   * A field filter: the record must have one of {@code matches}' terms, or none when negated.
   *
   * @param field the field as written (for {@code kind:delete} still {@link Field#KIND}, though its
   *     term is a command's)
   * @param negated written with a leading {@code -}
   * @param matches the terms, any of which will do
   */
  public record FieldFilter(Field field, boolean negated, List<Match> matches) {
    public FieldFilter {
      Objects.requireNonNull(field, "field");
      matches = List.copyOf(matches);
      if (matches.isEmpty()) {
        throw new IllegalArgumentException("a field filter needs a value");
      }
    }

    boolean matches(Set<String> terms) {
      for (Match m : matches) {
        if (m.matches(terms)) {
          return true;
        }
      }
      return false;
    }
  }

  /**
   * A free word or quoted phrase that statement text must contain (case-insensitively), or must not
   * when negated. Events have no statement text.
   */
  public record TextTerm(String text, boolean negated) {
    public TextTerm {
      if (text.isEmpty()) {
        throw new IllegalArgumentException("a text term cannot be empty");
      }
    }
  }

  /** What a numeric comparison measures: a statement's outcome. */
  public enum Measure {
    /** Rows returned or affected ({@code rows>100}). */
    ROWS("rows", "rows"),
    /** Duration in microseconds ({@code duration>1s}). */
    DURATION("duration", "duration_us");

    private final String name;
    private final String key;

    Measure(String name, String key) {
      this.name = name;
      this.key = key;
    }

    /** The name in queries. */
    public String queryName() {
      return name;
    }

    /** The JSON field it compares. */
    public String key() {
      return key;
    }
  }

  /** A comparison operator. */
  public enum Comparison {
    LT("<"),
    LE("<="),
    GT(">"),
    GE(">="),
    EQ("=");

    private final String symbol;

    Comparison(String symbol) {
      this.symbol = symbol;
    }

    /** As written in queries and in SQL. */
    public String symbol() {
      return symbol;
    }

    /** Whether {@code actual} compares to {@code wanted} this way. */
    public boolean test(long actual, long wanted) {
      return switch (this) {
        case LT -> actual < wanted;
        case LE -> actual <= wanted;
        case GT -> actual > wanted;
        case GE -> actual >= wanted;
        case EQ -> actual == wanted;
      };
    }
  }

  /**
   * A comparison of a statement's outcome: only statements whose outcome has the value match.
   *
   * @param value rows, or microseconds
   */
  public record NumberFilter(Measure measure, Comparison comparison, long value) {
    public NumberFilter {
      Objects.requireNonNull(measure, "measure");
      Objects.requireNonNull(comparison, "comparison");
    }
  }

  /** One end of a time range: a moment, or a span before the search runs. */
  public sealed interface TimeBound {
    /** The moment, counting back from {@code now} for a relative bound. */
    Instant resolve(Instant now);

    /** A fixed moment. */
    record At(Instant instant) implements TimeBound {
      public At {
        Objects.requireNonNull(instant, "instant");
      }

      @Override
      public Instant resolve(Instant now) {
        return instant;
      }
    }

    /** A span back from when the search runs. */
    record Ago(Duration span) implements TimeBound {
      public Ago {
        if (span.isNegative()) {
          throw new IllegalArgumentException("a span back in time cannot be negative");
        }
      }

      @Override
      public Instant resolve(Instant now) {
        return now.minus(span);
      }
    }
  }
}
