package dev.warden.core.statement;

import java.util.EnumSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * What a piece of SQL text does: each statement it holds, in order, with its facts.
 *
 * @param statements the statements, in the order the database runs them; empty for an empty string
 * @param fingerprint a literal-free fingerprint of the text, equal for texts that differ only in
 *     constants, whitespace and comments; empty when the text could not be parsed
 */
public record Analysis(List<Statement> statements, String fingerprint) {
  public Analysis {
    statements = List.copyOf(statements);
    Objects.requireNonNull(fingerprint, "fingerprint");
  }

  /** Text that could not be analysed at all (a syntax error, a lexing setting not followed). */
  public static Analysis unknown(String reason) {
    return new Analysis(List.of(Statement.unknown("UNKNOWN", reason)), "");
  }

  public boolean multiStatement() {
    return statements.size() > 1;
  }

  /** True if any statement is unknown. */
  public boolean hasUnknown() {
    for (Statement s : statements) {
      if (s.kind() == StatementKind.UNKNOWN) {
        return true;
      }
    }
    return false;
  }

  /**
   * True if a statement defines or runs a SQL-level prepared statement ({@code PREPARE name},
   * {@code EXECUTE name}): what it does then depends on the session, not on the text alone.
   */
  public boolean definesOrRunsPrepared() {
    for (Statement s : statements) {
      if ((s.command().equals("PREPARE") || s.command().equals("EXECUTE"))
          && !s.preparedName().isEmpty()) {
        return true;
      }
    }
    return false;
  }

  /** The kinds of all statements. */
  public Set<StatementKind> kinds() {
    EnumSet<StatementKind> kinds = EnumSet.noneOf(StatementKind.class);
    for (Statement s : statements) {
      kinds.add(s.kind());
    }
    return kinds;
  }
}
