package dev.warden.store.audit.index;

import dev.warden.core.audit.search.AuditQuery;
import dev.warden.core.audit.search.AuditQuery.FieldFilter;
import dev.warden.core.audit.search.AuditQuery.Match;
import dev.warden.core.audit.search.AuditQuery.NumberFilter;
import dev.warden.core.audit.search.AuditQuery.TextTerm;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * An {@link AuditQuery} in the index's SQL. A search can run two ways, and {@link AuditIndex} picks
 * one per query from cheap, capped counts:
 *
 * <ul>
 *   <li><b>driven</b>: start from the entries of one selective condition (an indexed term, see
 *       {@link Terms#indexed}; the text words through FTS5 over distinct texts; a rows or duration
 *       comparison), check the rest on each, and sort the few that remain;
 *   <li><b>scan</b>: walk the time index newest first, checking every condition on each entry,
 *       until the limit is reached: right when every condition matches many entries.
 * </ul>
 *
 * <p>Whatever drives, every condition is checked on each entry, text words with {@code
 * warden_contains} (Java's case folding, as {@link AuditQuery#matches}); FTS5 only narrows.
 */
final class IndexQuery {
  /** A statement and its parameters. */
  record Sql(String sql, List<Object> parameters) {}

  /**
   * A condition a search can start from: a query yielding entry ids in {@code entry}, and for term
   * conditions a query whose count is not 0 when one of its terms is saturated (has stopped getting
   * postings, being too common to start a search anyway).
   */
  record Driver(String description, Sql ids, Optional<Sql> saturated) {
    Driver(String description, Sql ids) {
      this(description, ids, Optional.empty());
    }
  }

  static final String COLUMNS =
      "e.log_id, e.seq, e.time, e.doc, e.outcome_seq, e.outcome, e.base, e.outcome_base";
  static final String ORDER = " ORDER BY e.time DESC, e.log_id DESC, e.seq DESC LIMIT ?";

  /** The smallest trigram; shorter words cannot be looked up in FTS5. */
  private static final int TRIGRAM = 3;

  private final AuditQuery query;
  private final Optional<Long> from;
  private final Optional<Long> to;

  IndexQuery(AuditQuery query, Instant now) {
    this.query = query;
    this.from = query.since(now).map(Payloads::micros);
    this.to = query.until(now).map(Payloads::micros);
  }

  /** The conditions a search could start from. */
  List<Driver> drivers() {
    List<Driver> drivers = new ArrayList<>();
    filters:
    for (FieldFilter f : query.filters()) {
      if (f.negated()) {
        continue;
      }
      StringBuilder sql = new StringBuilder();
      List<Object> p = new ArrayList<>();
      List<String> saturated = new ArrayList<>();
      List<Object> sp = new ArrayList<>();
      for (Match m : f.matches()) {
        if (m.prefix() ? !Terms.indexedPrefix(m.term()) : !Terms.indexed(m.term())) {
          continue filters; // Some entries it matches are not in postings: cannot drive.
        }
        if (!sql.isEmpty()) {
          sql.append(" UNION ");
        }
        if (m.prefix()) {
          sql.append(
              "SELECT entry FROM postings WHERE term IN"
                  + " (SELECT id FROM term_ids WHERE term >= ? AND term < ?)");
          p.add(m.term());
          p.add(upperBound(m.term()));
          saturated.add("(term >= ? AND term < ?)");
          sp.add(m.term());
          sp.add(upperBound(m.term()));
        } else {
          sql.append(
              "SELECT entry FROM postings WHERE term = (SELECT id FROM term_ids WHERE term = ?)");
          p.add(m.term());
          saturated.add("term = ?");
          sp.add(m.term());
        }
      }
      drivers.add(
          new Driver(
              f.field().key(),
              new Sql(sql.toString(), p),
              Optional.of(
                  new Sql(
                      "SELECT EXISTS (SELECT 1 FROM term_ids WHERE saturated AND ("
                          + String.join(" OR ", saturated)
                          + "))",
                      sp))));
    }
    List<String> phrases = new ArrayList<>();
    for (TextTerm t : query.texts()) {
      if (!t.negated() && t.text().codePointCount(0, t.text().length()) >= TRIGRAM) {
        phrases.add("\"" + t.text().replace("\"", "\"\"") + "\"");
      }
    }
    if (!phrases.isEmpty()) {
      drivers.add(
          new Driver(
              "text",
              new Sql(
                  "SELECT x.id AS entry FROM texts_fts CROSS JOIN entries x"
                      + " ON x.text_id = texts_fts.rowid WHERE texts_fts MATCH ?",
                  List.of(String.join(" AND ", phrases)))));
    }
    for (NumberFilter n : query.numbers()) {
      String column = column(n);
      drivers.add(
          new Driver(
              n.measure().queryName(),
              new Sql(
                  "SELECT id AS entry FROM entries WHERE "
                      + column
                      + " "
                      + n.comparison().symbol()
                      + " ?",
                  List.of(n.value()))));
    }
    return drivers;
  }

  /** Counts what {@code ids} yields, stopping at {@code cap}. */
  static Sql count(Sql ids, int cap) {
    List<Object> p = new ArrayList<>(ids.parameters());
    p.add(cap);
    return new Sql("SELECT count(*) FROM (" + ids.sql() + " LIMIT ?)", p);
  }

  /** Counts the entries in the time range, stopping at {@code cap}; empty without a range. */
  Optional<Sql> countTimeRange(int cap) {
    if (from.isEmpty() && to.isEmpty()) {
      return Optional.empty();
    }
    List<Object> p = new ArrayList<>();
    String where = timeConditions("time", p);
    p.add(cap);
    return Optional.of(
        new Sql(
            "SELECT count(*) FROM (SELECT 1 FROM entries INDEXED BY entries_time WHERE "
                + where
                + " LIMIT ?)",
            p));
  }

  /** The search, starting from {@code driver}'s entries. */
  Sql driven(Driver driver, int limit) {
    List<Object> p = new ArrayList<>(driver.ids().parameters());
    String where = conditions(p);
    p.add(limit);
    return new Sql(
        "SELECT "
            + COLUMNS
            + " FROM ("
            + driver.ids().sql()
            + ") d CROSS JOIN entries e ON e.id = d.entry"
            + (where.isEmpty() ? "" : " WHERE " + where)
            + ORDER,
        p);
  }

  /** The search, walking the time index newest first. */
  Sql scan(int limit) {
    List<Object> p = new ArrayList<>();
    String where = conditions(p);
    p.add(limit);
    return new Sql(
        "SELECT "
            + COLUMNS
            + " FROM entries e INDEXED BY entries_time"
            + (where.isEmpty() ? "" : " WHERE " + where)
            + ORDER,
        p);
  }

  private String conditions(List<Object> p) {
    List<String> and = new ArrayList<>();
    String time = timeConditions("e.time", p);
    if (!time.isEmpty()) {
      and.add(time);
    }
    for (FieldFilter f : query.filters()) {
      List<String> or = new ArrayList<>();
      for (Match m : f.matches()) {
        or.add("instr(e.terms, ?) > 0");
        p.add(m.prefix() ? Terms.prefix(m.term()) : Terms.whole(m.term()));
      }
      String any = or.size() == 1 ? or.get(0) : "(" + String.join(" OR ", or) + ")";
      and.add(f.negated() ? "NOT " + any : any);
    }
    for (TextTerm t : query.texts()) {
      and.add(
          (t.negated() ? "NOT " : "")
              + "warden_contains((SELECT text FROM texts WHERE id = e.text_id), ?)");
      p.add(AuditQuery.fold(t.text()));
    }
    for (NumberFilter n : query.numbers()) {
      and.add("e." + column(n) + " " + n.comparison().symbol() + " ?");
      p.add(n.value());
    }
    return String.join(" AND ", and);
  }

  private String timeConditions(String column, List<Object> p) {
    List<String> and = new ArrayList<>();
    from.ifPresent(
        f -> {
          and.add(column + " >= ?");
          p.add(f);
        });
    to.ifPresent(
        t -> {
          and.add(column + " < ?");
          p.add(t);
        });
    return String.join(" AND ", and);
  }

  private static String column(NumberFilter n) {
    return switch (n.measure()) {
      case ROWS -> "rows";
      case DURATION -> "duration_us";
    };
  }

  /**
   * The least string greater than every string starting with {@code prefix}, in SQLite's binary
   * (UTF-8) order: {@code prefix} followed by U+10FFFF, the last code point. (A term continuing
   * with U+10FFFF itself, a noncharacter, is not found.)
   */
  static String upperBound(String prefix) {
    return prefix + "\uDBFF\uDFFF";
  }
}
