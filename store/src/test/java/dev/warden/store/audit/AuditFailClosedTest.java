package dev.warden.store.audit;

import static dev.warden.store.audit.AuditFixtures.CLOCK;
import static dev.warden.store.audit.AuditFixtures.assertIntact;
import static dev.warden.store.audit.AuditFixtures.encoder;
import static dev.warden.store.audit.AuditFixtures.event;
import static dev.warden.store.audit.AuditFixtures.records;
import static dev.warden.store.audit.AuditFixtures.settings;
import static dev.warden.store.audit.AuditFixtures.text;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warden.core.audit.AuditUnavailableException;
import dev.warden.core.audit.ChainedRecord;
import dev.warden.core.audit.Durability;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * THREATS AD02 and AD03 through the file seam: a failed write or fsync, or too little free space,
 * fails the waiting records and every later one at once, without a retry; when the disk works again
 * the trail cuts back to its last durable state, records the outage, and accepts records.
 */
class AuditFailClosedTest {
  @TempDir Path dir;
  final FaultyFiles files = new FaultyFiles();

  EmbeddedAuditTrail open() throws Exception {
    return EmbeddedAuditTrail.open(
        dir,
        settings()
            .withProbeInterval(Duration.ofMillis(30))
            .withBoundedWindow(Duration.ofSeconds(5)),
        encoder(),
        CLOCK,
        files);
  }

  static void assertRefused(CompletableFuture<Void> f, String reason) {
    assertThatThrownBy(() -> f.get(10, TimeUnit.SECONDS))
        .isInstanceOf(ExecutionException.class)
        .cause()
        .isInstanceOf(AuditUnavailableException.class)
        .hasMessageContaining(reason);
  }

  static void awaitAvailable(EmbeddedAuditTrail trail) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (trail.unavailable().isPresent() && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertThat(trail.unavailable()).isEmpty();
  }

  @Test
  void aFailedFsyncRefusesTheBatchAndEveryLaterRecordWithoutRetryingThenRecovers()
      throws Exception {
    try (EmbeddedAuditTrail trail = open()) {
      trail.append(event("ok-1"), Durability.IMMEDIATE).get(10, TimeUnit.SECONDS);
      files.failForce.set(true);
      trail.append(event("accepted-before"), Durability.BOUNDED);
      CompletableFuture<Void> failed = trail.append(event("lost"), Durability.IMMEDIATE);
      assertRefused(failed, "fsync failed: Input/output error (injected)");
      assertThat(trail.unavailable()).hasValueSatisfying(r -> assertThat(r).contains("fsync"));

      int writesAfterFailure = files.writes.get();
      assertRefused(trail.append(event("refused"), Durability.IMMEDIATE), "fsync failed");
      assertRefused(trail.append(event("refused-b"), Durability.BOUNDED), "fsync failed");
      Thread.sleep(150);
      // Each probe reopens the segment cut back to its durable length and fsyncs it (which
      // fails while the disk does); the failed batch is never written again, nor is anything
      // else while the trail is unavailable.
      assertThat(files.writes.get()).isEqualTo(writesAfterFailure);
      assertThat(files.failedForces.get()).isGreaterThan(1);
      assertThat(trail.unavailable()).isPresent();

      files.failForce.set(false);
      awaitAvailable(trail);
      trail.append(event("ok-2"), Durability.IMMEDIATE).get(10, TimeUnit.SECONDS);
    }
    List<String> texts = records(dir).stream().map(AuditFixtures::text).toList();
    assertThat(texts).hasSize(4);
    assertThat(texts.get(0)).contains("ok-1");
    // The BOUNDED record was accepted before the failure: it is kept and written at recovery.
    assertThat(texts.get(1)).contains("accepted-before");
    assertThat(texts.get(2))
        .contains("\"event\":\"audit-recovered\"")
        .contains("\"reason\":\"audit log fsync failed: Input/output error (injected)\"")
        .contains("unavailable_since")
        .contains("unavailable_until")
        .contains("\"kept\":\"1\"")
        .contains("\"refused\":\"3\"");
    assertThat(texts.get(3)).contains("ok-2");
    assertThat(String.join("\n", texts))
        .doesNotContain("\"n\":\"lost\"")
        .doesNotContain("\"n\":\"refused");
    assertIntact(dir, Optional.empty());
  }

