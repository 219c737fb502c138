package dev.warden.core.audit.search;

import dev.warden.core.audit.search.AuditQuery.Comparison;
import dev.warden.core.audit.search.AuditQuery.Field;
import dev.warden.core.audit.search.AuditQuery.FieldFilter;
import dev.warden.core.audit.search.AuditQuery.Match;
import dev.warden.core.audit.search.AuditQuery.Measure;
import dev.warden.core.audit.search.AuditQuery.NumberFilter;
import dev.warden.core.audit.search.AuditQuery.TextTerm;
import dev.warden.core.audit.search.AuditQuery.TimeBound;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.TemporalAccessor;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads the query language of {@code docs/audit.md}, one term at a time, keeping the position of
 * every term so that an error can point at it. Terms are separated by whitespace; a term is a
 * quoted phrase, {@code field:value[,value...]}, {@code rows>N}/{@code duration>N unit}, {@code
 * since:}/{@code until:}, or a free word; a leading {@code -} negates it.
 */
final class QueryParser {
  static final int MAX_LENGTH = 4096;
  static final int MAX_TERMS = 64;
  static final int MAX_VALUES = 256;

  private static final List<String> KINDS =
      List.of("read", "write", "ddl", "dcl", "transaction", "session", "utility", "unknown");

  /** First words of commands that {@code kind:} accepts as short for {@code command:}. */
  private static final Set<String> COMMAND_WORDS =
      Set.of(
          "select",
          "insert",
          "update",
          "delete",
          "merge",
          "truncate",
          "copy",
          "create",
          "alter",
          "drop",
          "grant",
          "revoke",
          "explain",
          "vacuum",
          "analyze",
          "call",
          "do",
          "set",
          "reset",
          "show",
          "begin",
          "commit",
          "rollback",
          "lock",
          "refresh",
          "reindex",
          "cluster",
          "comment",
          "listen",
          "notify",
          "prepare",
          "execute",
          "deallocate",
          "discard",
          "fetch",
          "declare",
          "close",
          "checkpoint");

  private static final List<String> VERDICTS = List.of("allowed", "denied", "observed");
  private static final List<String> TYPES = List.of("intent", "outcome", "event");
  private static final List<String> STATUSES =
      List.of("ok", "error", "refused", "not-run", "unknown");

  private static final Pattern RELATIVE = Pattern.compile("([0-9]{1,9})([smhdw])");
  private static final Pattern DATE = Pattern.compile("[0-9]{4}-[0-9]{2}-[0-9]{2}");
  private static final Pattern SQLSTATE = Pattern.compile("[0-9A-Z]*");
  private static final String TIME_EXAMPLES =
      "a time such as 24h, 7d, 30m, 2026-11-01 or 2026-11-01T10:00Z";

  private final String s;
  private int i;
  private int terms;
  private int values;
  private final List<TextTerm> texts = new ArrayList<>();
  private final List<FieldFilter> filters = new ArrayList<>();
  private final List<NumberFilter> numbers = new ArrayList<>();
  private Optional<TimeBound> since = Optional.empty();
  private Optional<TimeBound> until = Optional.empty();

  private QueryParser(String s) {
    this.s = s;
  }

  static AuditQuery parse(String query) {
    Objects.requireNonNull(query, "query");
    if (query.length() > MAX_LENGTH) {
      throw new AuditQueryException(
          MAX_LENGTH, "a query of at most " + MAX_LENGTH + " characters", "");
    }
    QueryParser p = new QueryParser(query);
    p.run();
    return new AuditQuery(query, p.texts, p.filters, p.numbers, p.since, p.until);
  }

