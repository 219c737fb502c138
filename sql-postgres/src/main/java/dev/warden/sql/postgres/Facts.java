package dev.warden.sql.postgres;

import dev.warden.core.statement.ColumnRef;
import dev.warden.core.statement.CopyOut;
import dev.warden.core.statement.ReasonSetting;
import dev.warden.core.statement.Statement;
import dev.warden.core.statement.StatementFlag;
import dev.warden.core.statement.StatementKind;
import dev.warden.core.statement.TableRef;
import java.util.EnumSet;
import java.util.LinkedHashSet;
import java.util.Optional;
import java.util.Set;

/**
 * The facts of one statement while its tree is walked; turned into a {@link Statement} at the end.
 */
final class Facts {
  StatementKind kind;
  String command;
  final Set<TableRef> tablesRead = new LinkedHashSet<>();
  final Set<TableRef> tablesWritten = new LinkedHashSet<>();
  final Set<ColumnRef> columnsRead = new LinkedHashSet<>();
  final Set<ColumnRef> columnsWritten = new LinkedHashSet<>();
  final Set<ColumnRef> columnsComputed = new LinkedHashSet<>();
  final Set<ColumnRef> columnsFiltered = new LinkedHashSet<>();
  final Set<String> functions = new LinkedHashSet<>();
  final EnumSet<StatementFlag> flags = EnumSet.noneOf(StatementFlag.class);

  /** Rows were changed somewhere in the tree (DML, also inside a CTE; nextval). */
  boolean writes;

  /** Every UPDATE/DELETE in the tree has a WHERE clause. */
  boolean hasWhere = true;

  /** Some UPDATE/DELETE/MERGE in the tree has a condition that holds for every row. */
  boolean whereTriviallyTrue;

  String unknownReason = "";
  String preparedName = "";
  Optional<Statement> inner = Optional.empty();
  Optional<ReasonSetting> reasonSetting = Optional.empty();
  Optional<CopyOut> copyOut = Optional.empty();

  Facts(StatementKind kind, String command) {
    this.kind = kind;
    this.command = command;
  }

  void reason(String why) {
    if (unknownReason.isEmpty()) {
      unknownReason = why;
    } else if (!unknownReason.contains(why)) {
      unknownReason = unknownReason + "; " + why;
    }
  }

  /** Adds everything {@code other} does, as part of this statement. */
  void absorb(Statement other) {
    tablesRead.addAll(other.tablesRead());
    tablesWritten.addAll(other.tablesWritten());
    columnsRead.addAll(other.columnsRead());
    columnsWritten.addAll(other.columnsWritten());
    columnsComputed.addAll(other.columnsComputed());
    columnsFiltered.addAll(other.columnsFiltered());
    functions.addAll(other.functions());
    flags.addAll(other.flags());
    hasWhere &= other.hasWhere();
    whereTriviallyTrue |= other.whereTriviallyTrue();
    if (!other.unknownReason().isEmpty()) {
      reason(other.unknownReason());
    }
  }

  Statement toStatement() {
    if (kind == StatementKind.READ && writes) {
      kind = StatementKind.WRITE;
    }
    for (ColumnRef c : columnsRead) {
      if (tablesWritten.contains(c.table())) {
        tablesRead.add(c.table()); // an UPDATE or DELETE reading its target's rows
      }
    }
    if (kind == StatementKind.UNKNOWN && unknownReason.isEmpty()) {
      unknownReason = "not analysed";
    }
    return new Statement(
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
        reasonSetting,
        copyOut);
  }
}