  @Test
  void aFailedWriteLeavingHalfARecordIsCutBackAtRecovery() throws Exception {
    try (EmbeddedAuditTrail trail = open()) {
      trail.append(event("ok-1"), Durability.IMMEDIATE).get(10, TimeUnit.SECONDS);
      files.failWrites.set(true);
      assertRefused(
          trail.append(event("half"), Durability.IMMEDIATE), "write failed: No space left");
      assertThat(trail.unavailable()).hasValueSatisfying(r -> assertThat(r).contains("write"));
      assertThat(files.failedWrites.get()).isEqualTo(1); // no retry
      // Half a frame is in the file now; a reader stops before it.
      assertThat(records(dir)).hasSize(1);
      files.failWrites.set(false);
      awaitAvailable(trail);
      trail.append(event("ok-2"), Durability.IMMEDIATE).get(10, TimeUnit.SECONDS);
    }
    List<ChainedRecord> all = records(dir);
    assertThat(all).extracting(AuditFixtures::text).hasSize(3);
    assertThat(text(all.get(1))).contains("audit-recovered").contains("write failed");
    assertThat(text(all.get(2))).contains("ok-2");
    assertIntact(dir, Optional.empty());
  }

  @Test
  void tooLittleFreeSpaceFailsClosedBeforeTheDiskIsFullAndRecoversWhenSpaceReturns()
      throws Exception {
    try (EmbeddedAuditTrail trail =
        EmbeddedAuditTrail.open(
            dir,
            settings().withMinFreeBytes(64L << 20).withProbeInterval(Duration.ofMillis(30)),
            encoder(),
            CLOCK,
            files)) {
      files.usable.set(64L << 20);
      trail.append(event("ok-1"), Durability.IMMEDIATE).get(10, TimeUnit.SECONDS);
      files.usable.set((64L << 20) - 1);
      assertRefused(
          trail.append(event("no-room"), Durability.IMMEDIATE),
          "audit disk has less than 64 MiB free (63 MiB left)");
      assertThat(trail.unavailable())
          .hasValueSatisfying(r -> assertThat(r).startsWith("audit disk has less than 64 MiB"));
      Thread.sleep(100);
      assertThat(trail.unavailable()).isPresent(); // the probe waits for space
      files.usable.set(1L << 30);
      awaitAvailable(trail);
      trail.append(event("ok-2"), Durability.IMMEDIATE).get(10, TimeUnit.SECONDS);
    }
    List<String> texts = records(dir).stream().map(AuditFixtures::text).toList();
    assertThat(texts).hasSize(3);
    assertThat(texts.get(1)).contains("audit-recovered").contains("less than 64 MiB free");
    assertIntact(dir, Optional.empty());
  }

  @Test
  void aWriterFarBehindRefusesRecordsBeyondTheQueueLimitWithoutFailingClosed() throws Exception {
    try (EmbeddedAuditTrail trail =
        EmbeddedAuditTrail.open(dir, settings().withMaxQueued(10), encoder(), CLOCK, files)) {
      files.forceGate = new CountDownLatch(1);
      List<CompletableFuture<Void>> accepted = new ArrayList<>();
      accepted.add(trail.append(event("stuck"), Durability.IMMEDIATE)); // the writer waits on it
      Thread.sleep(50);
      for (int i = 0; i < 10; i++) {
        accepted.add(trail.append(event("q" + i), Durability.IMMEDIATE));
      }
      assertRefused(trail.append(event("over"), Durability.IMMEDIATE), "writer is behind");
      assertThat(trail.unavailable()).isEmpty();
      files.forceGate.countDown();
      for (CompletableFuture<Void> f : accepted) {
        f.get(10, TimeUnit.SECONDS);
      }
      trail.append(event("after"), Durability.IMMEDIATE).get(10, TimeUnit.SECONDS);
    }
    assertThat(records(dir)).hasSize(12);
  }
}