  private void run() {
    while (true) {
      while (!atEnd() && space(c())) {
        i++;
      }
      if (atEnd()) {
        return;
      }
      if (++terms > MAX_TERMS) {
        throw new AuditQueryException(i, "at most " + MAX_TERMS + " terms in a query", "");
      }
      int start = i;
      boolean negated = false;
      if (c() == '-' && i + 1 < s.length() && !space(s.charAt(i + 1))) {
        negated = true;
        i++;
      }
      if (c() == '"') {
        texts.add(new TextTerm(quoted(), negated));
        endOfTerm();
        continue;
      }
      int nameEnd = i;
      while (nameEnd < s.length() && letter(s.charAt(nameEnd))) {
        nameEnd++;
      }
      if (nameEnd > i && nameEnd < s.length()) {
        String name = s.substring(i, nameEnd).toLowerCase(Locale.ROOT);
        char next = s.charAt(nameEnd);
        boolean colon = next == ':' && (nameEnd + 1 == s.length() || s.charAt(nameEnd + 1) != ':');
        if (colon) {
          i = nameEnd + 1;
          field(start, negated, name);
          continue;
        }
        if (next == '<' || next == '>' || next == '=') {
          Optional<Measure> measure = measure(name);
          if (measure.isPresent()) {
            i = nameEnd;
            number(start, negated, measure.get(), comparison());
            continue;
          }
          if (Field.named(name).isPresent() || name.equals("since") || name.equals("until")) {
            throw new AuditQueryException(
                nameEnd, "':' after " + name, "only rows and duration compare with < > =");
          }
        }
      }
      word(negated);
    }
  }

  private void field(int start, boolean negated, String name) {
    switch (name) {
      case "since", "until" -> time(start, negated, name);
      case "rows" -> number(start, negated, Measure.ROWS, Comparison.EQ);
      case "duration" -> number(start, negated, Measure.DURATION, Comparison.EQ);
      default -> {
        Field field =
            Field.named(name)
                .orElseThrow(
                    () ->
                        new AuditQueryException(
                            start + (negated ? 1 : 0),
                            "a field name before ':' (" + fieldNames() + ")",
                            "there is no field '"
                                + name
                                + "'; to search for text with a ':' in it, put it in quotes"));
        List<Match> matches = new ArrayList<>();
        while (true) {
          if (++values > MAX_VALUES) {
            throw new AuditQueryException(i, "at most " + MAX_VALUES + " values in a query", "");
          }
          value(field, matches);
          if (!atEnd() && c() == ',') {
            i++;
            continue;
          }
          break;
        }
        endOfTerm();
        filters.add(new FieldFilter(field, negated, matches));
      }
    }
  }

  private void value(Field field, List<Match> into) {
    int start = i;
    if (atEnd() || space(c()) || c() == ',') {
      throw new AuditQueryException(i, "a value for " + field.key(), "");
    }
    String value;
    boolean prefix = false;
    if (c() == '"') {
      value = quoted();
    } else {
      while (!atEnd() && !space(c()) && c() != ',') {
        if (c() == '"') {
          throw new AuditQueryException(
              i, "a space or ',' before a quote", "quote the whole value instead");
        }
        if (c() == '*' && i + 1 < s.length() && !space(s.charAt(i + 1)) && s.charAt(i + 1) != ',') {
          throw new AuditQueryException(i, "'*' only at the end of a value", "");
        }
        i++;
      }
      value = s.substring(start, i);
      if (value.endsWith("*")) {
        prefix = true;
        value = value.substring(0, value.length() - 1);
      }
    }
    switch (field) {
      case KIND -> {
        whole(field, prefix);
        String v = value.toLowerCase(Locale.ROOT);
        if (KINDS.contains(v)) {
          into.add(new Match(AuditTerms.term(Field.KIND, v), false));
        } else if (COMMAND_WORDS.contains(v)) {
          String command = v.toUpperCase(Locale.ROOT);
          into.add(new Match(AuditTerms.term(Field.COMMAND, command), false));
          into.add(new Match(AuditTerms.term(Field.COMMAND, command + " "), true));
        } else {
          throw new AuditQueryException(
              start,
              "a kind (" + String.join(", ", KINDS) + ") or the first word of a command",
              "'" + value + "' is neither; command:\"...\" matches any command");
        }
      }
      case VERDICT -> into.add(oneOf(field, VERDICTS, value, prefix, start));
      case TYPE -> into.add(oneOf(field, TYPES, value, prefix, start));
      case STATUS -> into.add(oneOf(field, STATUSES, value, prefix, start));
      case EVENT -> into.add(match(field, value.toLowerCase(Locale.ROOT), prefix));
      case COMMAND -> into.add(match(field, value.toUpperCase(Locale.ROOT), prefix));
      case SQLSTATE -> {
        String v = value.toUpperCase(Locale.ROOT);
        if (!SQLSTATE.matcher(v).matches() || v.length() > 5 || (!prefix && v.length() != 5)) {
          throw new AuditQueryException(
              start, "a SQLSTATE of five letters or digits, or its start followed by '*'", value);
        }
        into.add(match(field, v, prefix));
      }
      default -> into.add(match(field, value, prefix));
    }
  }

