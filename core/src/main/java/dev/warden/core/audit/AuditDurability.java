package dev.warden.core.audit;

import dev.warden.core.statement.Analysis;
import dev.warden.core.statement.Statement;
import dev.warden.core.statement.StatementFlag;
import dev.warden.core.statement.StatementKind;
import java.util.EnumSet;
import java.util.Set;

/**
 * Which statements wait for their intent record to be fsynced before they run: everything that
 * changes data, schema, privileges or settings, or might (a function with side effects, a user
 * function, dynamic SQL, EXPLAIN ANALYZE, a statement Warden cannot analyse). Plain reads and
 * transaction control are recorded within the trail's bounded window instead; strict mode makes
 * every statement wait.
 */
public final class AuditDurability {
  private AuditDurability() {}

  private static final Set<StatementKind> READS =
      EnumSet.of(StatementKind.READ, StatementKind.TRANSACTION);

  private static final Set<StatementFlag> MAY_CHANGE =
      EnumSet.of(
          StatementFlag.DYNAMIC_SQL,
          StatementFlag.SIDE_EFFECTS,
          StatementFlag.ROLE_SWITCH,
          StatementFlag.COPY_PROGRAM,
          StatementFlag.COPY_SERVER_FILE,
          StatementFlag.ALTER_SYSTEM,
          StatementFlag.EXPLAIN_ANALYZE,
          StatementFlag.DESTRUCTIVE,
          StatementFlag.READ_WRITE_ESCAPE,
          StatementFlag.USER_FUNCTION);

  /** How durable the intent of a statement with {@code analysis} must be before it runs. */
  public static Durability of(Analysis analysis, boolean strict) {
    if (strict || analysis.statements().isEmpty()) {
      return Durability.IMMEDIATE;
    }
    for (Statement s : analysis.statements()) {
      if (!READS.contains(s.kind())) {
        return Durability.IMMEDIATE;
      }
      for (StatementFlag f : s.flags()) {
        if (MAY_CHANGE.contains(f)) {
          return Durability.IMMEDIATE;
        }
      }
    }
    return Durability.BOUNDED;
  }
}
