package dev.warden.store.postgres;

import dev.warden.core.audit.AuditChain;
import dev.warden.core.audit.AuditEncoder;
import dev.warden.core.audit.AuditEvent;
import dev.warden.core.audit.AuditRecord;
import dev.warden.core.audit.AuditUnavailableException;
import dev.warden.core.audit.ChainedRecord;
import dev.warden.core.audit.Checkpoint;
import dev.warden.core.audit.Durability;
import dev.warden.core.audit.DurableBatchListener;
import java.io.IOException;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one thread that writes a log to PostgreSQL: it drains the queue, encodes and chains the
 * records, and inserts each batch with its checkpoint (when one is due) in one transaction (group
 * commit). Everything but {@link #append} and {@link #unavailable} runs on that thread, so the
 * chain's state needs no lock.
 *
 * <p>When a commit fails the writer cannot know whether PostgreSQL committed it (the answer may be
 * what was lost). It fails the batch's IMMEDIATE records, keeps its BOUNDED ones (their callers
 * were told they were accepted), refuses new records, and probes. When PostgreSQL answers again it
 * reads the log's tail: if the tail is where it was, the batch is chained again; if it ends with
 * the batch, the batch did commit; anything else means someone else wrote to this log, and the
 * writer stays closed for good rather than interleave two chains.
 */
final class AuditWriter {
  private static final Logger log = LoggerFactory.getLogger(AuditWriter.class);

  /** Records per INSERT: large enough to amortise a commit, small enough to bound one statement. */
  static final int MAX_BATCH = 1000;

  private record Pending(AuditRecord record, Durability durability, CompletableFuture<Void> done) {}

  private static final Pending CLOSE = new Pending(null, Durability.BOUNDED, null);

  /** A record encoded once, kept with its caller across retries. */
  private record Entry(Pending pending, byte[] payload, String time, String doc) {
    boolean immediate() {
      return pending.durability() == Durability.IMMEDIATE;
    }
  }

  /** One transaction: the entries, chained, and the checkpoint it also inserts. */
  private record Attempt(
      List<Entry> entries,
      List<ChainedRecord> records,
      Optional<Checkpoint> checkpoint,
      long lastSeq,
      byte[] lastHash) {}

  private final String logId;
  private final String location;
  private final DataSource dataSource;
  private final AuditEncoder encoder;
  private final Clock clock;
  private final PrivateKey signingKey;
  private final PostgresAuditSettings settings;
  private final List<DurableBatchListener> listeners = new CopyOnWriteArrayList<>();
  private final LinkedBlockingQueue<Pending> queue = new LinkedBlockingQueue<>();

  /** Records accepted and neither committed nor refused: bounded by maxQueued. */
  private final AtomicInteger waiting = new AtomicInteger();

  private final Thread thread;
  private volatile String unavailable;
  private volatile boolean closed;

  // Writer thread only.
  private long seq;
  private byte[] hash;
  private long checkpointSeq;
  private byte[] checkpointSignature;
  private long checkpointMillis;
  private final ArrayDeque<Entry> held = new ArrayDeque<>();
  private Attempt unknown;
  private boolean conflict;
  private boolean closeRequested;
  private long unavailableSince;
  private final List<Checkpoint> unwitnessed = new ArrayList<>();

  /** The state a log continues from, as {@link PostgresAuditTrail#open} verified it. */
  record Tail(long seq, byte[] hash, Optional<Checkpoint> checkpoint) {}

  AuditWriter(
      PostgresAuditSettings settings,
      DataSource dataSource,
      AuditEncoder encoder,
      Clock clock,
      PrivateKey signingKey,
      Tail tail) {
    this.settings = settings;
    this.logId = settings.logId();
    this.location = settings.location();
    this.dataSource = dataSource;
    this.encoder = encoder;
    this.clock = clock;
    this.signingKey = signingKey;
    this.seq = tail.seq();
    this.hash = tail.hash();
    this.checkpointSeq = tail.checkpoint().map(Checkpoint::seq).orElse(0L);
    this.checkpointSignature = tail.checkpoint().map(Checkpoint::signature).orElse(new byte[0]);
    this.checkpointMillis = clock.millis();
    this.thread =
        Thread.ofPlatform().daemon().name("warden-audit-pg-" + logId).unstarted(this::run);
  }

  void start() {
    thread.start();
  }

