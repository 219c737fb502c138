package dev.warden.core.policy;

import dev.cel.runtime.CelVariableResolver;
import dev.warden.core.gate.SessionContext;
import dev.warden.core.gate.StatementPath;
import dev.warden.core.statement.ColumnRef;
import dev.warden.core.statement.Statement;
import dev.warden.core.statement.StatementFlag;
import dev.warden.core.statement.TableRef;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.TreeSet;

/**
 * The values of the condition variables for one statement, or for a session being admitted (then
 * there is no statement and no protocol path: access rules may not read them), computed when a
 * condition first asks for them: most conditions read two or three variables.
 */
final class Variables implements CelVariableResolver {
  private final SessionContext session;
  private final Instant time;
  private final StatementPath path;
  private final Statement statement;
  private final boolean multiStatement;
  // Known only while a statement waits for approval: null otherwise (no rule but an automatic
  // approval may read them, which Policy.compile ensures).
  private final Long rows;
  private final String reason;

  Variables(Statement statement, boolean multiStatement, PolicyInput input) {
    this(statement, multiStatement, input, null, null);
  }

  /** The variables of an automatic approval: those of the statement, its rows and the reason. */
  Variables(
      Statement statement, boolean multiStatement, PolicyInput input, Long rows, String reason) {
    this.session = input.session();
    this.time = input.time();
    this.path = input.path();
    this.statement = statement;
    this.multiStatement = multiStatement;
    this.rows = rows;
    this.reason = reason;
  }

  /** The variables of a session being admitted, at {@code time}. */
  private Variables(SessionContext session, Instant time) {
    this.session = session;
    this.time = time;
    this.path = null;
    this.statement = null;
    this.multiStatement = false;
    this.rows = null;
    this.reason = null;
  }

  static Variables forSession(SessionContext session, Instant time) {
    return new Variables(session, time);
  }

  @Override
  public Optional<Object> find(String name) {
    return Optional.ofNullable(value(name));
  }

  private Object value(String name) {
    Object value = sessionValue(name);
    if (value != null || statement == null) {
      return value;
    }
    return switch (name) {
      case "request.path" -> path.name().toLowerCase(Locale.ROOT);
      case "statement.kind" -> statement.kind().name().toLowerCase(Locale.ROOT);
      case "statement.command" -> statement.command();
      case "statement.tables" -> tables(statement.tablesRead(), statement.tablesWritten());
      case "statement.tables_read" -> tables(statement.tablesRead(), List.of());
      case "statement.tables_written" -> tables(statement.tablesWritten(), List.of());
      case "statement.columns" -> columns(statement.columnsRead(), statement.columnsWritten());
      case "statement.columns_read" -> columns(statement.columnsRead(), List.of());
      case "statement.columns_written" -> columns(statement.columnsWritten(), List.of());
      case "statement.columns_computed" -> columns(statement.columnsComputed(), List.of());
      case "statement.columns_filtered" -> columns(statement.columnsFiltered(), List.of());
      case "statement.functions" -> sorted(statement.functions());
      case "statement.flags" -> flags(statement);
      case "statement.has_where" -> statement.hasWhere();
      case "statement.where_trivially_true" -> statement.whereTriviallyTrue();
      case "statement.unknown_reason" -> statement.unknownReason();
      case "statement.multi_statement" -> multiStatement;
      case Conditions.ROWS -> rows;
      case Conditions.REQUEST_REASON -> reason;
      default -> null;
    };
  }

  /** The variables that do not depend on a statement: what access rules may read. */
  private Object sessionValue(String name) {
    return switch (name) {
      case "identity.name" -> session.identity().name();
      case "identity.groups" -> sorted(session.identity().groups());
      case "identity.method" -> session.identity().method().name().toLowerCase(Locale.ROOT);
      case "identity.on_behalf_of" -> session.identity().onBehalfOf().orElse("");
      case "env.name" -> session.environment().name();
      case "env.tags" -> sorted(session.environment().tags());
      case "session.database" -> session.database();
      case "session.application" -> session.applicationName();
      case "session.source" -> PolicyInput.sourceHost(session.clientAddress());
      case Conditions.REQUEST_TIME -> time;
      default -> null;
    };
  }

  static List<String> flags(Statement statement) {
    List<String> flags = new ArrayList<>();
    for (StatementFlag flag : statement.flags()) {
      flags.add(flag.name().toLowerCase(Locale.ROOT));
    }
    flags.sort(null);
    return List.copyOf(flags);
  }

  static List<String> tables(Collection<TableRef> a, Collection<TableRef> b) {
    TreeSet<String> names = new TreeSet<>();
    for (TableRef t : a) {
      names.add(t.qualifiedName());
    }
    for (TableRef t : b) {
      names.add(t.qualifiedName());
    }
    return List.copyOf(names);
  }

  static List<String> columns(Collection<ColumnRef> a, Collection<ColumnRef> b) {
    TreeSet<String> names = new TreeSet<>();
    for (ColumnRef c : a) {
      names.add(c.toString());
    }
    for (ColumnRef c : b) {
      names.add(c.toString());
    }
    return List.copyOf(names);
  }

  private static List<String> sorted(Collection<String> values) {
    return List.copyOf(new TreeSet<>(values));
  }
}
