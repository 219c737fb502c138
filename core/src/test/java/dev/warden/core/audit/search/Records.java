package dev.warden.core.audit.search;

import dev.warden.core.audit.AuditEncoder;
import dev.warden.core.audit.AuditEvent;
import dev.warden.core.audit.Durability;
import dev.warden.core.audit.Redactor;
import dev.warden.core.audit.StatementIntent;
import dev.warden.core.audit.StatementOutcome;
import dev.warden.core.environment.Environment;
import dev.warden.core.environment.TlsMode;
import dev.warden.core.environment.Upstream;
import dev.warden.core.gate.Decision;
import dev.warden.core.gate.SessionContext;
import dev.warden.core.gate.StatementPath;
import dev.warden.core.gate.Verdict;
import dev.warden.core.identity.AuthMethod;
import dev.warden.core.identity.Identity;
import dev.warden.core.identity.Secret;
import dev.warden.core.statement.Analysis;
import dev.warden.core.statement.ColumnRef;
import dev.warden.core.statement.LexicalSettings;
import dev.warden.core.statement.Statement;
import dev.warden.core.statement.StatementKind;
import dev.warden.core.statement.TableRef;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;

/** Records' fields as {@link AuditEncoder} writes them, for the search tests. */
final class Records {
  static final AuditEncoder ENCODER = new AuditEncoder("warden-a", Redactor.NONE, new byte[32]);

  private Records() {}

  static SessionContext session(String id, String user, String env) {
    Upstream upstream =
        new Upstream(
            "127.0.0.1",
            5432,
            Optional.empty(),
            "warden",
            Secret.of("not-recorded"),
            TlsMode.DISABLE,
            Optional.empty());
    return new SessionContext(
        id,
        new Identity(user, Set.of("analysts", "staff"), AuthMethod.SCRAM_SHA_256),
        new Environment(env, Set.of(env), List.of("shop"), upstream),
        "10.0.0.7:51234",
        "shop",
        "psql");
  }

  static Statement statement(StatementKind kind, String command, String table, String column) {
    TableRef t = new TableRef("public", table);
    boolean write = kind == StatementKind.WRITE;
    return new Statement(
        kind,
        command,
        write ? Set.of() : Set.of(t),
        write ? Set.of(t) : Set.of(),
        Set.of(new ColumnRef(t, column)),
        Set.of(),
        Set.of(),
        true,
        false,
        Set.of(),
        "",
        "",
        Optional.empty());
  }

  static Map<String, Object> intent(
      Instant time, SessionContext s, long n, String text, Statement statement, Verdict verdict) {
    Decision d =
        new Decision(
            verdict,
            new Analysis(List.of(statement), "fp-" + statement.command().toLowerCase()),
            verdict instanceof Verdict.Deny ? "no-deletes" : "",
            false,
            OptionalLong.empty(),
            null,
            1,
            true);
    return ENCODER.fields(
        new StatementIntent(
            time,
            s,
            n,
            StatementPath.SIMPLE,
            text,
            LexicalSettings.DEFAULT,
            "",
            d,
            Durability.IMMEDIATE));
  }

  static Map<String, Object> outcome(
      Instant time, String session, long n, StatementOutcome.Status status, long rows, long us) {
    return ENCODER.fields(
        new StatementOutcome(
            time,
            session,
            n,
            status,
            OptionalLong.of(rows),
            "SELECT " + rows,
            us * 1000,
            status == StatementOutcome.Status.ERROR ? "57014" : "",
            List.of()));
  }

  static Map<String, Object> event(Instant time, String name, String actor) {
    return ENCODER.fields(
        new AuditEvent(time, name, true, actor, Optional.empty(), Map.of("method", "scram")));
  }
}
