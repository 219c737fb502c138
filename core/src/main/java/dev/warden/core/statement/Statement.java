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
 */
public record Statement(
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
  public Statement {
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(command, "command");
    tablesRead = Set.copyOf(tablesRead);
    tablesWritten = Set.copyOf(tablesWritten);
    columnsRead = Set.copyOf(columnsRead);
    columnsWritten = Set.copyOf(columnsWritten);
    functions = Set.copyOf(functions);
    flags = Set.copyOf(flags);
    Objects.requireNonNull(unknownReason, "unknownReason");
    Objects.requireNonNull(preparedName, "preparedName");
    Objects.requireNonNull(inner, "inner");
    if (kind == StatementKind.UNKNOWN && unknownReason.isEmpty()) {
      throw new IllegalArgumentException("an unknown statement needs a reason");
    }
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