  private Match oneOf(Field field, List<String> allowed, String value, boolean prefix, int start) {
    whole(field, prefix);
    String v = value.toLowerCase(Locale.ROOT);
    if (!allowed.contains(v)) {
      throw new AuditQueryException(
          start,
          field.key() + " to be one of " + String.join(", ", allowed),
          "not '" + value + "'");
    }
    return match(field, v, false);
  }

  private void whole(Field field, boolean prefix) {
    if (prefix) {
      throw new AuditQueryException(
          i - 1, "a whole value for " + field.key() + ", without '*'", "");
    }
  }

  private static Match match(Field field, String value, boolean prefix) {
    return new Match(AuditTerms.term(field, value), prefix);
  }

  private void time(int start, boolean negated, String name) {
    if (negated) {
      throw new AuditQueryException(start, name + " without '-'", "a time bound cannot be negated");
    }
    if ((name.equals("since") ? since : until).isPresent()) {
      throw new AuditQueryException(start, "one " + name + ": in a query", "");
    }
    int valueStart = i;
    while (!atEnd() && !space(c())) {
      i++;
    }
    String value = s.substring(valueStart, i);
    if (value.isEmpty()) {
      throw new AuditQueryException(valueStart, TIME_EXAMPLES + " after " + name + ":", "");
    }
    TimeBound bound = timeBound(value, valueStart);
    if (name.equals("since")) {
      since = Optional.of(bound);
    } else {
      until = Optional.of(bound);
    }
  }

  private static TimeBound timeBound(String value, int position) {
    Matcher relative = RELATIVE.matcher(value);
    if (relative.matches()) {
      long n = Long.parseLong(relative.group(1));
      Duration span =
          switch (relative.group(2)) {
            case "s" -> Duration.ofSeconds(n);
            case "m" -> Duration.ofMinutes(n);
            case "h" -> Duration.ofHours(n);
            case "d" -> Duration.ofDays(n);
            default -> Duration.ofDays(7 * n);
          };
      return new TimeBound.Ago(span);
    }
    try {
      if (DATE.matcher(value).matches()) {
        return new TimeBound.At(LocalDate.parse(value).atStartOfDay(ZoneOffset.UTC).toInstant());
      }
      TemporalAccessor t =
          DateTimeFormatter.ISO_DATE_TIME.parseBest(
              value, OffsetDateTime::from, LocalDateTime::from);
      return new TimeBound.At(
          t instanceof OffsetDateTime odt
              ? odt.toInstant()
              : ((LocalDateTime) t).toInstant(ZoneOffset.UTC));
    } catch (DateTimeException e) {
      throw new AuditQueryException(position, TIME_EXAMPLES, "cannot read '" + value + "'");
    }
  }

  private Comparison comparison() {
    char first = c();
    boolean equals = i + 1 < s.length() && s.charAt(i + 1) == '=';
    if (first == '=') {
      i++;
      return Comparison.EQ;
    }
    i += equals ? 2 : 1;
    if (first == '<') {
      return equals ? Comparison.LE : Comparison.LT;
    }
    return equals ? Comparison.GE : Comparison.GT;
  }

