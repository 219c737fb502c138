package dev.warden.core.policy;

import dev.cel.runtime.CelVariableResolver;
import dev.warden.core.statement.ColumnRef;
import dev.warden.core.statement.Statement;
import dev.warden.core.statement.StatementFlag;
import dev.warden.core.statement.TableRef;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.TreeSet;

/**
 * The values of the condition variables for one statement, computed when a condition first asks for
 * them: most conditions read two or three variables.
 */
final class Variables implements CelVariableResolver {
  private final Statement statement;
  private final boolean multiStatement;
  private final PolicyInput input;

  Variables(Statement statement, boolean multiStatement, PolicyInput input) {
    this.statement = statement;
    this.multiStatement = multiStatement;
    this.input = input;
  }

  @Override
  public Optional<Object> find(String name) {
    return Optional.ofNullable(value(name));
  }

  private Object value(String name) {
    return switch (name) {
      case "identity.name" -> input.session().identity().name();
      case "identity.groups" -> sorted(input.session().identity().groups());
      case "identity.method" -> input.session().identity().method().name().toLowerCase(Locale.ROOT);
      case "env.name" -> input.session().environment().name();
      case "env.tags" -> sorted(input.session().environment().tags());
      case "session.database" -> input.session().database();
      case "session.application" -> input.session().applicationName();
      case "session.source" -> input.source();
      case Conditions.REQUEST_TIME -> input.time();
      case "request.path" -> input.path().name().toLowerCase(Locale.ROOT);
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
