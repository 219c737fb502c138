package dev.warden.core.session;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warden.core.audit.Redactor;
import dev.warden.core.environment.Environment;
import dev.warden.core.environment.TlsMode;
import dev.warden.core.environment.Upstream;
import dev.warden.core.gate.Decision;
import dev.warden.core.gate.SessionContext;
import dev.warden.core.gate.Verdict;
import dev.warden.core.identity.AuthMethod;
import dev.warden.core.identity.Identity;
import dev.warden.core.identity.Secret;
import dev.warden.core.statement.Analysis;
import dev.warden.core.statement.LexicalSettings;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

class SessionRegistryTest {
  private static final Instant T0 = Instant.parse("2026-11-28T09:00:00Z");

  /** Redacts the word {@code hunter2} as the audit's redactor would a password. */
  private static final Redactor REDACTOR = (sql, lexical) -> sql.replace("hunter2", "'***'");

  private final SessionRegistry registry = new SessionRegistry(REDACTOR);

  @Test
  void aSessionIsFoundByItsIdUntilItIsRemoved() {
    Fake s = new Fake("a1", "alice", "production", T0);
    registry.add(s);
    assertThat(registry.find("a1")).containsSame(s);
    assertThat(registry.size()).isEqualTo(1);
    registry.remove(s);
    assertThat(registry.find("a1")).isEmpty();
    assertThat(registry.snapshot("a1")).isEmpty();
    assertThat(registry.size()).isZero();
  }

  @Test
  void anIdIsRegisteredOnceAndRemovingAnotherSessionWithItLeavesTheFirst() {
    Fake first = new Fake("a1", "alice", "production", T0);
    registry.add(first);
    Fake twin = new Fake("a1", "bob", "production", T0);
    assertThatThrownBy(() -> registry.add(twin)).isInstanceOf(IllegalStateException.class);
    registry.remove(twin);
    assertThat(registry.find("a1")).containsSame(first);
  }

  @Test
  void aSnapshotShowsTheSessionWithItsLastStatementRedacted() {
    Fake s = new Fake("a1", "alice", "production", T0);
    s.state = SessionState.IN_TRANSACTION;
    s.statements = 7;
    s.last =
        new LiveSession.LastStatement(
            "ALTER ROLE app PASSWORD hunter2", LexicalSettings.DEFAULT, T0.plusSeconds(5));
    registry.add(s);
    SessionSnapshot snap = registry.snapshot("a1").orElseThrow();
    assertThat(snap.user()).isEqualTo("alice");
    assertThat(snap.groups()).containsExactly("auditors", "dev"); // sorted
    assertThat(snap.authMethod()).isEqualTo("scram-sha-256");
    assertThat(snap.onBehalfOf()).isEmpty();
    assertThat(snap.environment()).isEqualTo("production");
    assertThat(snap.database()).isEqualTo("shop");
    assertThat(snap.source()).isEqualTo("127.0.0.1:50000");
    assertThat(snap.application()).isEqualTo("psql");
    assertThat(snap.role()).isEqualTo("app_ro");
    assertThat(snap.started()).isEqualTo(T0);
    assertThat(snap.state()).isEqualTo(SessionState.IN_TRANSACTION);
    assertThat(snap.statements()).isEqualTo(7);
    assertThat(snap.lastStatement()).contains("ALTER ROLE app PASSWORD '***'");
    assertThat(snap.lastStatementAt()).contains(T0.plusSeconds(5));
  }

  @Test
  void aSessionWithoutStatementsHasNoLastStatement() {
    registry.add(new Fake("a1", "alice", "production", T0));
    SessionSnapshot snap = registry.snapshot("a1").orElseThrow();
    assertThat(snap.lastStatement()).isEmpty();
    assertThat(snap.lastStatementAt()).isEmpty();
    assertThat(snap.state()).isEqualTo(SessionState.IDLE);
  }

  @Test
  void snapshotsAreOldestFirstAndCountedPerEnvironment() {
    registry.add(new Fake("c", "carol", "staging", T0.plusSeconds(2)));
    registry.add(new Fake("a", "alice", "production", T0));
    registry.add(new Fake("b", "bob", "production", T0.plusSeconds(1)));
    assertThat(registry.snapshots()).extracting(SessionSnapshot::id).containsExactly("a", "b", "c");
    assertThat(registry.sizeByEnvironment()).isEqualTo(Map.of("production", 2, "staging", 1));
  }