  private void number(int start, boolean negated, Measure measure, Comparison comparison) {
    if (negated) {
      throw new AuditQueryException(
          start,
          "a comparison without '-'",
          "write the opposite comparison instead, e.g. rows<=100 for -rows>100");
    }
    int digitsStart = i;
    while (!atEnd() && c() >= '0' && c() <= '9') {
      i++;
    }
    if (i == digitsStart) {
      throw new AuditQueryException(
          i,
          measure == Measure.ROWS
              ? "a number of rows after " + measure.queryName() + comparison.symbol()
              : "a duration such as 500ms, 2s or 1m after "
                  + measure.queryName()
                  + comparison.symbol(),
          "");
    }
    if (i - digitsStart > 15) {
      throw new AuditQueryException(digitsStart, "a number of at most 15 digits", "");
    }
    long n = Long.parseLong(s.substring(digitsStart, i));
    int unitStart = i;
    while (!atEnd() && letter(c())) {
      i++;
    }
    String unit = s.substring(unitStart, i).toLowerCase(Locale.ROOT);
    long value;
    if (measure == Measure.ROWS) {
      if (!unit.isEmpty()) {
        throw new AuditQueryException(unitStart, "a plain number of rows", "not '" + unit + "'");
      }
      value = n;
    } else {
      long micros =
          switch (unit) {
            case "us" -> 1;
            case "ms" -> 1_000;
            case "s" -> 1_000_000;
            case "m" -> 60_000_000;
            case "h" -> 3_600_000_000L;
            default ->
                throw new AuditQueryException(
                    unitStart,
                    "a unit after the number: us, ms, s, m or h",
                    unit.isEmpty() ? "" : "not '" + unit + "'");
          };
      try {
        value = Math.multiplyExact(n, micros);
      } catch (ArithmeticException e) {
        throw new AuditQueryException(digitsStart, "a shorter duration", "");
      }
    }
    endOfTerm();
    numbers.add(new NumberFilter(measure, comparison, value));
  }

  private void word(boolean negated) {
    int start = i;
    while (!atEnd() && !space(c())) {
      if (c() == '"') {
        throw new AuditQueryException(
            i, "a space before a quote", "quote the whole phrase, e.g. \"id = 5\"");
      }
      i++;
    }
    texts.add(new TextTerm(s.substring(start, i), negated));
  }

  /**
   * Reads a quoted string at {@code i}: {@code \"} and {@code \\} escape a quote and a backslash.
   */
  private String quoted() {
    int open = i;
    i++;
    StringBuilder out = new StringBuilder();
    while (!atEnd()) {
      char ch = c();
      if (ch == '\\' && i + 1 < s.length() && (s.charAt(i + 1) == '"' || s.charAt(i + 1) == '\\')) {
        out.append(s.charAt(i + 1));
        i += 2;
      } else if (ch == '"') {
        i++;
        if (out.isEmpty()) {
          throw new AuditQueryException(open, "text between the quotes", "");
        }
        return out.toString();
      } else {
        out.append(ch);
        i++;
      }
    }
    throw new AuditQueryException(
        s.length(), "a closing quote", "the quote at character " + (open + 1) + " is not closed");
  }

  private void endOfTerm() {
    if (!atEnd() && !space(c())) {
      throw new AuditQueryException(i, "a space between terms", "found '" + c() + "'");
    }
  }

  private static Optional<Measure> measure(String name) {
    return switch (name) {
      case "rows" -> Optional.of(Measure.ROWS);
      case "duration" -> Optional.of(Measure.DURATION);
      default -> Optional.empty();
    };
  }

  private static String fieldNames() {
    List<String> names = new ArrayList<>();
    for (Field f : Field.values()) {
      names.add(f.key());
    }
    names.add("rows");
    names.add("duration");
    names.add("since");
    names.add("until");
    return String.join(", ", names);
  }

  private boolean atEnd() {
    return i >= s.length();
  }

  private char c() {
    return s.charAt(i);
  }

  private static boolean space(char ch) {
    return Character.isWhitespace(ch) || Character.isSpaceChar(ch);
  }

  private static boolean letter(char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
  }
}
