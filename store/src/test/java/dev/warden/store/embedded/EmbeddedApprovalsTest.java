package dev.warden.store.embedded;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warden.core.approval.ApprovalException;
import dev.warden.core.approval.ApprovalRequest;
import dev.warden.core.approval.ApprovalRequest.Status;
import dev.warden.core.approval.ApprovalRequirement;
import dev.warden.core.approval.Approvals;
import dev.warden.core.identity.AuthMethod;
import dev.warden.core.identity.Identity;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The approval rules over the SQLite store, with the server and the {@code warden approvals} CLI as
 * two stores open on the same file, as two processes have them.
 */
class EmbeddedApprovalsTest {
  private static final byte[] KEY = "0123456789abcdef0123456789abcdef".getBytes();

  @TempDir Path dataDir;

  private EmbeddedStore serverStore;
  private EmbeddedStore cliStore;
  private Approvals server;
  private Approvals cli;

  private final Identity alice = new Identity("alice", Set.of("dev"), AuthMethod.OIDC);
  private final Identity bob = new Identity("bob", Set.of("approvers"), AuthMethod.OIDC);

  @BeforeEach
  void open() {
    serverStore = EmbeddedStore.open(dataDir);
    cliStore = EmbeddedStore.open(dataDir);
    server = new Approvals(serverStore.approvals(), Clock.systemUTC(), new SecureRandom());
    cli = new Approvals(cliStore.approvals(), Clock.systemUTC(), new SecureRandom());
  }

  @AfterEach
  void close() {
    server.close();
    cli.close();
    serverStore.close();
    cliStore.close();
  }

  private static String bind(String text, byte[]... parameters) {
    return Approvals.binding(KEY, text, Arrays.asList(parameters));
  }

  private ApprovalRequest ask(String text, String binding) {
    return server.request(
        new Approvals.Draft(
            alice,
            "production",
            "app",
            text,
            "fp",
            binding,
            "big-deletes",
            "deletes need approval",
            Optional.of("cleanup"),
            OptionalLong.of(12),
            ApprovalRequirement.DEFAULT));
  }

  @Test
  void approvedByTheCliUsedOnceByTheServer() {
    String text = "DELETE FROM t WHERE id = $1";
    String binding = bind(text, "7".getBytes(StandardCharsets.UTF_8));
    ApprovalRequest r = ask(text, binding);
    assertThat(ask(text, binding)).isEqualTo(r);
    assertThat(server.consume("alice", "production", binding)).isEmpty();

    assertThatThrownBy(
            () ->
                cli.review(
                    r.id(),
                    new Identity("alice", Set.of("approvers"), AuthMethod.OIDC),
                    true,
                    "",
                    false))
        .isInstanceOf(ApprovalException.class)
        .satisfies(
            e ->
                assertThat(((ApprovalException) e).reason())
                    .isEqualTo(ApprovalException.Reason.SELF_REVIEW));
    assertThat(cli.review(r.id(), bob, true, "fine", false).status()).isEqualTo(Status.APPROVED);

    assertThat(server.consume("alice", "production", bind(text, "8".getBytes()))).isEmpty();
    assertThat(server.consume("alice", "production", bind(text, (byte[]) null))).isEmpty();
    assertThat(server.consume("alice", "production", binding))
        .hasValueSatisfying(u -> assertThat(u.id()).isEqualTo(r.id()));
    assertThat(server.consume("alice", "production", binding)).isEmpty();
    assertThat(cli.consume("alice", "production", binding)).isEmpty();
    assertThat(cli.status("alice", "production", binding))
        .hasValueSatisfying(s -> assertThat(s.status()).isEqualTo(Status.USED));
  }

  @Test
  void ofSessionsInTwoProcessesRacingForOneApprovalExactlyOneWins() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(6);
    try {
      for (int round = 0; round < 10; round++) {
        String binding = bind("DELETE FROM t WHERE id = " + round);
        ApprovalRequest r = ask("DELETE FROM t WHERE id = " + round, binding);
        cli.review(r.id(), bob, true, "", false);
        CountDownLatch start = new CountDownLatch(1);
        List<Future<Optional<ApprovalRequest>>> racers = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
          Approvals side = i % 2 == 0 ? server : cli;
          racers.add(
              pool.submit(
                  () -> {
                    start.await();
                    return side.consume("alice", "production", binding);
                  }));
        }
        start.countDown();
        int winners = 0;
        for (Future<Optional<ApprovalRequest>> f : racers) {
          winners += f.get(60, TimeUnit.SECONDS).isPresent() ? 1 : 0;
        }
        assertThat(winners).as("round %d", round).isEqualTo(1);
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void aHeldStatementLearnsOfADenialMadeInTheCli() throws Exception {
    ApprovalRequest r = ask("DROP TABLE t", bind("DROP TABLE t"));
    CompletableFuture<ApprovalRequest> held = server.decided(r.id());

    cli.review(r.id(), bob, false, "not today", false);

    ApprovalRequest decided = held.get(30, TimeUnit.SECONDS);
    assertThat(decided.status()).isEqualTo(Status.DENIED);
    assertThat(decided.reviews())
        .singleElement()
        .satisfies(
            rv -> {
              assertThat(rv.reviewer()).isEqualTo("bob");
              assertThat(rv.comment()).isEqualTo("not today");
            });
  }

  @Test
  void aShortLivedRequestExpiresInTheStore() throws Exception {
    ApprovalRequirement brief =
        new ApprovalRequirement(
            Set.of("approvers"),
            1,
            false,
            ApprovalRequirement.Wait.HOLD,
            Duration.ofSeconds(1),
            Duration.ofMillis(1),
            false,
            false);
    ApprovalRequest r =
        server.request(
            new Approvals.Draft(
                alice,
                "production",
                "app",
                "DROP TABLE t",
                "fp",
                bind("DROP TABLE t"),
                "r",
                "why",
                Optional.empty(),
                OptionalLong.empty(),
                brief));

    // Generous: the request's lifetime is a millisecond; the wait only guards against a hang.
    assertThat(server.decided(r.id()).get(30, TimeUnit.SECONDS).status()).isEqualTo(Status.EXPIRED);
    assertThat(cliStore.approvals().find(r.id()).orElseThrow().status()).isEqualTo(Status.EXPIRED);
  }
}
