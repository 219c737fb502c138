package dev.warden.core.statement;

import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * What one statement does, as far as it can be known from its text: the facts policy is written
 * against. Protocol- and dialect-neutral; an analyser per SQL dialect produces it.
 *
 * @param kind the coarse class
 * @param command the command, upper case and as PostgreSQL names it in its command tag where it has
 *     one (e.g. {@code SELECT}, {@code DELETE}, {@code DROP TABLE}, {@code ALTER SYSTEM}, {@code
 *     COPY}, {@code SET})
 * @param tablesRead relations whose rows the statement reads
 * @param tablesWritten relations whose rows or definition the statement changes
 * @param columnsRead columns the statement reads (in results, conditions, expressions)
 * @param columnsWritten columns the statement assigns (INSERT column lists, UPDATE SET targets)
 * @param columnsComputed columns whose values can flow into something other than a result column
 *     the database reports with its origin: anything in an expression, function call, cast,
 *     aggregate, window function or CASE; the target lists of subqueries, CTEs, set operation
 *     branches and INSERT ... SELECT; VALUES, UPDATE SET and ON CONFLICT expressions; function
 *     arguments in FROM; JOIN USING columns. Whole-row references ({@code u}, {@code u.*} inside an
 *     expression) appear as the relation's {@code *}. Only bare columns in the target list of the
 *     outermost query and bare RETURNING entries of the outermost statement are left out: the
 *     database names their origin, column by column (THREATS lesson 6, M01-M04)
 * @param columnsFiltered columns the statement filters, joins, groups, orders or limits on (WHERE,
 *     JOIN ON/USING, HAVING, GROUP BY, ORDER BY, DISTINCT ON, window PARTITION BY/ORDER BY, an
 *     aggregate's ORDER BY and FILTER, LIMIT/OFFSET, and subqueries in those): how a result can
 *     reveal a column's values without returning them (THREATS M15)
 * @param functions functions it calls, lower case, schema-qualified where the text qualifies them
 * @param hasWhere for UPDATE and DELETE: whether the statement has a WHERE clause (or a USING join
 *     condition); true for every other command
 * @param whereTriviallyTrue whether that clause holds for every row whatever the data ({@code WHERE
 *     true}, {@code 1=1}, {@code id = id}, {@code id IS NOT NULL OR true}, ...)
 * @param flags further properties, such as dynamic SQL or side effects
 * @param unknownReason when {@link #kind()} is {@link StatementKind#UNKNOWN}, or a part of the
 *     statement could not be analysed, why; empty otherwise
 * @param preparedName for SQL-level {@code PREPARE name} the name it defines, for {@code EXECUTE
 *     name} and {@code DEALLOCATE name} the name it uses; empty otherwise
 * @param inner for {@code PREPARE} the prepared statement, for {@code EXPLAIN} the explained one,
 *     for {@code CREATE TABLE AS}/{@code DECLARE CURSOR} the query; empty otherwise
 * @param reasonSetting what the statement does to the session's reason ({@code SET warden.reason},
 *     {@code RESET warden.reason}, {@code RESET ALL}, {@code DISCARD ALL}); empty for every other
 *     statement, and for one that changes {@code warden.reason} in any other way (which is flagged
 *     {@link StatementFlag#CHANGES_IDENTITY_SETTING})
 * @param copyOut for {@code COPY ... TO STDOUT}, what the stream of rows it sends the client holds
 *     and how it is written; empty for every other statement (COPY to a file or program included)
 */
public record Statement(
    StatementKind kind,
    String command,
    Set<TableRef> tablesRead,
    Set<TableRef> tablesWritten,
    Set<ColumnRef> columnsRead,
    Set<ColumnRef> columnsWritten,
    Set<ColumnRef> columnsComputed,
    Set<ColumnRef> columnsFiltered,
    Set<String> functions,
    boolean hasWhere,
    boolean whereTriviallyTrue,
    Set<StatementFlag> flags,
    String unknownReason,
    String preparedName,
    Optional<Statement> inner,
    Optional<ReasonSetting> reasonSetting,
    Optional<CopyOut> copyOut) {
  public Statement {
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(command, "command");
    tablesRead = Set.copyOf(tablesRead);
    tablesWritten = Set.copyOf(tablesWritten);
    columnsRead = Set.copyOf(columnsRead);
    columnsWritten = Set.copyOf(columnsWritten);
    columnsComputed = Set.copyOf(columnsComputed);
    columnsFiltered = Set.copyOf(columnsFiltered);
    functions = Set.copyOf(functions);
    flags = Set.copyOf(flags);
    Objects.requireNonNull(unknownReason, "unknownReason");
    Objects.requireNonNull(preparedName, "preparedName");
    Objects.requireNonNull(inner, "inner");
    Objects.requireNonNull(reasonSetting, "reasonSetting");
    Objects.requireNonNull(copyOut, "copyOut");
    if (kind == StatementKind.UNKNOWN && unknownReason.isEmpty()) {
      throw new IllegalArgumentException("an unknown statement needs a reason");
    }
  }

  /** A statement that leaves the session's reason as it is. */
  public Statement(
      StatementKind kind,
      String command,
      Set<TableRef> tablesRead,
      Set<TableRef> tablesWritten,
      Set<ColumnRef> columnsRead,
      Set<ColumnRef> columnsWritten,
      Set<ColumnRef> columnsComputed,
      Set<ColumnRef> columnsFiltered,
      Set<String> functions,
      boolean hasWhere,
      boolean whereTriviallyTrue,
      Set<StatementFlag> flags,
      String unknownReason,
      String preparedName,
      Optional<Statement> inner) {
    this(
        kind,
        command,
        tablesRead,
        tablesWritten,
        columnsRead,
        columnsWritten,
        columnsComputed,
        columnsFiltered,
        functions,
        hasWhere,
        whereTriviallyTrue,
        flags,
        unknownReason,
        preparedName,
        inner,
        Optional.empty(),
        Optional.empty());
  }

  /**
   * A statement whose columns are not told apart by how they are used: none computed, none
   * filtered. For statements built by hand (tests, benchmarks, tools) where masking plays no part;
   * an analyser fills in every set.
   */
  public Statement(
      StatementKind kind,
      String command,
      Set<TableRef> tablesRead,
      Set<TableRef> tablesWritten,
      Set<ColumnRef> columnsRead,
      Set<ColumnRef> columnsWritten,
      Set<String> functions,
      boolean hasWhere,
      boolean whereTriviallyTrue,
      Set<StatementFlag> flags,
      String unknownReason,
      String preparedName,
      Optional<Statement> inner) {
    this(
        kind,
        command,
        tablesRead,
        tablesWritten,
        columnsRead,
        columnsWritten,
        Set.of(),
        Set.of(),
        functions,
        hasWhere,
        whereTriviallyTrue,
        flags,
        unknownReason,
        preparedName,
        inner);
  }

  /** A statement Warden cannot analyse, for {@code reason}. */
  public static Statement unknown(String command, String reason) {
    return new Statement(
        StatementKind.UNKNOWN,
        command,
        Set.of(),
        Set.of(),
        Set.of(),
        Set.of(),
        Set.of(),
        Set.of(),
        Set.of(),
        true,
        false,
        Set.of(),
        reason,
        "",
        Optional.empty());
  }

  public boolean has(StatementFlag flag) {
    return flags.contains(flag);
  }

  /** True for UPDATE/DELETE/MERGE: statements a row-count guardrail applies to. */
  public boolean changesRows() {
    return kind == StatementKind.WRITE
        && (command.equals("UPDATE") || command.equals("DELETE") || command.equals("MERGE"));
  }
}
