package dev.warden.core.masking;

import dev.warden.core.statement.CopyOut;
import dev.warden.core.statement.Statement;
import dev.warden.core.statement.StatementFlag;
import dev.warden.core.statement.StatementKind;
import dev.warden.core.statement.TableRef;
import java.util.EnumSet;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Masking's part of the decision on one piece of SQL for an identity that is not exempt: whether it
 * is refused outright, and how its results are masked where the database cannot say where a value
 * comes from (THREATS M01-M18, lesson 6). The decision point asks it once per statement text and
 * map version; the proxy then masks by origin column by column.
 *
 * <p>Refusals, checked in this order for every statement the text runs (see docs/policy.md,
 * "Masking refusals"):
 *
 * <ol>
 *   <li>reading {@code pg_stats}, {@code pg_stats_ext}, {@code pg_stats_ext_exprs}, {@code
 *       pg_stat_activity} or {@code pg_stat_statements} (M16: sampled values and other sessions'
 *       statements);
 *   <li>{@code DO}, {@code CALL}, {@code CREATE FUNCTION} and other dynamic SQL while the database
 *       has a sensitive column (M09: SQL Warden cannot see can read and print anything);
 *   <li>a statement Warden could not analyse (an EXECUTE of a statement it did not see prepared, a
 *       FunctionCall message) while the database has a sensitive column: what it reads is unknown;
 *   <li>{@code COPY ... TO} a file or program reading a sensitive column, or a query that touches
 *       one, calls a user function or reads a relation the map lacks (M06: the rows go where
 *       masking cannot reach); {@code COPY ... TO STDOUT} of the same when Warden cannot read its
 *       stream (an option it does not know), or when the text holds more than one such COPY. Other
 *       COPYs to the client are masked by position (see {@link Judgement#export()});
 *   <li>{@code pg_notify}, {@code NOTIFY} or {@code set_config} in a statement touching a sensitive
 *       column or calling a user function (M10, M18: notification payloads and setting values reach
 *       clients outside results);
 *   <li>lineage (M07): INSERT, UPDATE, MERGE (or a data-modifying CTE) whose computed columns
 *       include a sensitive one, and CREATE TABLE AS, SELECT INTO and CREATE [MATERIALIZED] VIEW
 *       reading one: the copy would no longer be masked;
 *   <li>with {@link SessionMasking#denyInference()}, filtering, joining, grouping, sorting or
 *       limiting on a sensitive column (M15).
 * </ol>
 */
public final class MaskingJudge {
  /** The catalogue views that show sampled column values or other sessions' statements (M16). */
  static final Set<String> STATISTICS_VIEWS =
      Set.of(
          "pg_stats",
          "pg_stats_ext",
          "pg_stats_ext_exprs",
          "pg_stat_activity",
          "pg_stat_statements",
          "pg_stat_statements_info",
          "pg_statistic",
          "pg_statistic_ext_data");

  /** Functions behind those views, callable directly. */
  static final Set<String> STATISTICS_FUNCTIONS =
      Set.of("pg_stat_get_activity", "pg_stat_statements", "pg_stat_get_backend_activity");

  private static final Set<String> COPYING_DDL =
      Set.of("CREATE TABLE AS", "SELECT INTO", "CREATE VIEW", "CREATE MATERIALIZED VIEW");

  private static final Set<String> WRITING_DML = Set.of("INSERT", "UPDATE", "MERGE");

  private MaskingJudge() {}

  /**
   * Why masking refuses a statement, in words for the person who sent it.
   *
   * @param message what was refused and why
   * @param hint what to do instead
   */
  public record Refusal(String message, String hint) {}

  /**
   * Masking's judgement of a piece of SQL.
   *
   * @param refusal why it is refused, if it is
   * @param computedTainted whether a result column without an origin can carry sensitive data
   * @param computedKind the one kind of data it can carry, when known
   * @param scrubErrors whether error and notice texts about it must be scrubbed: it reads or writes
   *     a sensitive column, or its computed results are tainted
   * @param export the stream of rows the text's {@code COPY ... TO STDOUT} sends the client, when
   *     it has one: rows without origins, masked by position
   */
  public record Judgement(
      Optional<Refusal> refusal,
      boolean computedTainted,
      Optional<DataKind> computedKind,
      boolean scrubErrors,
      Optional<CopyOut> export) {
    /** A judgement of a text without a {@code COPY ... TO STDOUT}. */
    public Judgement(
        Optional<Refusal> refusal,
        boolean computedTainted,
        Optional<DataKind> computedKind,
        boolean scrubErrors) {
      this(refusal, computedTainted, computedKind, scrubErrors, Optional.empty());
    }
  }

  /**
   * Judges {@code statements}: every statement of the text and, for an EXECUTE, what it may run
   * (the caller knows the session's prepared statements; a PREPARE's and an EXPLAIN ANALYZE's
   * statements are found here), under {@code map} (overlaid with policy's overrides; null when the
   * database has no map yet, which makes every column sensitive).
   */
  public static Judgement judge(List<Statement> statements, DataMap map, boolean denyInference) {
    boolean anySensitive = map == null || map.anySensitive();
    Optional<Refusal> refusal = Optional.empty();
    boolean tainted = false;
    boolean scrub = false;
    EnumSet<DataKind> kinds = EnumSet.noneOf(DataKind.class);
    boolean unknownKind = false;
    Optional<CopyOut> export = Optional.empty();
    int exports = 0;
    for (Statement s : statements) {
      StatementTaint taint = StatementTaint.of(s, map, anySensitive);
      if (refusal.isEmpty()) {
        refusal = refusal(s, taint, anySensitive, denyInference);
      }
      if (s.copyOut().isPresent()) {
        export = s.copyOut();
        if (taint.touches() && ++exports == 2 && refusal.isEmpty()) {
          refusal =
              refuse(
                  "it holds more than one COPY ... TO STDOUT, and they read masked data: Warden"
                      + " masks COPY's rows by position, one COPY per query string",
                  "Send each COPY in a query string of its own.");
        }
      }
      // A PREPARE's statement runs later and an EXPLAIN ANALYZE's now: each is refused as it would
      // be on its own (the PREPARE and the plan return no data)
      for (Statement explained = wrapped(s); explained != null; explained = wrapped(explained)) {
        StatementTaint inner = StatementTaint.of(explained, map, anySensitive);
        if (refusal.isEmpty()) {
          refusal = refusal(explained, inner, anySensitive, denyInference);
        }
        scrub |= inner.touches();
      }
      if (taint.computedTainted()) {
        tainted = true;
        Optional<DataKind> kind = taint.computedKind();
        if (kind.isPresent()) {
          kinds.add(kind.get());
        } else {
          unknownKind = true;
        }
      }
      scrub |= taint.touches();
    }
    Optional<DataKind> kind =
        tainted && !unknownKind && kinds.size() == 1
            ? Optional.of(kinds.iterator().next())
            : Optional.empty();
    return new Judgement(refusal, tainted, kind, scrub || tainted, export);
  }

  /** The statement a PREPARE defines or an EXPLAIN ANALYZE runs, or null. */
  private static Statement wrapped(Statement s) {
    boolean wraps =
        s.command().equals("PREPARE")
            || (s.command().equals("EXPLAIN") && s.has(StatementFlag.EXPLAIN_ANALYZE));
    return wraps ? s.inner().orElse(null) : null;
  }

  /** The refusal {@code s} earns, if any. */
  static Optional<Refusal> refusal(
      Statement s, StatementTaint taint, boolean anySensitive, boolean denyInference) {
    Optional<String> statistics = statistics(s);
    if (statistics.isPresent()) {
      return refuse(
          "it reads "
              + statistics.get()
              + ", which shows sampled column values or other sessions' statements, and this"
              + " identity's results are masked",
          "Masked identities cannot read pg_stats, pg_stats_ext, pg_stats_ext_exprs,"
              + " pg_stat_activity or pg_stat_statements. Ask an administrator, or an exempt"
              + " colleague, for what you need from them.");
    }
    if (s.has(StatementFlag.DYNAMIC_SQL) && anySensitive) {
      return refuse(
          s.command()
              + " runs SQL that Warden cannot see, and this database holds masked columns that"
              + " SQL could print (RAISE NOTICE, errors) or copy",
          "Run the statements themselves instead of a "
              + s.command()
              + " that wraps them, or ask for a masking exemption.");
    }
    if (s.kind() == StatementKind.UNKNOWN && s.preparedName().isEmpty() && anySensitive) {
      // (an EXECUTE names its prepared statement and is judged as what that runs)
      return refuse(
          "Warden could not analyse it ("
              + s.unknownReason()
              + "), so it cannot tell which masked columns it reads, and this database has some",
          "Send the statement as plain SQL Warden can parse, or ask for a masking exemption.");
    }
    if (copyOut(s) && taint.touches()) {
      Optional<CopyOut> toClient = s.copyOut();
      if (toClient.isEmpty()) {
        return refuse(
            "COPY ... TO a file or program would write "
                + what(taint)
                + " where Warden cannot mask it",
            "Use COPY ... TO STDOUT (psql: \\copy): what it sends the client is masked.");
      }
      if (!toClient.get().readable()) {
        return refuse(
            "COPY ... TO STDOUT with "
                + toClient.get().unsupported()
                + " writes rows Warden cannot read value by value, and it would send "
                + what(taint),
            "Leave that option out: COPY in text, csv or binary format is masked.");
      }
    }
    String notifier = notifier(s);
    if (notifier != null && taint.touches()) {
      return refuse(
          notifier
              + " would carry "
              + what(taint)
              + " out of this statement past masking (notification payloads and settings reach"
              + " clients unmasked)",
          "Call " + notifier + " in a statement that reads no masked column.");
    }
    Optional<String> lineage = lineage(s, taint);
    if (lineage.isPresent()) {
      return refuse(
          s.command()
              + " would copy masked "
              + lineage.get()
              + " into a table or view, where later reads would see it unmasked",
          "Read the data with SELECT (its results are masked), or ask for a masking exemption"
              + " to copy it.");
    }
    if (denyInference && !taint.filteredColumns().isEmpty()) {
      return refuse(
          "it filters, joins, groups or sorts on masked "
              + names(taint.filteredColumns())
              + ", which would reveal their values, and masking policy denies inference",
          "Filter, join and sort on columns that are not masked, or ask for a masking"
              + " exemption.");
    }
    return Optional.empty();
  }

  private static Optional<Refusal> refuse(String why, String hint) {
    return Optional.of(new Refusal("Warden refused this statement: " + why, hint));
  }

  private static Optional<String> statistics(Statement s) {
    for (TableRef t : s.tablesRead()) {
      if (STATISTICS_VIEWS.contains(t.name())) {
        return Optional.of(t.name());
      }
    }
    for (String f : s.functions()) {
      String name = f.substring(f.lastIndexOf('.') + 1);
      if (STATISTICS_FUNCTIONS.contains(name)) {
        return Optional.of(name + "()");
      }
    }
    return Optional.empty();
  }

  /** COPY to the client, a file or a program: any COPY but COPY FROM. */
  private static boolean copyOut(Statement s) {
    return s.command().equals("COPY")
        && (s.inner().isPresent()
            || s.kind() != StatementKind.WRITE
            || s.tablesWritten().isEmpty());
  }

  /** The sensitive data a statement touches, in words. */
  private static String what(StatementTaint taint) {
    Set<String> columns = taint.readColumns();
    return columns.isEmpty()
        ? "data Warden cannot attribute to a column (a function or relation it cannot see into)"
        : "masked " + names(columns);
  }

  /** {@code pg_notify()}, {@code set_config()} or {@code NOTIFY} when {@code s} uses one. */
  private static String notifier(Statement s) {
    if (s.command().equals("NOTIFY")) {
      return "NOTIFY";
    }
    for (String f : s.functions()) {
      String name = f.substring(f.lastIndexOf('.') + 1);
      if (name.equals("pg_notify") || name.equals("set_config")) {
        return name + "()";
      }
    }
    return null;
  }

  /** The sensitive columns {@code s} would copy into a relation, if it copies any. */
  private static Optional<String> lineage(Statement s, StatementTaint taint) {
    String command = s.command();
    Set<String> copied;
    if (COPYING_DDL.contains(command)) {
      copied = taint.readColumns();
    } else if (WRITING_DML.contains(command)
        || (s.kind() == StatementKind.WRITE
            && command.equals("SELECT")
            && !s.tablesWritten().isEmpty())) {
      copied = taint.computedColumns();
    } else {
      return Optional.empty();
    }
    return copied.isEmpty() ? Optional.empty() : Optional.of(names(copied));
  }

  /** {@code column a.b.c}, {@code columns a.b.c, a.b.d and 3 more}. */
  static String names(Set<String> columns) {
    StringBuilder out = new StringBuilder(columns.size() == 1 ? "column " : "columns ");
    Iterator<String> it = columns.iterator();
    int shown = 0;
    while (it.hasNext() && shown < 3) {
      if (shown > 0) {
        out.append(shown == columns.size() - 1 ? " and " : ", ");
      }
      out.append(it.next());
      shown++;
    }
    if (columns.size() > shown) {
      out.append(" and ").append(columns.size() - shown).append(" more");
    }
    return out.toString();
  }
}
