package dev.warden.core.policy;

import dev.warden.core.environment.Environment;
import dev.warden.core.environment.TlsMode;
import dev.warden.core.environment.Upstream;
import dev.warden.core.gate.SessionContext;
import dev.warden.core.identity.AuthMethod;
import dev.warden.core.identity.Identity;
import dev.warden.core.identity.Secret;
import dev.warden.core.statement.Analysis;
import dev.warden.core.statement.ColumnRef;
import dev.warden.core.statement.LexicalSettings;
import dev.warden.core.statement.SqlAnalyzer;
import dev.warden.core.statement.Statement;
import dev.warden.core.statement.StatementFlag;
import dev.warden.core.statement.StatementKind;
import dev.warden.core.statement.TableRef;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Hand-built statement facts for the policy tests, and a test analyser that maps a text to them
 * (returning the same instance for a repeated text, as the real analyser's cache does).
 */
final class Facts implements SqlAnalyzer {
  private final Map<String, Analysis> byText = new HashMap<>();
  int calls;

  Facts with(String sql, Statement... statements) {
    byText.put(sql, new Analysis(List.of(statements), "fp-" + sql));
    return this;
  }

  @Override
  public Analysis analyze(String sql, LexicalSettings settings) {
    calls++;
    Analysis a = byText.get(sql);
    if (a == null) {
      throw new IllegalStateException("no facts for " + sql);
    }
    return a;
  }

  static Statement statement(
      StatementKind kind, String command, Set<TableRef> read, Set<TableRef> written) {
    return new Statement(
        kind,
        command,
        read,
        written,
        Set.of(),
        Set.of(),
        Set.of(),
        true,
        false,
        Set.of(),
        "",
        "",
        Optional.empty());
  }

  static Statement select(String table) {
    return new Statement(
        StatementKind.READ,
        "SELECT",
        Set.of(TableRef.unqualified(table)),
        Set.of(),
        Set.of(new ColumnRef(TableRef.unqualified(table), "id")),
        Set.of(),
        Set.of("lower"),
        true,
        false,
        Set.of(),
        "",
        "",
        Optional.empty());
  }

  static Statement drop(String table) {
    return new Statement(
        StatementKind.DDL,
        "DROP TABLE",
        Set.of(),
        Set.of(new TableRef("public", table)),
        Set.of(),
        Set.of(),
        Set.of(),
        true,
        false,
        Set.of(StatementFlag.DESTRUCTIVE),
        "",
        "",
        Optional.empty());
  }

  static Statement delete(String table, boolean where) {
    return new Statement(
        StatementKind.WRITE,
        "DELETE",
        Set.of(),
        Set.of(TableRef.unqualified(table)),
        Set.of(),
        Set.of(),
        Set.of(),
        where,
        false,
        where ? Set.of() : Set.of(StatementFlag.UNBOUNDED),
        "",
        "",
        Optional.empty());
  }

  static Statement prepare(String name, Statement inner) {
    return new Statement(
        StatementKind.SESSION,
        "PREPARE",
        Set.of(),
        Set.of(),
        Set.of(),
        Set.of(),
        Set.of(),
        true,
        false,
        Set.of(),
        "",
        name,
        Optional.of(inner));
  }

  static Statement execute(String name) {
    return new Statement(
        StatementKind.SESSION,
        "EXECUTE",
        Set.of(),
        Set.of(),
        Set.of(),
        Set.of(),
        Set.of(),
        true,
        false,
        Set.of(),
        "",
        name,
        Optional.empty());
  }

  static Environment environment(String name, String... tags) {
    return new Environment(
        name,
        Set.of(tags),
        List.of("*"),
        new Upstream(
            "localhost",
            5432,
            Optional.empty(),
            "postgres",
            Secret.of(""),
            TlsMode.DISABLE,
            Optional.empty()));
  }

  static SessionContext session(String user, Set<String> groups, Environment environment) {
    return new SessionContext(
        "s1",
        new Identity(user, groups, AuthMethod.SCRAM_SHA_256),
        environment,
        "10.1.2.3:51234",
        "shop",
        "psql");
  }
}
