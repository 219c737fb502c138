package dev.warden.server.approval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warden.core.approval.ApprovalException;
import dev.warden.core.approval.ApprovalRequest;
import dev.warden.core.approval.ApprovalStore;
import dev.warden.core.approval.Approvals;
import dev.warden.core.environment.Environment;
import dev.warden.core.environment.TlsMode;
import dev.warden.core.environment.Upstream;
import dev.warden.core.gate.ApprovalGate.Answer;
import dev.warden.core.gate.ApprovalGate.Question;
import dev.warden.core.gate.Decision;
import dev.warden.core.gate.SessionContext;
import dev.warden.core.gate.StatementPath;
import dev.warden.core.gate.StatementRequest;
import dev.warden.core.gate.Verdict;
import dev.warden.core.identity.AuthMethod;
import dev.warden.core.identity.Identity;
import dev.warden.core.identity.Secret;
import dev.warden.core.policy.PolicyGatekeeper;
import dev.warden.core.statement.LexicalSettings;
import dev.warden.core.statement.PreparedStatements;
import dev.warden.server.policy.PolicyFile;
import dev.warden.sql.postgres.PostgresAnalyzer;
import dev.warden.sql.postgres.PostgresRedactor;
import dev.warden.store.embedded.EmbeddedStore;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The gateway's answers for statements the default policy's guardrails deny in production, over the
 * embedded store: without a reason, the guardrail's refusal at once with a break-glass hint and
 * nothing stored; with one (a comment or the session's {@code SET warden.reason}), a request only
 * break-glass approves, never approved automatically, measured only where measuring runs nothing a
 * rollback would not undo; once approved as break-glass, the same statement runs once.
 */
class ApprovalGatewayBreakGlassTest {
  private static final byte[] KEY = "0123456789abcdef0123456789abcdef".getBytes();
  private static final Environment PROD =
      new Environment(
          "prod",
          Set.of("production"),
          List.of(Environment.ANY_DATABASE),
          new Upstream(
              "127.0.0.1",
              5432,
              Optional.empty(),
              "postgres",
              Secret.of(""),
              TlsMode.DISABLE,
              Optional.empty()));
  private static final SessionContext ALICE =
      new SessionContext(
          "s1",
          new Identity("alice", Set.of("dev"), AuthMethod.SCRAM_SHA_256),
          PROD,
          "10.1.2.3:51234",
          "shop",
          "psql");
  private static final Identity BOB =
      new Identity("bob", Set.of("approvers"), AuthMethod.SCRAM_SHA_256);

  @TempDir Path dir;
  private EmbeddedStore store;
  private Approvals approvals;
  private ApprovalGateway gateway;
  private final List<String> measured = new ArrayList<>();
  private final List<String> autoAsked = new ArrayList<>();
  private final PolicyGatekeeper gatekeeper =
      new PolicyGatekeeper(
          new PostgresAnalyzer(), PolicyFile::defaultPolicy, Set.of(), InstantSource.system());

  @BeforeEach
  void start() {
    store = EmbeddedStore.open(dir, "test", Clock.systemUTC());
    approvals = new Approvals(store.approvals(), Clock.systemUTC(), new SecureRandom());
    gateway =
        new ApprovalGateway(
            approvals,
            KEY,
            new PostgresRedactor(),
            (decision, session, rows, reason) -> {
              autoAsked.add(decision.rule());
              return Optional.of("approve-everything");
            },
            (session, decision, text, parameters) -> {
              measured.add(text);
              return OptionalLong.of(42);
            },
            Optional.empty());
  }

  @AfterEach
  void stop() {
    gateway.close();
    approvals.close();
    store.close();
  }

  private Decision decide(String sql) {
    return gatekeeper.decide(
        StatementRequest.sql(
            ALICE,
            sql,
            Optional.empty(),
            StatementPath.SIMPLE,
            LexicalSettings.DEFAULT,
            new PreparedStatements()));
  }

  private CompletableFuture<Answer> ask(String sql, Optional<String> sessionReason) {
    Decision d = decide(sql);
    assertThat(d.approval()).as(sql).isPresent();
    Question q = Question.of(ALICE, d, sql, List.of(), notice -> {});
    return gateway.check(
        new Question(
            q.session(),
            q.decision(),
            q.requirement(),
            q.refusal(),
            q.text(),
            q.parameters(),
            sessionReason,
            q.rows(),
            q.notice()));
  }

  private Answer answer(String sql) throws Exception {
    return ask(sql, Optional.empty()).get(10, TimeUnit.SECONDS);
  }

  private List<ApprovalRequest> requests() {
    return approvals.list(ApprovalStore.Filter.all());
  }

  @Test
  void withoutAReasonTheGuardrailsRefusalComesAtOnceWithABreakGlassHintAndNothingIsStored()
      throws Exception {
    Verdict.Deny guardrail = (Verdict.Deny) decide("DROP TABLE orders").verdict();
    CompletableFuture<Answer> asked = ask("DROP TABLE orders", Optional.of("  "));
    assertThat(asked).as("answered on the caller's thread, without the store").isDone();
    Answer.Refused no = (Answer.Refused) asked.get();
    assertThat(no.requestId()).isEmpty();
    assertThat(no.deny().sqlState()).isEqualTo(guardrail.sqlState());
    assertThat(no.deny().message()).isEqualTo(guardrail.message());
    assertThat(no.deny().hint())
        .isEqualTo(
            guardrail.hint()
                + " A reviewer in approvers can let it through once as break-glass: give your"
                + " reason, /* reason: ... */ in the statement or SET warden.reason = '...' before"
                + " it, and send it again to make a request.");
    assertThat(requests()).isEmpty();
    assertThat(measured).isEmpty();
    assertThat(autoAsked).isEmpty();
  }

  @Test
  void withAReasonARequestOnlyBreakGlassApprovesIsMadeAndTheStatementRunsOnceApproved()
      throws Exception {
    String drop = "/* reason: INC-9 */ DROP TABLE orders";
    Answer.Refused first = (Answer.Refused) answer(drop);
    String id = first.requestId();
    assertThat(id).startsWith(Approvals.ID_PREFIX);
    assertThat(first.deny().sqlState()).isEqualTo("42501");
    assertThat(first.deny().message())
        .startsWith(
            "Warden refused this statement: DROP is not allowed in production (rule"
                + " \"production-drop\"); request "
                + id)
        .contains("only a break-glass approval by a reviewer in approvers can let it through");
    assertThat(first.deny().hint())
        .contains("warden approvals approve " + id + " --break-glass --comment");
    assertThat(autoAsked).as("no automatic approval for a guardrail's denial").isEmpty();
    assertThat(measured).as("a DROP is not measured").isEmpty();

    ApprovalRequest request = approvals.find(id).orElseThrow();
    assertThat(request.rule()).isEqualTo("production-drop");
    assertThat(request.why()).contains("DROP is not allowed in production");
    assertThat(request.reason()).contains("INC-9");
    assertThat(request.requirement().breakGlassOnly()).isTrue();
    assertThat(((Answer.Refused) answer(drop)).requestId()).as("no second request").isEqualTo(id);

    assertThatThrownBy(() -> approvals.review(id, BOB, true, "ok", false))
        .isInstanceOfSatisfying(
            ApprovalException.class,
            e -> assertThat(e.reason()).isEqualTo(ApprovalException.Reason.BREAK_GLASS_REQUIRED));
    approvals.review(id, BOB, true, "INC-9, the table is corrupt", true);

    Answer.Approved yes = (Answer.Approved) answer(drop);
    assertThat(yes.requestId()).isEqualTo(id);
    assertThat(yes.how()).isEqualTo("break-glass by bob");
    Answer.Refused again = (Answer.Refused) answer(drop);
    assertThat(again.requestId()).as("once, then a new request").isNotEqualTo(id);
  }

  @Test
  void theSessionsReasonMakesARequestToo() throws Exception {
    Answer.Refused no =
        (Answer.Refused) ask("TRUNCATE orders", Optional.of("INC-12")).get(10, TimeUnit.SECONDS);
    assertThat(approvals.find(no.requestId()).orElseThrow().reason()).contains("INC-12");
    assertThat(approvals.find(no.requestId()).orElseThrow().rule())
        .isEqualTo("production-truncate");
  }

  @Test
  void onlyWhatARollbackUndoesIsMeasured() throws Exception {
    Answer.Refused unbounded = (Answer.Refused) answer("/* reason: INC-1 */ DELETE FROM orders");
    assertThat(measured).containsExactly("/* reason: INC-1 */ DELETE FROM orders");
    assertThat(approvals.find(unbounded.requestId()).orElseThrow().rows()).hasValue(42);

    measured.clear();
    for (String sql :
        List.of(
            "/* reason: INC-2 */ UPDATE orders SET note = myschema.audit_and_mail()",
            "/* reason: INC-3 */ DELETE FROM orders WHERE pg_terminate_backend(42)",
            "/* reason: INC-4 */ DO $$ BEGIN DELETE FROM orders; END $$")) {
      Answer.Refused no = (Answer.Refused) answer(sql);
      assertThat(approvals.find(no.requestId()).orElseThrow().rows()).as(sql).isEmpty();
    }
    assertThat(measured).isEmpty();
  }
}
