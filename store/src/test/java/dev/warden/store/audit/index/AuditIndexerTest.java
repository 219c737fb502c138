package dev.warden.store.audit.index;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.core.audit.ChainedRecord;
import dev.warden.core.audit.StatementOutcome.Status;
import dev.warden.core.audit.search.AuditQuery;
import dev.warden.core.gate.SessionContext;
import dev.warden.core.statement.StatementKind;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The indexer follows a log without ever holding up its writer, catches up from the log at start,
 * after a gap and after dropping batches it had no room for, and makes a record searchable within
 * one second of its being written.
 */
class AuditIndexerTest {
  static final String LOG = "log-warden-a";

  @TempDir Path dir;
  AuditIndex index;
  AuditIndexer indexer;

  @AfterEach
  void close() {
    if (indexer != null) {
      indexer.close();
    }
    if (index != null) {
      index.close();
    }
  }

  /** {@code n} records: each session's intent then its outcome, with a probe every 1000. */
  static List<ChainedRecord> log(int n) {
    AuditFixture.Writer w = new AuditFixture.Writer("warden-a");
    Instant t = Instant.parse("2026-11-02T10:00:00Z");
    for (int i = 1; i <= n; i++) {
      t = t.plusMillis(1);
      if (i % 2 == 1) {
        String id = i % 1000 == 1 ? "probe-" + i : "s" + (i % 50);
        SessionContext s = AuditFixture.session(id, "alice", "production", "psql");
        w.add(
            AuditFixture.intent(
                t,
                s,
                i,
                "SELECT * FROM users WHERE id = " + i,
                AuditFixture.allow(
                    AuditFixture.statement(
                        StatementKind.READ, "SELECT", "public.users", List.of("id")))));
      } else {
        String id = (i - 1) % 1000 == 1 ? "probe-" + (i - 1) : "s" + ((i - 1) % 50);
        w.add(
            AuditFixture.outcome(
                t, id, i - 1, Status.OK, OptionalLong.of(1), Duration.ofMillis(1), ""));
      }
    }
    return w.chain(LOG);
  }

  /** A log whose durable part grows as the test says, read like the embedded trail's reader. */
  static final class FakeLog implements AuditIndexer.Source {
    final List<ChainedRecord> records;
    volatile int durable;
    final AtomicLong reads = new AtomicLong();

    FakeLog(List<ChainedRecord> records, int durable) {
      this.records = records;
      this.durable = durable;
    }

    @Override
    public Iterator<ChainedRecord> readAfter(long seq) {
      reads.incrementAndGet();
      return List.copyOf(records.subList((int) Math.min(seq, durable), durable)).iterator();
    }
  }

  long count(String query) {
    return index.search(AuditQuery.parse(query), 10_000).hits().size();
  }

  @Test
  void startingCatchesUpFromTheLogThenFollowsWhatIsWritten() throws Exception {
    List<ChainedRecord> records = log(1000);
    FakeLog source = new FakeLog(records, 600);
    index = AuditIndex.open(dir.resolve("index.db"), Clock.systemUTC());
    index.accept(LOG, records.subList(0, 100));

    indexer = AuditIndexer.start(index, LOG, source);
    assertThat(indexer.awaitIndexed(600, 10_000)).isTrue();
    source.durable = 1000;
    indexer.written(LOG, records.subList(600, 800));
    indexer.written("another-log", records.subList(800, 1000));
    indexer.written(LOG, records.subList(800, 1000));

    assertThat(indexer.awaitIndexed(1000, 10_000)).isTrue();
    assertThat(index.lastSeq(LOG)).isEqualTo(1000);
    assertThat(count("type:intent")).isEqualTo(500);
    assertThat(count("type:outcome")).isEqualTo(500);
    assertThat(count("")).isEqualTo(500);
  }

  @Test
  void aGapIsReadBackFromTheLog() throws Exception {
    List<ChainedRecord> records = log(300);
    FakeLog source = new FakeLog(records, 0);
    index = AuditIndex.open(dir.resolve("index.db"), Clock.systemUTC());
    indexer = AuditIndexer.start(index, LOG, source);
    source.durable = 300;

    indexer.written(LOG, records.subList(0, 100));
    indexer.written(LOG, records.subList(200, 300)); // the listener missed 101..200

    assertThat(indexer.awaitIndexed(300, 10_000)).isTrue();
    assertThat(count("")).isEqualTo(150);
    assertThat(count("type:outcome")).isEqualTo(150);
  }

  @Test
  void theWriterNeverWaitsAndBatchesWithoutRoomAreReadBackLater() throws Exception {
    List<ChainedRecord> records = log(4000);
    CountDownLatch release = new CountDownLatch(1);
    AtomicBoolean first = new AtomicBoolean(true);
    FakeLog log = new FakeLog(records, 0);
    AuditIndexer.Source blockedAtFirst =
        seq -> {
          if (first.getAndSet(false)) {
            release.await();
          }
          return log.readAfter(seq);
        };
    index = AuditIndex.open(dir.resolve("index.db"), Clock.systemUTC());
    indexer = AuditIndexer.start(index, LOG, blockedAtFirst, 500);

    // The indexer is stuck reading the log; the writer hands over 4000 records regardless.
    long start = System.nanoTime();
    for (int i = 0; i < 4000; i += 40) {
      log.durable = i + 40;
      indexer.written(LOG, records.subList(i, i + 40));
    }
    long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    release.countDown();

    assertThat(tookMillis).isLessThan(500);
    assertThat(indexer.awaitIndexed(4000, 20_000)).isTrue();
    assertThat(count("")).isEqualTo(2000);
    assertThat(count("type:outcome")).isEqualTo(2000);
  }

