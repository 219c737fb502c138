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

import dev.warden.core.audit.AuditRecord;
import dev.warden.core.audit.AuditUnavailableException;
import dev.warden.core.audit.ChainedRecord;
import dev.warden.core.audit.Durability;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The embedded trail: ordering, durability modes, segments, restarts, listeners, reading. */
class EmbeddedAuditTrailTest {
  @TempDir Path temp;
  Path dir;

  @org.junit.jupiter.api.BeforeEach
  void where() {
    dir = temp.resolve("audit");
  }

  EmbeddedAuditTrail open(AuditLogSettings settings) throws IOException {
    return EmbeddedAuditTrail.open(dir, settings, encoder(), CLOCK);
  }

  @Test
  void recordsFromManyThreadsAreChainedInAppendOrderAndListenersSeeEachOnceWhenDurable()
      throws Exception {
    List<ChainedRecord> heard = Collections.synchronizedList(new ArrayList<>());
    List<CompletableFuture<Void>> futures = Collections.synchronizedList(new ArrayList<>());
    String logId;
    try (EmbeddedAuditTrail trail = open(settings())) {
      logId = trail.logId();
      assertThat(logId).matches("w-[0-9a-f]{12}");
      trail.addListener(
          (id, batch) -> {
            assertThat(id).isEqualTo(trail.logId());
            assertThat(batch.getLast().seq()).isLessThanOrEqualTo(trail.durableSeq());
            heard.addAll(batch);
          });
      List<Thread> threads = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        String prefix = "t" + t + "-";
        threads.add(
            Thread.ofPlatform()
                .start(
                    () -> {
                      for (int i = 0; i < 250; i++) {
                        Durability d = i % 3 == 0 ? Durability.BOUNDED : Durability.IMMEDIATE;
                        futures.add(trail.append(event(prefix + i), d));
                      }
                    }));
      }
      for (Thread t : threads) {
        t.join();
      }
      for (CompletableFuture<Void> f : futures) {
        f.get(10, TimeUnit.SECONDS);
      }
    }
    List<ChainedRecord> all = records(dir);
    assertThat(all).hasSize(1000);
    assertThat(heard).containsExactlyElementsOf(all);
    // Each thread's records keep their order.
    for (int t = 0; t < 4; t++) {
      String prefix = "\"t" + t + "-";
      List<Integer> order =
          all.stream()
              .map(AuditFixtures::text)
              .filter(s -> s.contains(prefix))
              .map(s -> Integer.parseInt(s.replaceAll(".*\"t\\d-(\\d+)\".*", "$1")))
              .toList();
      assertThat(order).isSorted().hasSize(250);
    }
    assertIntact(dir, Optional.empty());

