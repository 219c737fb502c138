package dev.warden.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warden.core.audit.AuditChain;
import dev.warden.core.audit.AuditEncoder;
import dev.warden.core.audit.AuditEvent;
import dev.warden.core.audit.AuditRecord;
import dev.warden.core.audit.AuditTrail;
import dev.warden.core.audit.AuditUnavailableException;
import dev.warden.core.audit.ChainedRecord;
import dev.warden.core.audit.Durability;
import dev.warden.core.audit.Redactor;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What every {@link AuditTrail} must do, whichever store is behind it (the embedded log, the shared
 * PostgreSQL store): chain records in append order, complete an IMMEDIATE append only once the
 * record is durable and a BOUNDED one at once, refuse records while the store cannot make them
 * durable and recover when it can, keep accepted BOUNDED records across an outage, tell listeners
 * of every record once and in order, verify, and continue the chain after a restart.
 *
 * <p>A subclass supplies a {@link Store}: one log it can open, reopen, read back from its durable
 * form (not through the trail), verify, break and repair.
 */
public abstract class AuditTrailContract {
  private static final Duration WAIT = Duration.ofSeconds(20);

  /** One log of a store under test. */
  protected interface Store {
    /** Opens the trail of this store's log; any trail opened before was closed. */
    AuditTrail open() throws Exception;

    /** Closes {@code trail}, writing what it accepted. */
    void close(AuditTrail trail) throws Exception;

    /** The id of the log {@code trail} writes. */
    String logId(AuditTrail trail);

    /** Registers {@code listener} for every batch {@code trail} makes durable. */
    void addListener(AuditTrail trail, BiConsumer<String, List<ChainedRecord>> listener);

    /** The log's records as its durable storage holds them, read without the trail. */
    List<ChainedRecord> durableRecords() throws Exception;

    /** Empty if the log verifies, else the verifier's reason. */
    Optional<String> verify() throws Exception;

    /** Makes the storage unable to make records durable, as an outage would. */
    void breakStorage() throws Exception;

    /** Ends the outage. */
    void repairStorage() throws Exception;

    /** Removes everything the store made. */
    void destroy() throws Exception;
  }

  /** A new store with one new log, whose records are encoded with {@code encoder}. */
  protected abstract Store createStore(AuditEncoder encoder) throws Exception;

  protected final AuditEncoder encoder =
      new AuditEncoder("contract-instance", Redactor.NONE, new byte[32]);
  protected Store store;
  protected AuditTrail trail;

  @BeforeEach
  void openStore() throws Exception {
    store = createStore(encoder);
    trail = store.open();
  }

  @AfterEach
  void destroyStore() throws Exception {
    try {
      if (trail != null) {
        store.close(trail);
      }
    } finally {
      store.destroy();
    }
  }

  protected static AuditRecord event(String name, int n) {
    return new AuditEvent(
        Instant.parse("2026-03-01T12:00:00Z").plusMillis(n),
        name,
        true,
        "alice",
        Optional.empty(),
        Map.of("n", Integer.toString(n)));
  }

  private byte[] payload(AuditRecord r) {
    return encoder.encode(r);
  }

  private String text(AuditRecord r) {
    return new String(payload(r), StandardCharsets.UTF_8);
  }

  private static List<String> texts(List<ChainedRecord> records) {
    List<String> out = new ArrayList<>();
    for (ChainedRecord r : records) {
      out.add(new String(r.payload(), StandardCharsets.UTF_8));
    }
    return out;
  }