  void addListener(DurableBatchListener listener) {
    listeners.add(listener);
  }

  Optional<String> unavailable() {
    if (closed) {
      return Optional.of("the audit trail of log " + logId + " is closed");
    }
    return Optional.ofNullable(unavailable);
  }

  CompletableFuture<Void> append(AuditRecord record, Durability durability) {
    CompletableFuture<Void> done = new CompletableFuture<>();
    Optional<String> refused = unavailable();
    if (refused.isPresent()) {
      done.completeExceptionally(new AuditUnavailableException(refused.get()));
      return done;
    }
    if (waiting.incrementAndGet() > settings.maxQueued()) {
      waiting.decrementAndGet();
      done.completeExceptionally(
          new AuditUnavailableException(
              "the audit trail of log "
                  + logId
                  + " already holds "
                  + settings.maxQueued()
                  + " records waiting for PostgreSQL ("
                  + location
                  + "); refusing more until it catches up"));
      return done;
    }
    queue.add(new Pending(record, durability, done));
    if (durability == Durability.BOUNDED) {
      done.complete(null);
    }
    return done;
  }

  /**
   * Writes what was accepted, a last checkpoint, and stops; waits at most {@code wait}. Accepted
   * records that could not be written are logged with their number: they are lost with the process.
   */
  void close(Duration wait) {
    if (closed) {
      return;
    }
    closed = true;
    queue.add(CLOSE);
    try {
      thread.join(wait);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (thread.isAlive()) {
      thread.interrupt();
      log.error("audit log {}: the writer did not finish within {}", logId, wait);
    }
    Pending p;
    int lost = 0;
    while ((p = queue.poll()) != null) {
      if (p != CLOSE) {
        lost++;
        p.done().completeExceptionally(new AuditUnavailableException("the audit trail is closed"));
      }
    }
    if (lost > 0) {
      log.error("audit log {}: {} records appended while closing were not written", logId, lost);
    }
  }

  private void run() {
    try {
      while (true) {
        if (unavailable != null) {
          recover();
          if (unavailable != null && closeRequested) {
            giveUp();
            return;
          }
          continue;
        }
        List<Entry> batch = nextBatch();
        if (!batch.isEmpty() || checkpointDue(false)) {
          commit(batch, false);
        }
        if (closeRequested && unavailable == null && held.isEmpty() && queue.isEmpty()) {
          if (seq > checkpointSeq) {
            commit(List.of(), true);
          }
          if (unavailable == null) {
            return;
          }
        }
      }
    } catch (RuntimeException | Error e) {
      unavailable = "the audit writer of log " + logId + " stopped: " + e;
      log.error("audit log {}: the writer stopped; refusing every record from now on", logId, e);
      giveUp();
    }
  }

  /** The held records first (a retry), else what the queue holds, lingering for BOUNDED ones. */
  private List<Entry> nextBatch() {
    List<Entry> batch = new ArrayList<>();
    while (!held.isEmpty() && batch.size() < MAX_BATCH) {
      batch.add(held.poll());
    }
    if (!batch.isEmpty()) {
      return batch;
    }
    List<Pending> taken = new ArrayList<>();
    try {
      Pending first =
          closeRequested ? queue.poll() : queue.poll(idleWaitMillis(), TimeUnit.MILLISECONDS);
      if (first == null) {
        return batch;
      }
      taken.add(first);
      queue.drainTo(taken, MAX_BATCH - 1);
      // A batch of BOUNDED records only may wait a little for company: fewer commits for reads,
      // and still committed well within the window.
      long lingerNanos = settings.boundedWindow().toNanos() / 4;
      long deadline = System.nanoTime() + lingerNanos;
      while (taken.size() < MAX_BATCH && onlyBounded(taken)) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          break;
        }
        Pending more = queue.poll(left, TimeUnit.NANOSECONDS);
        if (more == null) {
          break;
        }
        taken.add(more);
        queue.drainTo(taken, MAX_BATCH - taken.size());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      closeRequested = true;
    }
    for (Pending p : taken) {
      Entry e = encode(p);
      if (e != null) {
        batch.add(e);
      }
    }
    return batch;
  }

  private static boolean onlyBounded(List<Pending> taken) {
    for (Pending p : taken) {
      if (p == CLOSE || p.durability() == Durability.IMMEDIATE) {
        return false;
      }
    }
    return true;
  }