  @Test
  void aLogThatCannotBeReadIsTriedAgainLater() throws Exception {
    List<ChainedRecord> records = log(100);
    FakeLog log = new FakeLog(records, 100);
    AtomicLong failures = new AtomicLong();
    AuditIndexer.Source failingOnce =
        seq -> {
          if (failures.getAndIncrement() == 0) {
            throw new java.io.IOException("segment unreadable");
          }
          return log.readAfter(seq);
        };
    index = AuditIndex.open(dir.resolve("index.db"), Clock.systemUTC());
    indexer = AuditIndexer.start(index, LOG, failingOnce);

    assertThat(indexer.awaitIndexed(100, 10_000)).isTrue();
    assertThat(failures.get()).isEqualTo(2);
    assertThat(count("")).isEqualTo(50);
  }

  @Test
  void catchUpTakesAnyIteratorAndClosesIt() throws Exception {
    List<ChainedRecord> records = log(100);
    index = AuditIndex.open(dir.resolve("index.db"), Clock.systemUTC());
    indexer = AuditIndexer.start(index, LOG, new FakeLog(records, 0));
    AtomicBoolean closed = new AtomicBoolean();
    class Closing implements Iterator<ChainedRecord>, AutoCloseable {
      final Iterator<ChainedRecord> in = records.iterator();

      @Override
      public boolean hasNext() {
        return in.hasNext();
      }

      @Override
      public ChainedRecord next() {
        return in.next();
      }

      @Override
      public void close() {
        closed.set(true);
      }
    }

    assertThat(indexer.catchUp(new Closing()).get(10, TimeUnit.SECONDS)).isEqualTo(100L);
    assertThat(closed).isTrue();
    // Catching up again over what is indexed changes nothing.
    assertThat(indexer.catchUp(records.iterator()).get(10, TimeUnit.SECONDS)).isEqualTo(100L);
    assertThat(count("")).isEqualTo(50);
  }

  @Test
  void aRecordIsSearchableWithinOneSecondOfBeingWrittenUnderLoad() throws Exception {
    int n = 12_000;
    List<ChainedRecord> records = log(n);
    FakeLog log = new FakeLog(records, 0);
    index = AuditIndex.open(dir.resolve("index.db"), Clock.systemUTC());
    indexer = AuditIndexer.start(index, LOG, log);
    ConcurrentHashMap<Integer, Long> handedOver = new ConcurrentHashMap<>();

    // A writer at about 2 000 records a second, in group-commit batches of 1 to 100: a busy
    // instance, on a machine the other test suites keep busy too. (The indexer's capacity is in
    // the benchmark.)
    Thread writer =
        Thread.ofPlatform()
            .start(
                () -> {
                  int i = 0;
                  int size = 1;
                  long next = System.nanoTime();
                  while (i < n) {
                    int to = Math.min(n, i + size);
                    log.durable = to;
                    indexer.written(LOG, records.subList(i, to));
                    long now = System.nanoTime();
                    for (int seq = i + 1; seq <= to; seq++) {
                      if (seq % 1000 == 1) {
                        handedOver.put(seq, now);
                      }
                    }
                    next += TimeUnit.MICROSECONDS.toNanos(500L * (to - i));
                    i = to;
                    size = size * 7 % 100 + 1;
                    LockSupportSleep.until(next);
                  }
                });

    List<Long> latencies = new ArrayList<>();
    for (int probe = 1; probe <= n; probe += 1000) {
      while (!handedOver.containsKey(probe)) {
        Thread.sleep(1);
      }
      long written = handedOver.get(probe);
      AuditQuery q = AuditQuery.parse("session:probe-" + probe);
      while (index.search(q, 1).hits().isEmpty()) {
        assertThat(System.nanoTime() - written)
            .as("record %d not searchable after a second", probe)
            .isLessThan(TimeUnit.SECONDS.toNanos(1));
        Thread.sleep(2);
      }
      latencies.add(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - written));
    }
    writer.join();

    assertThat(latencies).hasSize(12).allMatch(ms -> ms < 1000);
    System.out.println("audit index: write-to-searchable latencies (ms) " + latencies);
    assertThat(indexer.awaitIndexed(n, 10_000)).isTrue();
    assertThat(log.reads.get()).isEqualTo(1); // only the start: no batch was lost
    assertThat(index.search(AuditQuery.parse("session:probe-11001 rows=1"), 5).hits()).hasSize(1);
    assertThat(Optional.of(count("type:outcome"))).contains(6_000L);
  }

  /** Sleeps until a {@link System#nanoTime} deadline. */
  static final class LockSupportSleep {
    static void until(long deadline) {
      long left;
      while ((left = deadline - System.nanoTime()) > 0) {
        java.util.concurrent.locks.LockSupport.parkNanos(left);
      }
    }
  }
}