  private static void eventually(String what, BooleanSupplier done) throws InterruptedException {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (!done.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not within " + WAIT + ": " + what);
      }
      Thread.sleep(10);
    }
  }

  private List<ChainedRecord> durable() {
    try {
      return store.durableRecords();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private void assertVerifies() throws Exception {
    assertThat(store.verify()).as("the verifier's finding").isEmpty();
  }

  @Test
  void recordsAreChainedInAppendOrderFromTheFirst() throws Exception {
    List<AuditRecord> records = new ArrayList<>();
    CompletableFuture<Void> last = null;
    for (int i = 0; i < 120; i++) {
      AuditRecord r = event("order", i);
      records.add(r);
      last = trail.append(r, i % 3 == 0 ? Durability.BOUNDED : Durability.IMMEDIATE);
    }
    last.get(WAIT.toSeconds(), TimeUnit.SECONDS);
    List<byte[]> payloads = records.stream().map(this::payload).toList();
    List<ChainedRecord> expected = AuditChain.chain(store.logId(trail), payloads);
    eventually("all 120 records durable", () -> durable().size() == 120);
    assertThat(durable()).isEqualTo(expected);
    assertVerifies();
  }

  @Test
  void concurrentAppendersEachLandOnceInTheirOwnOrder() throws Exception {
    int threads = 8;
    int each = 60;
    List<CompletableFuture<Void>> futures = Collections.synchronizedList(new ArrayList<>());
    CountDownLatch start = new CountDownLatch(1);
    List<Thread> workers = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      int base = t * 1000;
      workers.add(
          Thread.ofPlatform()
              .start(
                  () -> {
                    try {
                      start.await();
                    } catch (InterruptedException e) {
                      Thread.currentThread().interrupt();
                      return;
                    }
                    for (int i = 0; i < each; i++) {
                      futures.add(
                          trail.append(event("concurrent", base + i), Durability.IMMEDIATE));
                    }
                  }));
    }
    start.countDown();
    for (Thread w : workers) {
      w.join();
    }
    CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new))
        .get(WAIT.toSeconds(), TimeUnit.SECONDS);
    List<ChainedRecord> stored = durable();
    assertThat(stored).hasSize(threads * each);
    List<String> texts = texts(stored);
    assertThat(new HashSet<>(texts)).hasSize(threads * each);
    for (int t = 0; t < threads; t++) {
      List<String> mine = new ArrayList<>();
      for (int i = 0; i < each; i++) {
        mine.add(text(event("concurrent", t * 1000 + i)));
      }
      assertThat(texts.stream().filter(mine::contains).toList())
          .as("thread %d's records, in the order it appended them", t)
          .isEqualTo(mine);
    }
    assertVerifies();
  }

  @Test
  void anImmediateAppendCompletesOnlyOnceTheRecordIsDurable() throws Exception {
    for (int i = 0; i < 25; i++) {
      AuditRecord r = event("immediate", i);
      trail.append(r, Durability.IMMEDIATE).get(WAIT.toSeconds(), TimeUnit.SECONDS);
      List<ChainedRecord> stored = durable();
      assertThat(stored).as("durable records after append %d completed", i).hasSize(i + 1);
      assertThat(stored.getLast().payload()).isEqualTo(payload(r));
    }
  }

  @Test
  void aBoundedAppendCompletesWhenAcceptedAndIsDurableSoonAfter() throws Exception {
    AuditRecord r = event("bounded", 1);
    CompletableFuture<Void> f = trail.append(r, Durability.BOUNDED);
    assertThat(f).as("completed on acceptance").isCompleted();
    assertThat(f.isCompletedExceptionally()).isFalse();
    long start = System.nanoTime();
    eventually("the BOUNDED record durable", () -> durable().size() == 1);
    assertThat(Duration.ofNanos(System.nanoTime() - start))
        .as("time until durable (the window is milliseconds; this allows for a loaded machine)")
        .isLessThan(Duration.ofSeconds(2));
    assertThat(durable().getFirst().payload()).isEqualTo(payload(r));
  }

  @Test
  void anUnavailableStoreRefusesRecordsAndRecovers() throws Exception {
    trail.append(event("before", 0), Durability.IMMEDIATE).get(WAIT.toSeconds(), TimeUnit.SECONDS);
    store.breakStorage();
    try {
      CompletableFuture<Void> refused = trail.append(event("during", 1), Durability.IMMEDIATE);
      assertThatThrownBy(() -> refused.get(WAIT.toSeconds(), TimeUnit.SECONDS))
          .isInstanceOf(ExecutionException.class)
          .hasCauseInstanceOf(AuditUnavailableException.class);
      assertThat(trail.unavailable()).as("why the trail refuses").isPresent();
      assertThat(trail.unavailable().get()).isNotBlank();
      for (Durability d : Durability.values()) {
        CompletableFuture<Void> later = trail.append(event("later", 2), d);
        assertThat(later).as("a %s append while unavailable fails at once", d).isDone();
        assertThat(later.isCompletedExceptionally()).isTrue();
        assertThatThrownBy(later::join).hasCauseInstanceOf(AuditUnavailableException.class);
      }
    } finally {
      store.repairStorage();
    }
    eventually("the trail accepts records again", () -> trail.unavailable().isEmpty());
    AuditRecord after = event("after", 3);
    trail.append(after, Durability.IMMEDIATE).get(WAIT.toSeconds(), TimeUnit.SECONDS);
    List<String> texts = texts(durable());
    assertThat(texts.getFirst()).isEqualTo(text(event("before", 0)));
    assertThat(texts.getLast()).isEqualTo(text(after));
    assertThat(texts).doesNotContain(text(event("later", 2)));
    assertThat(new HashSet<>(texts)).hasSameSizeAs(texts);
    assertVerifies();
  }

  @Test
  void boundedRecordsAcceptedBeforeAnOutageAreWrittenAfterIt() throws Exception {
    trail.append(event("before", 0), Durability.IMMEDIATE).get(WAIT.toSeconds(), TimeUnit.SECONDS);
    store.breakStorage();
    List<AuditRecord> accepted = new ArrayList<>();
    try {
      // The trail learns of the outage only when it next writes: these are accepted first.
      for (int i = 1; i <= 5; i++) {
        AuditRecord r = event("accepted", i);
        CompletableFuture<Void> f = trail.append(r, Durability.BOUNDED);
        if (!f.isCompletedExceptionally()) {
          accepted.add(r);
        }
      }
      eventually("the trail notices the outage", () -> trail.unavailable().isPresent());
    } finally {
      store.repairStorage();
    }
    assertThat(accepted).as("records accepted before the trail noticed").isNotEmpty();
    eventually("the trail accepts records again", () -> trail.unavailable().isEmpty());
    trail.append(event("after", 9), Durability.IMMEDIATE).get(WAIT.toSeconds(), TimeUnit.SECONDS);
    List<String> texts = texts(durable());
    for (AuditRecord r : accepted) {
      assertThat(texts).as("an accepted BOUNDED record").contains(text(r));
    }
    assertThat(new HashSet<>(texts)).hasSameSizeAs(texts);
    assertVerifies();
  }

  @Test
  void listenersHearOfEveryRecordOnceInChainOrder() throws Exception {
    List<ChainedRecord> heard = Collections.synchronizedList(new ArrayList<>());
    Set<String> logIds = Collections.synchronizedSet(new HashSet<>());
    store.addListener(
        trail,
        (logId, batch) -> {
          logIds.add(logId);
          heard.addAll(batch);
        });
    List<Thread> workers = new ArrayList<>();
    for (int t = 0; t < 3; t++) {
      int base = t * 1000;
      workers.add(
          Thread.ofPlatform()
              .start(
                  () -> {
                    for (int i = 0; i < 100; i++) {
                      trail.append(
                          event("listened", base + i),
                          i % 2 == 0 ? Durability.IMMEDIATE : Durability.BOUNDED);
                    }
                  }));
    }
    for (Thread w : workers) {
      w.join();
    }
    eventually("the listener heard 300 records", () -> heard.size() >= 300);
    Thread.sleep(50);
    assertThat(heard).hasSize(300);
    assertThat(logIds).containsExactly(store.logId(trail));
    assertThat(heard).isEqualTo(durable());
  }

  @Test
  void aRestartContinuesTheChain() throws Exception {
    for (int i = 0; i < 10; i++) {
      trail.append(event("first-run", i), Durability.BOUNDED);
    }
    String logId = store.logId(trail);
    store.close(trail);
    trail = null;
    assertThat(durable()).as("closing writes what was accepted").hasSize(10);
    trail = store.open();
    assertThat(store.logId(trail)).isEqualTo(logId);
    for (int i = 0; i < 5; i++) {
      trail
          .append(event("second-run", i), Durability.IMMEDIATE)
          .get(WAIT.toSeconds(), TimeUnit.SECONDS);
    }
    List<ChainedRecord> stored = durable();
    assertThat(stored).hasSize(15);
    assertThat(stored.get(10).seq()).isEqualTo(11);
    assertThat(stored.get(10).payload()).isEqualTo(payload(event("second-run", 0)));
    assertVerifies();
  }
}