  private long idleWaitMillis() {
    long interval = settings.checkpointInterval().toMillis();
    if (seq <= checkpointSeq) {
      return Math.max(1, interval);
    }
    long left = checkpointMillis + interval - clock.millis();
    return Math.clamp(left, 1, Math.max(1, interval));
  }

  /**
   * Encodes a record once. A record the encoder cannot turn into bytes (a bug) is still recorded,
   * as an event saying so, so that it does not vanish; an IMMEDIATE one is also refused.
   */
  private Entry encode(Pending p) {
    if (p == CLOSE) {
      closeRequested = true;
      return null;
    }
    byte[] payload;
    Instant time = p.record().time();
    try {
      payload = encoder.encode(p.record());
    } catch (RuntimeException e) {
      // The exception's message may quote the record: only its type is logged and kept.
      log.error(
          "audit log {}: cannot encode a {} ({})",
          logId,
          p.record().getClass().getSimpleName(),
          e.getClass().getName());
      if (p.durability() == Durability.IMMEDIATE) {
        p.done()
            .completeExceptionally(
                new AuditUnavailableException(
                    "the audit trail cannot encode this record (" + e.getClass().getName() + ")",
                    e));
      }
      time = clock.instant();
      payload =
          encoder.encode(
              new AuditEvent(
                  time,
                  "audit-record-unencodable",
                  false,
                  "",
                  Optional.empty(),
                  Map.of(
                      "record", p.record().getClass().getSimpleName(),
                      "error", e.getClass().getName())));
    }
    return new Entry(p, payload, AuditEncoder.formatTime(time), Json.docText(payload));
  }

  private boolean checkpointDue(boolean force) {
    if (seq <= checkpointSeq) {
      return false;
    }
    return force || clock.millis() - checkpointMillis >= settings.checkpointInterval().toMillis();
  }

  private Attempt chain(List<Entry> entries, boolean forceCheckpoint) {
    List<ChainedRecord> records = new ArrayList<>(entries.size());
    long s = seq;
    byte[] h = hash;
    for (Entry e : entries) {
      s++;
      h = AuditChain.next(h, s, e.payload());
      records.add(new ChainedRecord(s, e.payload(), h));
    }
    Optional<Checkpoint> cp = Optional.empty();
    long now = clock.millis();
    if (s > checkpointSeq
        && (forceCheckpoint
            || s - checkpointSeq >= settings.checkpointEvery()
            || now - checkpointMillis >= settings.checkpointInterval().toMillis())) {
      cp = Optional.of(Checkpoint.sign(signingKey, logId, s, h, now, checkpointSignature));
    }
    return new Attempt(entries, records, cp, s, h);
  }

  /** One transaction; on failure the trail becomes unavailable (see the class comment). */
  private boolean commit(List<Entry> entries, boolean forceCheckpoint) {
    Attempt a = chain(entries, forceCheckpoint);
    if (a.records().isEmpty() && a.checkpoint().isEmpty()) {
      return true;
    }
    List<AuditTables.Row> rows = new ArrayList<>(a.records().size());
    for (int i = 0; i < a.records().size(); i++) {
      Entry e = a.entries().get(i);
      rows.add(new AuditTables.Row(a.records().get(i), e.time(), e.doc()));
    }
    try (Connection c = connection(dataSource, settings.timeout())) {
      if (a.checkpoint().isEmpty()) {
        // One statement in autocommit: the batch is inserted and committed in one round trip.
        AuditTables.insert(c, logId, rows);
      } else {
        c.setAutoCommit(false);
        try {
          if (!rows.isEmpty()) {
            AuditTables.insert(c, logId, rows);
          }
          AuditTables.insert(c, a.checkpoint().get());
          c.commit();
        } catch (SQLException | RuntimeException e) {
          rollbackQuietly(c);
          throw e;
        }
      }
    } catch (SQLException | RuntimeException e) {
      failed(a, e);
      return false;
    }
    for (Entry e : a.entries()) {
      if (e.immediate()) {
        e.pending().done().complete(null);
      }
    }
    waiting.addAndGet(-a.entries().size());
    adopt(a);
    return true;
  }

