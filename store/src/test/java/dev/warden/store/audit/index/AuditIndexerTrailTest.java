package dev.warden.store.audit.index;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.core.audit.AuditEncoder;
import dev.warden.core.audit.Durability;
import dev.warden.core.audit.Redactor;
import dev.warden.core.audit.StatementOutcome.Status;
import dev.warden.core.audit.search.AuditHit;
import dev.warden.core.audit.search.AuditQuery;
import dev.warden.core.gate.SessionContext;
import dev.warden.core.statement.StatementKind;
import dev.warden.store.audit.AuditKeys;
import dev.warden.store.audit.AuditLogSettings;
import dev.warden.store.audit.EmbeddedAuditTrail;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The index following the real embedded trail, wired as the server wires it: listener first, then
 * the indexer catching up through the trail's reader; and after a restart with records written
 * while no indexer ran.
 */
class AuditIndexerTrailTest {
  @TempDir Path dir;

  final Clock clock = Clock.systemUTC();
  final AuditLogSettings settings =
      AuditLogSettings.defaults(AuditKeys.generate()).withMinFreeBytes(0);

  EmbeddedAuditTrail openTrail() throws Exception {
    return EmbeddedAuditTrail.open(
        dir.resolve("audit"),
        settings,
        new AuditEncoder("warden-a", Redactor.NONE, new byte[32]),
        clock);
  }

  /**
   * Appends a statement (intent and outcome) of session {@code session}; completes when durable.
   */
  static CompletableFuture<Void> statement(EmbeddedAuditTrail trail, String session, long n) {
    SessionContext s = AuditFixture.session(session, "alice", "production", "psql");
    trail.append(
        AuditFixture.intent(
            Clock.systemUTC().instant(),
            s,
            n,
            "DELETE FROM users WHERE id = " + n,
            AuditFixture.allow(
                AuditFixture.statement(
                    StatementKind.WRITE, "DELETE", "public.users", List.of("id")))),
        Durability.IMMEDIATE);
    return trail.append(
        AuditFixture.outcome(
            Clock.systemUTC().instant(),
            session,
            n,
            Status.OK,
            OptionalLong.of(1),
            Duration.ofMillis(2),
            ""),
        Durability.IMMEDIATE);
  }

  @Test
  void whatTheTrailMakesDurableIsSearchableWithinASecondAndARestartCatchesUp() throws Exception {
    Path indexFile = dir.resolve("index.db");
    try (EmbeddedAuditTrail trail = openTrail();
        AuditIndex index = AuditIndex.open(indexFile, clock)) {
      // Before any indexer: these must come from the reader.
      for (int n = 1; n <= 50; n++) {
        statement(trail, "early", n);
      }
      statement(trail, "early", 51).get(10, TimeUnit.SECONDS);

      try (AuditIndexer indexer = AuditIndexer.start(index, trail.logId(), trail::readAfter)) {
        trail.addListener(indexer::written);
        // Warm up (class loading, JIT, SQLite's first pages) on what was written before.
        assertThat(indexer.awaitIndexed(trail.durableSeq(), 10_000)).isTrue();
        assertThat(index.search(AuditQuery.parse("session:early"), 1).hits()).hasSize(1);
        List<Long> latencies = new ArrayList<>();
        for (int n = 1; n <= 20; n++) {
          statement(trail, "live-" + n, 1).get(10, TimeUnit.SECONDS);
          long durable = System.nanoTime();
          AuditQuery q = AuditQuery.parse("session:live-" + n + " type:outcome");
          while (index.search(q, 1).hits().isEmpty()) {
            assertThat(System.nanoTime() - durable).isLessThan(TimeUnit.SECONDS.toNanos(1));
            Thread.sleep(1);
          }
          latencies.add(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - durable));
        }
        assertThat(latencies).allMatch(ms -> ms < 1000);
        trail.removeListener(indexer::written);
      }
      assertThat(index.search(AuditQuery.parse("session:early rows=1"), 100).hits()).hasSize(51);
    }

    // Records written while nothing indexes them are found after a restart.
    String logId;
    try (EmbeddedAuditTrail trail = openTrail()) {
      logId = trail.logId();
      for (int n = 1; n <= 30; n++) {
        statement(trail, "while-down", n);
      }
      statement(trail, "while-down", 31).get(10, TimeUnit.SECONDS);
    }
    try (EmbeddedAuditTrail trail = openTrail();
        AuditIndex index = AuditIndex.open(indexFile, clock);
        AuditIndexer indexer = AuditIndexer.start(index, trail.logId(), trail::readAfter)) {
      assertThat(trail.logId()).isEqualTo(logId);
      trail.addListener(indexer::written);
      assertThat(indexer.awaitIndexed(trail.durableSeq(), 10_000)).isTrue();
      List<AuditHit> hits =
          index.search(AuditQuery.parse("session:while-down kind:delete"), 100).hits();
      assertThat(hits).hasSize(31);
      assertThat(hits.getFirst().outcomeSeq()).isPresent();
      assertThat(index.search(AuditQuery.parse("type:intent -type:outcome"), 10).hits()).isEmpty();
    }
  }
}