    try (EmbeddedAuditTrail trail = open(settings())) {
      assertThat(trail.logId()).isEqualTo(logId);
      trail.append(event("after"), Durability.IMMEDIATE).get(10, TimeUnit.SECONDS);
      assertThat(trail.durableSeq()).isEqualTo(1001);
    }
    AuditVerifier.Report report = assertIntact(dir, Optional.empty());
    assertThat(report.records()).isEqualTo(1001);
    assertThat(
            java.nio.file.attribute.PosixFilePermissions.toString(
                Files.getPosixFilePermissions(dir)))
        .isEqualTo("rwx------");
    assertThat(report.lastCheckpointSeq()).isEqualTo(1001); // closing signs the tail
  }

  @Test
  void anImmediateRecordIsCompleteOnlyAfterItsFsync() throws Exception {
    FaultyFiles files = new FaultyFiles();
    try (EmbeddedAuditTrail trail =
        EmbeddedAuditTrail.open(dir, settings(), encoder(), CLOCK, files)) {
      for (int i = 0; i < 20; i++) {
        long before = System.nanoTime();
        trail.append(event("i" + i), Durability.IMMEDIATE).get(10, TimeUnit.SECONDS);
        assertThat(files.lastForceNanos.get()).isGreaterThan(before);
        assertThat(trail.durableSeq()).isEqualTo(i + 1);
      }
    }
  }

  @Test
  void aBoundedRecordIsAcceptedAtOnceAndFsyncedWithinTheWindowNotBefore() throws Exception {
    FaultyFiles files = new FaultyFiles();
    Duration window = Duration.ofMillis(300);
    try (EmbeddedAuditTrail trail =
        EmbeddedAuditTrail.open(
            dir, settings().withBoundedWindow(window), encoder(), CLOCK, files)) {
      CountDownLatch durable = new CountDownLatch(1);
      trail.addListener((id, batch) -> durable.countDown());
      int forcesBefore = files.forces.get();
      long start = System.nanoTime();
      CompletableFuture<Void> f = trail.append(event("b"), Durability.BOUNDED);
      assertThat(f).isCompleted();
      // Written (a reader sees it) but not fsynced: the window has not passed.
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
      while (records(dir).isEmpty() && System.nanoTime() < deadline) {
        Thread.sleep(5);
      }
      assertThat(records(dir)).hasSize(1);
      if (System.nanoTime() - start < window.toNanos() / 2) {
        assertThat(files.forces.get()).isEqualTo(forcesBefore);
        assertThat(trail.durableSeq()).isZero();
      }
      assertThat(durable.await(5, TimeUnit.SECONDS)).isTrue();
      long took = files.lastForceNanos.get() - start;
      assertThat(took).isGreaterThanOrEqualTo(window.toNanos() - TimeUnit.MILLISECONDS.toNanos(5));
      assertThat(took).isLessThan(window.toNanos() + TimeUnit.MILLISECONDS.toNanos(250));
      assertThat(trail.durableSeq()).isEqualTo(1);
    }
  }

  @Test
  void anImmediateRecordMakesTheBoundedOnesBeforeItDurableInTheSameFsync() throws Exception {
    FaultyFiles files = new FaultyFiles();
    try (EmbeddedAuditTrail trail =
        EmbeddedAuditTrail.open(
            dir, settings().withBoundedWindow(Duration.ofSeconds(10)), encoder(), CLOCK, files)) {
      for (int i = 0; i < 5; i++) {
        trail.append(event("b" + i), Durability.BOUNDED);
      }
      trail.append(event("i"), Durability.IMMEDIATE).get(10, TimeUnit.SECONDS);
      assertThat(trail.durableSeq()).isEqualTo(6);
    }
  }

  @Test
  void segmentsRotateAtTheirSizeAndTheChainAndReadersContinueAcrossThem() throws Exception {
    FaultyFiles files = new FaultyFiles();
    try (EmbeddedAuditTrail trail =
        EmbeddedAuditTrail.open(dir, settings().withSegmentBytes(4096), encoder(), CLOCK, files)) {
      int syncsAtStart = files.directorySyncs.get();
      for (int i = 0; i < 200; i++) {
        trail.append(event("r" + i), Durability.IMMEDIATE).get(10, TimeUnit.SECONDS);
      }
      List<Segments.Segment> segments = Segments.list(dir);
      assertThat(segments.size()).isGreaterThan(5);
      assertThat(files.directorySyncs.get() - syncsAtStart).isEqualTo(segments.size() - 1);
      for (Segments.Segment s : segments) {
        assertThat(Files.size(s.path())).isLessThanOrEqualTo(4096);
        assertThat(s.path().getFileName().toString())
            .isEqualTo(String.format("segment-%016d.log", s.firstSeq()));
      }
      try (AuditLogReader.Cursor c = trail.readAfter(150)) {
        List<Long> seqs = new ArrayList<>();
        c.forEachRemaining(r -> seqs.add(r.seq()));
        assertThat(seqs).hasSize(50).startsWith(151L).endsWith(200L);
      }
    }
    assertThat(records(dir)).extracting(ChainedRecord::seq).hasSize(200).isSorted();
    assertIntact(dir, Optional.empty());
  }

  @Test
  void aReaderFollowsTheWriterAsItAppendsAndRotates() throws Exception {
    try (EmbeddedAuditTrail trail = open(settings().withSegmentBytes(4096))) {
      trail.append(event("first"), Durability.IMMEDIATE).get(10, TimeUnit.SECONDS);
      try (AuditLogReader.Cursor cursor = AuditLogReader.open(dir).readAfter(0)) {
        long seen = 0;
        for (int round = 0; round < 5; round++) {
          while (cursor.hasNext()) {
            assertThat(cursor.next().seq()).isEqualTo(++seen);
          }
          for (int i = 0; i < 40; i++) {
            trail.append(event("x" + round + "-" + i), Durability.IMMEDIATE);
          }
          trail.append(event("y" + round), Durability.IMMEDIATE).get(10, TimeUnit.SECONDS);
        }
        while (cursor.hasNext()) {
          assertThat(cursor.next().seq()).isEqualTo(++seen);
        }
        assertThat(seen).isEqualTo(1 + 5 * 41);
      }
    }
  }

  @Test
  void theTrailsReaderStopsAtTheLastDurableRecordWhereAFileReaderDoesNot() throws Exception {
    try (EmbeddedAuditTrail trail = open(settings().withBoundedWindow(Duration.ofSeconds(30)))) {
      trail.append(event("durable"), Durability.IMMEDIATE).get(10, TimeUnit.SECONDS);
      trail.append(event("written"), Durability.BOUNDED);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
      while (records(dir).size() < 2 && System.nanoTime() < deadline) {
        Thread.sleep(5);
      }
      assertThat(records(dir)).hasSize(2); // written to the file, not yet fsynced
      List<ChainedRecord> durable = new ArrayList<>();
      try (AuditLogReader.Cursor c = trail.readAfter(0)) {
        c.forEachRemaining(durable::add);
      }
      assertThat(durable).extracting(ChainedRecord::seq).containsExactly(1L);
    }
  }

  @Test
  void aTornTailIsCutOffAndRecordedOnReopen() throws Exception {
    try (EmbeddedAuditTrail trail = open(settings())) {
      for (int i = 0; i < 10; i++) {
        trail.append(event("r" + i), Durability.IMMEDIATE).get(10, TimeUnit.SECONDS);
      }
    }
    Path segment = Segments.list(dir).getLast().path();
    try (FileChannel ch = FileChannel.open(segment, StandardOpenOption.WRITE)) {
      ch.truncate(ch.size() - 3); // a crash in the middle of writing record 10
    }
    AuditVerifier.Report torn = AuditVerifier.verify(dir, Optional.empty());
    assertThat(torn.notes()).anyMatch(n -> n.contains("ends inside a record after record 9"));
    // The final checkpoint covered record 10, so the cut is visible to the verifier; a crash
    // cuts only what no checkpoint covers, which the kill test shows.
    try (EmbeddedAuditTrail trail = open(settings())) {
      throw new AssertionError("opened a log whose checkpoint covers a record cut off: " + trail);
    } catch (IOException e) {
      assertThat(e).hasMessageContaining("checkpoint covers record 10");
    }
  }

  @Test
  void aTornTailAfterTheLastCheckpointIsCutOffWithAnEvent() throws Exception {
    try (EmbeddedAuditTrail trail = open(settings())) {
      for (int i = 0; i < 10; i++) {
        trail.append(event("r" + i), Durability.IMMEDIATE).get(10, TimeUnit.SECONDS);
      }
    }
    // As a crash leaves it: a frame half written after the last checkpointed record.
    Path segment = Segments.list(dir).getLast().path();
    ChainedRecord extra = new ChainedRecord(11, "{\"half\":true}".getBytes(), new byte[32]);
    ByteBuffer frame = Frames.encode(extra);
    frame.limit(frame.limit() - 5);
    try (FileChannel ch = FileChannel.open(segment, StandardOpenOption.APPEND)) {
      ch.write(frame);
    }
    assertIntact(dir, Optional.empty());
    try (EmbeddedAuditTrail trail = open(settings())) {
      trail.append(event("after"), Durability.IMMEDIATE).get(10, TimeUnit.SECONDS);
    }
    List<ChainedRecord> all = records(dir);
    assertThat(all).hasSize(12);
    assertThat(text(all.get(10)))
        .contains("\"event\":\"audit-torn-tail-removed\"")
        .contains("\"after_seq\":\"10\"")
        .contains("cut short");
    assertThat(text(all.get(11))).contains("after");
    AuditVerifier.Report report = assertIntact(dir, Optional.empty());
    assertThat(report.notes()).noneMatch(n -> n.contains("inside a record"));
  }

  @Test
  void damageBeforeTheTailRefusesToOpen() throws Exception {
    try (EmbeddedAuditTrail trail = open(settings())) {
      for (int i = 0; i < 5; i++) {
        trail.append(event("r" + i), Durability.IMMEDIATE).get(10, TimeUnit.SECONDS);
      }
    }
    Path segment = Segments.list(dir).getLast().path();
    int header = Segments.readHeader(segment).length();
    try (FileChannel ch = FileChannel.open(segment, StandardOpenOption.WRITE)) {
      ch.write(ByteBuffer.wrap(new byte[] {0x7f}), header + 60); // inside record 1
    }
    assertThatThrownBy(() -> open(settings()))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("damaged")
        .hasMessageContaining("warden audit verify");
  }

  @Test
  void aLogKeepsItsIdAndRefusesAnotherOneOrAnotherKey() throws Exception {
    try (EmbeddedAuditTrail trail = open(settings().withLogId("edge-1"))) {
      assertThat(trail.logId()).isEqualTo("edge-1");
      trail.append(event("r"), Durability.IMMEDIATE).get(10, TimeUnit.SECONDS);
    }
    try (EmbeddedAuditTrail trail = open(settings())) {
      assertThat(trail.logId()).isEqualTo("edge-1");
    }
    assertThatThrownBy(() -> open(settings().withLogId("edge-2")))
        .hasMessageContaining("'edge-1', not 'edge-2'");
    AuditLogSettings otherKey = AuditLogSettings.defaults(AuditKeys.generate()).withMinFreeBytes(0);
    assertThatThrownBy(() -> open(otherKey))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("signed with another key");
    assertThatThrownBy(() -> settings().withLogId("bad id\n"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("bad id?");
  }

  @Test
  void checkpointsAreSignedEveryNRecordsAndCopiedToTheWitness(@TempDir Path witness)
      throws Exception {
    try (EmbeddedAuditTrail trail =
        open(
            settings()
                .withCheckpoints(10, Duration.ofHours(1))
                .withWitness(witness)
                .withLogId("cp-log"))) {
      for (int i = 0; i < 35; i++) {
        trail.append(event("r" + i), Durability.IMMEDIATE).get(10, TimeUnit.SECONDS);
      }
    }
    List<Long> local =
        CheckpointFile.read(dir.resolve(CheckpointFile.LOCAL)).checkpoints().stream()
            .map(c -> c.seq())
            .toList();
    assertThat(local).containsExactly(10L, 20L, 30L, 35L);
    assertThat(CheckpointFile.read(witness.resolve("cp-log.checkpoints")).checkpoints())
        .isEqualTo(CheckpointFile.read(dir.resolve(CheckpointFile.LOCAL)).checkpoints());
    assertThat(witness.resolve("cp-log.pub")).exists();
    AuditVerifier.Report report = assertIntact(dir, Optional.of(witness));
    assertThat(report.witnessChecked()).isTrue();
    assertThat(report.checkpoints()).isEqualTo(4);
  }

  @Test
  void aCheckpointIsSignedEveryIntervalWhenRecordsCameIn() throws Exception {
    try (EmbeddedAuditTrail trail =
        open(settings().withCheckpoints(1_000_000, Duration.ofMillis(50)))) {
      trail.append(event("a"), Durability.IMMEDIATE).get(10, TimeUnit.SECONDS);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
      while (CheckpointFile.read(dir.resolve(CheckpointFile.LOCAL)).checkpoints().isEmpty()
          && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
      assertThat(CheckpointFile.read(dir.resolve(CheckpointFile.LOCAL)).checkpoints())
          .singleElement()
          .satisfies(cp -> assertThat(cp.seq()).isEqualTo(1));
      Thread.sleep(200); // no new records: no new checkpoint
      assertThat(CheckpointFile.read(dir.resolve(CheckpointFile.LOCAL)).checkpoints()).hasSize(1);
    }
  }

  @Test
  void aWitnessAddedLaterGetsEveryEarlierCheckpoint(@TempDir Path witness) throws Exception {
    try (EmbeddedAuditTrail trail = open(settings().withCheckpoints(5, Duration.ofHours(1)))) {
      for (int i = 0; i < 12; i++) {
        trail.append(event("r" + i), Durability.IMMEDIATE).get(10, TimeUnit.SECONDS);
      }
    }
    try (EmbeddedAuditTrail trail =
        open(settings().withCheckpoints(5, Duration.ofHours(1)).withWitness(witness))) {
      trail.append(event("later"), Durability.IMMEDIATE).get(10, TimeUnit.SECONDS);
    }
    assertIntact(dir, Optional.of(witness));
  }

  @Test
  void aWitnessHoldingCheckpointsTheLogLacksRefusesTheOpen(@TempDir Path witness) throws Exception {
    AuditLogSettings s = settings().withCheckpoints(5, Duration.ofHours(1)).withWitness(witness);
    try (EmbeddedAuditTrail trail = open(s)) {
      for (int i = 0; i < 12; i++) {
        trail.append(event("r" + i), Durability.IMMEDIATE).get(10, TimeUnit.SECONDS);
      }
    }
    // The local checkpoints cut back to the first one, as a rollback would.
    Path local = dir.resolve(CheckpointFile.LOCAL);
    List<String> lines = Files.readAllLines(local);
    Files.writeString(local, lines.getFirst() + "\n");
    assertThatThrownBy(() -> open(s)).hasMessageContaining("rolled back or rewritten");
  }

  @Test
  void appendsAfterCloseAndBeyondTheQueueLimitAreRefused() throws Exception {
    EmbeddedAuditTrail trail = open(settings().withMaxQueued(1));
    trail.close();
    assertThatThrownBy(() -> trail.append(event("late"), Durability.IMMEDIATE).join())
        .hasCauseInstanceOf(AuditUnavailableException.class)
        .hasMessageContaining("closed");
  }

  @Test
  void aFailingListenerDoesNotStopTheWriterOrTheOthers() throws Exception {
    List<Long> heard = Collections.synchronizedList(new ArrayList<>());
    try (EmbeddedAuditTrail trail = open(settings())) {
      trail.addListener(
          (id, batch) -> {
            throw new IllegalStateException("listener bug");
          });
      trail.addListener((id, batch) -> batch.forEach(r -> heard.add(r.seq())));
      for (int i = 0; i < 3; i++) {
        trail.append(event("r" + i), Durability.IMMEDIATE).get(10, TimeUnit.SECONDS);
      }
    }
    assertThat(heard).containsExactly(1L, 2L, 3L);
  }

  @Test
  void aRecordTheEncoderCannotEncodeIsRecordedAsSuchAndAnImmediateOneRefused() throws Exception {
    // A time beyond what the encoder's format can show makes it throw.
    AuditRecord unencodable =
        new dev.warden.core.audit.AuditEvent(
            java.time.Instant.MAX, "test", true, "", Optional.empty(), java.util.Map.of());
    try (EmbeddedAuditTrail trail = open(settings())) {
      CompletableFuture<Void> f = trail.append(unencodable, Durability.IMMEDIATE);
      assertThatThrownBy(() -> f.get(10, TimeUnit.SECONDS))
          .isInstanceOf(ExecutionException.class)
          .hasCauseInstanceOf(AuditUnavailableException.class);
      trail.append(event("fine"), Durability.IMMEDIATE).get(10, TimeUnit.SECONDS);
      assertThat(trail.unavailable()).isEmpty();
    }
    List<ChainedRecord> all = records(dir);
    assertThat(text(all.getFirst())).contains("audit-record-unencodable");
  }
}