  /**
   * A connection whose every statement, commit included, fails after {@code timeout} rather than
   * hang: a stalled or partitioned server makes the trail unavailable instead of holding the
   * statements waiting for their records (the pool resets the timeout when it takes it back).
   */
  static Connection connection(DataSource dataSource, Duration timeout) throws SQLException {
    Connection c = dataSource.getConnection();
    try {
      c.setNetworkTimeout(Runnable::run, (int) Math.min(Integer.MAX_VALUE, timeout.toMillis()));
      return c;
    } catch (SQLException | RuntimeException e) {
      c.close();
      throw e;
    }
  }

  /** Makes a committed attempt the chain's state and tells the listeners. */
  private void adopt(Attempt a) {
    seq = a.lastSeq();
    hash = a.lastHash();
    a.checkpoint().ifPresent(this::checkpointed);
    if (a.records().isEmpty()) {
      return;
    }
    List<ChainedRecord> written = List.copyOf(a.records());
    for (DurableBatchListener l : listeners) {
      try {
        l.written(logId, written);
      } catch (RuntimeException e) {
        log.warn("audit log {}: a listener failed on records up to {}", logId, seq, e);
      }
    }
  }

  private void checkpointed(Checkpoint cp) {
    checkpointSeq = cp.seq();
    checkpointSignature = cp.signature();
    checkpointMillis = cp.wallTimeMillis();
    if (settings.witness().isEmpty()) {
      return;
    }
    unwitnessed.add(cp);
    try {
      Witness.append(settings.witness().get(), unwitnessed);
      unwitnessed.clear();
    } catch (IOException | RuntimeException e) {
      // The records are durable in PostgreSQL; the witness lags and catches up with the next
      // checkpoint. Failing closed here would stop statements over a second copy of evidence.
      log.error(
          "audit log {}: cannot write {} checkpoint(s) to the witness {}: {}; retrying with the"
              + " next checkpoint",
          logId,
          unwitnessed.size(),
          settings.witness().get(),
          e.toString());
    }
  }

  private void failed(Attempt a, Exception e) {
    boolean duplicate = duplicateKey(e);
    String reason;
    if (duplicate) {
      conflict = true;
      unknown = null;
      reason =
          "another writer added record "
              + (seq + 1)
              + " to audit log "
              + logId
              + " in PostgreSQL ("
              + location
              + "): two processes are using the same log id; refusing to record";
    } else {
      unknown = a;
      reason =
          "the PostgreSQL audit store ("
              + location
              + ") cannot record: "
              + describe(e)
              + " (since "
              + Instant.ofEpochMilli(clock.millis())
              + ")";
    }
    if (unavailable == null) {
      unavailableSince = System.nanoTime();
      log.error("audit log {}: {}; refusing records until it recovers", logId, reason, e);
    } else {
      log.debug("audit log {}: still unavailable: {}", logId, describe(e));
    }
    unavailable = reason;
    AuditUnavailableException refusal = new AuditUnavailableException(reason, e);
    List<Entry> entries = a.entries();
    for (int i = entries.size() - 1; i >= 0; i--) {
      Entry entry = entries.get(i);
      if (entry.immediate()) {
        waiting.decrementAndGet();
        entry.pending().done().completeExceptionally(refusal);
      } else {
        held.addFirst(entry);
      }
    }
    drainWhileUnavailable();
  }

  /** Refuses the IMMEDIATE records that arrived meanwhile and keeps the BOUNDED ones. */
  private void drainWhileUnavailable() {
    Pending p;
    while ((p = queue.poll()) != null) {
      hold(p);
    }
  }

  private void hold(Pending p) {
    if (p == CLOSE) {
      closeRequested = true;
    } else if (p.durability() == Durability.IMMEDIATE) {
      waiting.decrementAndGet();
      p.done()
          .completeExceptionally(
              new AuditUnavailableException(
                  unavailable != null ? unavailable : "the audit trail is unavailable"));
    } else {
      Entry e = encode(p);
      if (e != null) {
        held.addLast(e);
      }
    }
  }