  @Test
  void terminatingGoesToTheSessionItself() {
    Fake s = new Fake("a1", "alice", "production", T0);
    registry.add(s);
    registry.find("a1").orElseThrow().terminate("root", "left the company");
    assertThat(s.terminatedBy).containsExactly("root: left the company");
  }

  @Test
  void countersCountStatementsByTheVerdictTheAuditRecords() {
    EnvironmentCounters c = registry.counters("production");
    assertThat(registry.counters("production")).isSameAs(c);
    c.statement(decision(Verdict.ALLOW, false));
    c.statement(decision(Verdict.ALLOW, false));
    c.statement(decision(Verdict.ALLOW, true));
    c.statement(decision(new Verdict.Deny("42501", "no", ""), false));
    c.masked(3);
    c.masked(2);
    c.connectionAccepted();
    c.connectionRefused();
    c.connectionRefused();
    c.connectionFailed();
    assertThat(c.statementsAllowed()).isEqualTo(2);
    assertThat(c.statementsObserved()).isEqualTo(1);
    assertThat(c.statementsDenied()).isEqualTo(1);
    assertThat(c.maskedValues()).isEqualTo(5);
    assertThat(c.connectionsAccepted()).isEqualTo(1);
    assertThat(c.connectionsRefused()).isEqualTo(2);
    assertThat(c.connectionsFailed()).isEqualTo(1);
    registry.counters("");
    assertThat(registry.counters())
        .extracting(EnvironmentCounters::environment)
        .containsExactly("", "production");
  }

  @Test
  void countersAddUpAcrossThreads() throws Exception {
    int threads = 4;
    int each = 10_000;
    CountDownLatch go = new CountDownLatch(1);
    List<Thread> started = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      started.add(
          Thread.ofPlatform()
              .start(
                  () -> {
                    try {
                      go.await();
                    } catch (InterruptedException e) {
                      Thread.currentThread().interrupt();
                      return;
                    }
                    EnvironmentCounters c = registry.counters("production");
                    for (int i = 0; i < each; i++) {
                      c.statement(decision(Verdict.ALLOW, false));
                      c.masked(1);
                    }
                  }));
    }
    go.countDown();
    for (Thread t : started) {
      t.join();
    }
    assertThat(registry.counters("production").statementsAllowed())
        .isEqualTo((long) threads * each);
    assertThat(registry.counters("production").maskedValues()).isEqualTo((long) threads * each);
  }

  private static Decision decision(Verdict verdict, boolean observed) {
    return new Decision(
        verdict, new Analysis(List.of(), "fp"), "", observed, OptionalLong.empty(), null, 1, true);
  }

  /** A session as a protocol engine would show it, with its facts set by the test. */
  private static final class Fake implements LiveSession {
    private final SessionContext context;
    private final Instant started;
    SessionState state = SessionState.IDLE;
    long statements;
    LastStatement last;
    final List<String> terminatedBy = new ArrayList<>();

    Fake(String id, String user, String environment, Instant started) {
      Upstream upstream =
          new Upstream(
              "127.0.0.1",
              5432,
              Optional.empty(),
              "postgres",
              Secret.of(""),
              TlsMode.DISABLE,
              Optional.empty());
      this.context =
          new SessionContext(
              id,
              new Identity(user, Set.of("dev", "auditors"), AuthMethod.SCRAM_SHA_256),
              new Environment(environment, Set.of(), List.of(Environment.ANY_DATABASE), upstream),
              "127.0.0.1:50000",
              "shop",
              "psql");
      this.started = started;
    }

    @Override
    public SessionContext context() {
      return context;
    }

    @Override
    public String upstreamRole() {
      return "app_ro";
    }

    @Override
    public Instant started() {
      return started;
    }

    @Override
    public SessionState state() {
      return state;
    }

    @Override
    public long statements() {
      return statements;
    }

    @Override
    public Optional<LastStatement> lastStatement() {
      return Optional.ofNullable(last);
    }

    @Override
    public java.util.concurrent.CompletableFuture<Void> terminate(
        String administrator, String reason) {
      terminatedBy.add(administrator + ": " + reason);
      return java.util.concurrent.CompletableFuture.completedFuture(null);
    }
  }
}