  /** Waits a probe interval, then tries PostgreSQL again and writes what it holds. */
  private void recover() {
    drainWhileUnavailable();
    if (!closeRequested) {
      long deadline = System.nanoTime() + settings.probeInterval().toNanos();
      try {
        long left;
        while (!closeRequested && (left = deadline - System.nanoTime()) > 0) {
          Pending p = queue.poll(left, TimeUnit.NANOSECONDS);
          if (p != null) {
            hold(p);
          }
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        closeRequested = true;
      }
    }
    if (conflict) {
      return;
    }
    try (Connection c = connection(dataSource, settings.timeout())) {
      reconcile(c);
    } catch (SQLException | RuntimeException e) {
      log.debug("audit log {}: probe failed: {}", logId, describe(e));
      return;
    }
    if (conflict) {
      return;
    }
    while (!held.isEmpty()) {
      List<Entry> batch = new ArrayList<>();
      while (!held.isEmpty() && batch.size() < MAX_BATCH) {
        batch.add(held.poll());
      }
      if (!commit(batch, false)) {
        return;
      }
    }
    log.info(
        "audit log {}: PostgreSQL ({}) records again after {} ms; continuing after record {}",
        logId,
        location,
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - unavailableSince),
        seq);
    unavailable = null;
  }

  /** Finds out whether the failed transaction committed, from the log's tail in the table. */
  private void reconcile(Connection c) throws SQLException {
    Optional<ChainedRecord> last = AuditTables.last(c, logId);
    long tailSeq = last.map(ChainedRecord::seq).orElse(0L);
    byte[] tailHash = last.map(ChainedRecord::hash).orElse(AuditChain.genesis(logId));
    Attempt attempt = unknown;
    if (tailSeq == seq && MessageDigest.isEqual(tailHash, hash)) {
      // The failed transaction did not commit its records: they are chained again from here.
    } else if (attempt != null
        && !attempt.records().isEmpty()
        && tailSeq == attempt.lastSeq()
        && MessageDigest.isEqual(tailHash, attempt.lastHash())) {
      int bounded = 0;
      for (Entry e : attempt.entries()) {
        if (!e.immediate()) {
          bounded++;
        }
      }
      for (int i = 0; i < bounded; i++) {
        held.removeFirst();
      }
      waiting.addAndGet(-bounded);
      log.info("audit log {}: the failed commit of records up to {} had committed", logId, tailSeq);
      adopt(new Attempt(List.of(), attempt.records(), Optional.empty(), tailSeq, tailHash));
    } else {
      refuseForGood(
          "audit log "
              + logId
              + " in PostgreSQL ("
              + location
              + ") ends at record "
              + tailSeq
              + " but this instance last wrote record "
              + seq
              + ": another process is writing with the same log id, or the table was changed;"
              + " refusing to record");
      return;
    }
    Optional<Checkpoint> lastCheckpoint = AuditTables.lastCheckpoint(c, logId);
    byte[] tableSignature = lastCheckpoint.map(Checkpoint::signature).orElse(new byte[0]);
    if (MessageDigest.isEqual(tableSignature, checkpointSignature)) {
      unknown = null;
      return;
    }
    if (attempt != null
        && attempt.checkpoint().isPresent()
        && MessageDigest.isEqual(tableSignature, attempt.checkpoint().get().signature())) {
      checkpointed(attempt.checkpoint().get());
      unknown = null;
      return;
    }
    refuseForGood(
        "the checkpoints of audit log "
            + logId
            + " in PostgreSQL ("
            + location
            + ") changed while this instance could not reach it; refusing to record");
  }

  private void refuseForGood(String reason) {
    conflict = true;
    unknown = null;
    unavailable = reason;
    log.error("audit log {}: {}", logId, reason);
  }

  /** The process is stopping and PostgreSQL is unavailable: say what is lost. */
  private void giveUp() {
    drainWhileUnavailable();
    int lost = held.size();
    held.clear();
    waiting.addAndGet(-lost);
    if (lost > 0) {
      log.error(
          "audit log {}: {} accepted records could not be written to PostgreSQL ({}) before"
              + " closing: {}",
          logId,
          lost,
          location,
          unavailable);
    }
  }

  private static boolean duplicateKey(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof SQLException s && "23505".equals(s.getSQLState())) {
        return true;
      }
    }
    return false;
  }

  private static String describe(Throwable e) {
    StringBuilder out = new StringBuilder(String.valueOf(e.getMessage()));
    Throwable cause = e.getCause();
    if (cause != null
        && cause.getMessage() != null
        && !out.toString().contains(cause.getMessage())) {
      out.append(": ").append(cause.getMessage());
    }
    String text = out.toString().replaceAll("\\s+", " ");
    return text.length() > 300 ? text.substring(0, 300) + "…" : text;
  }

  private static void rollbackQuietly(Connection c) {
    try {
      c.rollback();
    } catch (SQLException ignored) {
      // The connection is broken; the pool discards it.
    }
  }
}
