package dev.warden.store.audit;

import dev.warden.core.audit.AuditEncoder;
import dev.warden.core.audit.AuditEvent;
import dev.warden.core.audit.AuditRecord;
import dev.warden.core.audit.AuditTrail;
import dev.warden.core.audit.AuditUnavailableException;
import dev.warden.core.audit.ChainedRecord;
import dev.warden.core.audit.Checkpoint;
import dev.warden.core.audit.Durability;
import dev.warden.core.audit.DurableBatchListener;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embedded audit trail: a hash-chained, segmented write-ahead log in one directory, written by
 * one thread with group commit, checkpointed with signatures, failing closed. It needs no server;
 * it is the source of truth that search indexes and exports are built from.
 *
 * <p><b>Appending.</b> {@link #append} never blocks (callers are event loops): it queues the record
 * and returns. The writer thread takes everything queued as one batch, encodes each record ({@link
 * AuditEncoder}), chains it ({@code h_n = SHA-256(0x01 ‖ h_{n-1} ‖ seq ‖ payload)}) in the order of
 * appending, writes the batch with one system call and, when the batch holds an {@link
 * Durability#IMMEDIATE} record, fsyncs it once for all of them (group commit); only then do those
 * records' futures complete. A {@link Durability#BOUNDED} record's future completes when it is
 * queued; the writer fsyncs it within {@link AuditLogSettings#boundedWindow()} of writing it.
 *
 * <p><b>Failing closed</b> (THREATS AD02, AD03). The first write or fsync error, or the disk's free
 * space falling below {@link AuditLogSettings#minFreeBytes()}, makes the trail unavailable: the
 * waiting {@code IMMEDIATE} records fail with {@link AuditUnavailableException}, as does every
 * later append, at once, and {@link #unavailable()} says why. Nothing is retried on the failed file
 * state (fsyncgate). A probe then checks every {@link AuditLogSettings#probeInterval()} whether the
 * log can be written again; when it can, the current segment is cut back to its last durable length
 * (what came after it was never acknowledged as durable), fsynced, and an {@code audit-recovered}
 * event saying from when to when and why the trail was unavailable is appended, after which records
 * are accepted again. The {@code IMMEDIATE} records that failed were refused to their callers (the
 * statements did not run), so they are not written. {@code BOUNDED} records that had been accepted
 * are kept in memory and written at recovery, before the event: no accepted record is dropped while
 * the process lives.
 *
 * <p><b>Listeners</b> ({@link #addListener}) are told of every record once, in order, on the writer
 * thread, after it is durable: the search index, exporters and live tails follow the log this way.
 * To catch up after a restart without a gap, add the listener first, then read what is older with
 * {@link #readAfter}, skipping records already seen by sequence number.
 *
 * <p><b>On disk</b>: see {@link Segments} (segment files and headers), {@link Frames} (records),
 * {@link CheckpointFile} (checkpoints) and {@code docs/audit.md}. On opening, a torn tail (a record
 * cut short by a crash) is cut off and an {@code audit-torn-tail-removed} event records it; damage
 * anywhere else refuses the open.
 */
public final class EmbeddedAuditTrail implements AuditTrail, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(EmbeddedAuditTrail.class);

  private static final int MAX_BATCH = 4096;
  private static final long NONE = Long.MAX_VALUE;

  /**
   * The least free space a probe waits for before it tries to write again, even with no margin
   * configured: on a disk that is still full it would otherwise recover and fail again at every
   * probe.
   */
  private static final long RECOVERY_FREE_BYTES = 256 << 10;

  private record Entry(
      AuditRecord record, byte[] payload, Durability durability, CompletableFuture<Void> done) {}

  private record Written(ChainedRecord record, CompletableFuture<Void> done) {}

  private record Failure(String reason, Instant since, Throwable cause) {}

  private static final Entry CLOSE = new Entry(null, new byte[0], Durability.BOUNDED, null);

  private final Path directory;
  private final AuditLogSettings settings;
  private final AuditEncoder encoder;
  private final Clock clock;
  private final LogFile.Opener opener;
  private final SegmentWriter segments;
  private final Checkpointer checkpoints;
  private final String logId;
  private final ConcurrentLinkedQueue<Entry> queue = new ConcurrentLinkedQueue<>();

  /**
   * True while the writer sleeps with nothing to do soon: an append must wake it. While it is busy
   * it naps ({@link #NAP_NANOS}) between batches instead, and only an IMMEDIATE record wakes it
   * early, so that a stream of reads costs no wake-up (a futex call and a context switch) per
   * record.
   */
  private volatile boolean idle;

  /** How long the writer sleeps between batches while records keep coming. */
  private static final CompletableFuture<Void> BOUNDED_ACCEPTED =
      CompletableFuture.completedFuture(null);

  private static final long NAP_NANOS = TimeUnit.MILLISECONDS.toNanos(5);

  /** How long without records before the writer stops napping and sleeps until woken. */
  private static final long IDLE_AFTER_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

  private final AtomicInteger queued = new AtomicInteger();
  private final AtomicLong refused = new AtomicLong();
  private final List<DurableBatchListener> listeners = new CopyOnWriteArrayList<>();
  private final Thread writer;
  private volatile Failure failure;
  private volatile boolean closed;
  private volatile long durableSeq;

  // Writer-thread state.
  private final List<Written> unsynced = new ArrayList<>();
  private final List<Entry> kept = new ArrayList<>();
  private long syncDeadline = NONE;
  private boolean immediateWaiting;
  private long nextProbe;
  private long lastCheckpointNanos;

  private EmbeddedAuditTrail(
      Path directory,
      AuditLogSettings settings,
      AuditEncoder encoder,
      Clock clock,
      LogFile.Opener opener,
      SegmentWriter segments,
      Checkpointer checkpoints) {
    this.directory = directory;
    this.settings = settings;
    this.encoder = encoder;
    this.clock = clock;
    this.opener = opener;
    this.segments = segments;
    this.checkpoints = checkpoints;
    this.logId = segments.logId();
    this.durableSeq = segments.durableSeq();
    this.lastCheckpointNanos = System.nanoTime();
    this.writer =
        Thread.ofPlatform().daemon().name("warden-audit-writer-" + logId).unstarted(this::run);
  }

  /**
   * Opens the log in {@code auditDir}, creating it when there is none, and starts its writer.
   *
   * @throws IOException when the directory cannot be written, the log is damaged before its tail,
   *     was signed with another key, belongs to another log id than configured, or its checkpoints
   *     cover records it no longer has (each message says which, and what to do)
   */
  public static EmbeddedAuditTrail open(
      Path auditDir, AuditLogSettings settings, AuditEncoder encoder, Clock clock)
      throws IOException {
    return open(auditDir, settings, encoder, clock, LogFile.DISK);
  }

  static EmbeddedAuditTrail open(
      Path auditDir,
      AuditLogSettings settings,
      AuditEncoder encoder,
      Clock clock,
      LogFile.Opener opener)
      throws IOException {
    Objects.requireNonNull(settings, "settings");
    Objects.requireNonNull(encoder, "encoder");
    Objects.requireNonNull(clock, "clock");
    createPrivateDirectory(auditDir);
    AuditKeys.writePublicKey(
        auditDir.resolve(AuditKeys.PUBLIC_KEY_FILE), settings.keys().publicKey());
    SegmentWriter.Opened opened =
        SegmentWriter.open(
            auditDir,
            settings.logId(),
            opener,
            settings.segmentBytes(),
            EmbeddedAuditTrail::newLogId);
    SegmentWriter segments = opened.writer();
    try {
      Checkpointer checkpoints =
          Checkpointer.open(auditDir, settings.witness(), segments.logId(), settings.keys(), clock);
      checkLastCheckpoint(auditDir, checkpoints.last(), segments);
      EmbeddedAuditTrail trail =
          new EmbeddedAuditTrail(auditDir, settings, encoder, clock, opener, segments, checkpoints);
      opened
          .tornTail()
          .ifPresent(
              t -> {
                log.warn(
                    "audit log {}: {} in {}; cut off {} bytes after record {}",
                    trail.logId,
                    t.reason(),
                    t.segment(),
                    t.bytesRemoved(),
                    t.afterSeq());
                Map<String, String> details = new LinkedHashMap<>();
                details.put("segment", t.segment());
                details.put("after_seq", Long.toString(t.afterSeq()));
                details.put("bytes_removed", Long.toString(t.bytesRemoved()));
                details.put("reason", t.reason());
                trail.queue.add(
                    new Entry(
                        new AuditEvent(
                            clock.instant(),
                            "audit-torn-tail-removed",
                            true,
                            "",
                            Optional.empty(),
                            details),
                        null,
                        Durability.BOUNDED,
                        null));
                trail.queued.incrementAndGet();
              });
      trail.writer.start();
      return trail;
    } catch (IOException | RuntimeException e) {
      segments.close();
      throw e;
    }
  }

  /**
   * Creates the log's directory readable by Warden's user only: records hold statement texts,
   * redacted but still the data's shape. An existing directory is left as it is.
   */
  private static void createPrivateDirectory(Path dir) throws IOException {
    if (Files.isDirectory(dir)) {
      return;
    }
    Path parent = dir.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    try {
      Files.createDirectory(
          dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    } catch (FileAlreadyExistsException e) {
      if (!Files.isDirectory(dir)) {
        throw e;
      }
    }
  }

  private static void checkLastCheckpoint(Path dir, Checkpoint last, SegmentWriter segments)
      throws IOException {
    if (last == null) {
      return;
    }
    if (last.seq() > segments.seq()) {
      throw new IOException(
          "the audit log in "
              + dir
              + " ends at record "
              + segments.seq()
              + " but its signed checkpoint covers record "
              + last.seq()
              + ": records were removed. It was not opened; run `warden audit verify`");
    }
    if (last.seq() == segments.seq()
        && !MessageDigest.isEqual(last.hash(), segments.durableHash())) {
      throw new IOException(
          "the audit log in "
              + dir
              + " differs from its last signed checkpoint at record "
              + last.seq()
              + ": it was rewritten. It was not opened; run `warden audit verify`");
    }
  }

  private static String newLogId() {
    byte[] id = new byte[6];
    new SecureRandom().nextBytes(id);
    return "w-" + HexFormat.of().formatHex(id);
  }

  /** This log's id, kept in every segment's header: a restart continues the same chain. */
  public String logId() {
    return logId;
  }

  /** The directory the log lives in. */
  public Path directory() {
    return directory;
  }

  /** The last record that is durable. */
  public long durableSeq() {
    return durableSeq;
  }

  @Override
  public CompletableFuture<Void> append(AuditRecord record, Durability durability) {
    Objects.requireNonNull(record, "record");
    Objects.requireNonNull(durability, "durability");
    Failure f = failure;
    if (f != null) {
      refused.incrementAndGet();
      return CompletableFuture.failedFuture(new AuditUnavailableException(message(f)));
    }
    if (closed) {
      return CompletableFuture.failedFuture(
          new AuditUnavailableException("the audit trail is closed"));
    }
    if (queued.incrementAndGet() > settings.maxQueued()) {
      queued.decrementAndGet();
      refused.incrementAndGet();
      return CompletableFuture.failedFuture(
          new AuditUnavailableException(
              "the audit writer is behind: "
                  + settings.maxQueued()
                  + " records are waiting to be written"));
    }
    if (durability == Durability.IMMEDIATE) {
      CompletableFuture<Void> done = new CompletableFuture<>();
      queue.add(new Entry(record, null, durability, done));
      LockSupport.unpark(writer);
      return done;
    }
    queue.add(new Entry(record, null, durability, null));
    if (idle) {
      LockSupport.unpark(writer);
    }
    return BOUNDED_ACCEPTED;
  }

  @Override
  public Optional<String> unavailable() {
    Failure f = failure;
    return f == null
        ? Optional.empty()
        : Optional.of(f.reason() + " (since " + AuditEncoder.formatTime(f.since()) + ")");
  }

  private static String message(Failure f) {
    return "the audit trail cannot record this: " + f.reason();
  }

  /** Adds a listener told of every record made durable from now on. */
  public void addListener(DurableBatchListener listener) {
    listeners.add(Objects.requireNonNull(listener, "listener"));
  }

  public void removeListener(DurableBatchListener listener) {
    listeners.remove(listener);
  }

  /**
   * The durable records after {@code seq}, in order, up to the last one durable now. Safe while the
   * writer runs: it never reads a record that a recovery could still cut off.
   */
  public AuditLogReader.Cursor readAfter(long seq) throws IOException {
    return AuditLogReader.open(directory).readAfter(seq, durableSeq);
  }

  // ---- the writer thread ----

  /** Takes up to {@link #MAX_BATCH} queued entries; sleeps first when none is queued. */
  private void take(List<Entry> batch, long lastRecordNanos) {
    drain(batch);
    if (!batch.isEmpty()) {
      return;
    }
    long now = System.nanoTime();
    long wait = wakeUp(now) - now;
    if (wait <= 0) {
      return;
    }
    if (now - lastRecordNanos < IDLE_AFTER_NANOS) {
      LockSupport.parkNanos(this, Math.min(wait, NAP_NANOS));
    } else {
      idle = true;
      // Checked again after saying so: an append that queued before seeing idle is taken now.
      if (queue.isEmpty()) {
        LockSupport.parkNanos(this, wait);
      }
      idle = false;
    }
    drain(batch);
  }

  private void drain(List<Entry> batch) {
    Entry e;
    while (batch.size() < MAX_BATCH && (e = queue.poll()) != null) {
      batch.add(e);
    }
  }

  private void run() {
    List<Entry> batch = new ArrayList<>();
    boolean closing = false;
    long lastRecordNanos = 0;
    try {
      while (!closing) {
        take(batch, lastRecordNanos);
        if (!batch.isEmpty()) {
          lastRecordNanos = System.nanoTime();
        }
        while (batch.remove(CLOSE)) {
          closing = true;
        }
        queued.addAndGet(-batch.size());
        if (failure != null) {
          keepOrRefuse(batch, 0);
          if (closing || System.nanoTime() >= nextProbe) {
            probe();
          }
        } else {
          write(batch);
        }
        batch.clear();
        if (failure == null && (immediateWaiting || System.nanoTime() >= syncDeadline || closing)) {
          sync();
        }
        if (failure == null) {
          maybeCheckpoint(closing);
        }
      }
    } catch (RuntimeException | Error e) {
      log.error("audit log {}: the writer stopped", logId, e);
      fail("the audit writer stopped: " + e, e);
    } finally {
      if (!closing) {
        // The writer died of a bug: nothing will take what is queued, so refuse it now.
        Entry e;
        while ((e = queue.poll()) != null) {
          if (e.done() != null) {
            e.done()
                .completeExceptionally(new AuditUnavailableException("the audit writer stopped"));
          }
        }
      }
      if (!kept.isEmpty()) {
        log.error(
            "audit log {}: {} accepted records could not be written before closing",
            logId,
            kept.size());
      }
      try {
        segments.close();
      } catch (IOException e) {
        log.warn("audit log {}: closing the segment failed: {}", logId, e.getMessage());
      }
    }
  }

  /** When the writer must wake up with nothing queued: a sync, a checkpoint, or a probe due. */
  private long wakeUp(long now) {
    if (failure != null) {
      return nextProbe;
    }
    long at = syncDeadline;
    if (durableSeq > checkpoints.lastSeq()) {
      at = Math.min(at, lastCheckpointNanos + settings.checkpointInterval().toNanos());
    }
    return Math.min(at, now + TimeUnit.SECONDS.toNanos(60));
  }

  private void write(List<Entry> batch) {
    try {
      long free = opener.usableSpace(directory);
      if (free < settings.minFreeBytes()) {
        fail(lowSpace(free), null);
        keepOrRefuse(batch, 0);
        return;
      }
    } catch (IOException e) {
      fail("cannot check the audit disk's free space: " + e.getMessage(), e);
      keepOrRefuse(batch, 0);
      return;
    }
    int i = 0;
    try {
      for (; i < batch.size(); i++) {
        Entry e = batch.get(i);
        byte[] payload = encode(e);
        batch.set(i, new Entry(e.record(), payload, e.durability(), e.done()));
        ChainedRecord r = segments.append(payload);
        unsynced.add(new Written(r, e.done()));
        immediateWaiting |= e.done() != null;
        if (syncDeadline == NONE) {
          syncDeadline = System.nanoTime() + settings.boundedWindow().toNanos();
        }
      }
      segments.flush();
    } catch (IOException | RuntimeException e) {
      fail("audit log " + e.getMessage(), e);
      keepOrRefuse(batch, i);
    }
  }

  private String lowSpace(long free) {
    return "audit disk has less than "
        + bytes(settings.minFreeBytes())
        + " free ("
        + bytes(free)
        + " left)";
  }

  private static String bytes(long n) {
    if (n >= 1 << 20 && n % (1 << 20) == 0 || n >= 16L << 20) {
      return (n >> 20) + " MiB";
    }
    if (n >= 1 << 10) {
      return (n >> 10) + " KiB";
    }
    return n + " bytes";
  }

  /**
   * The record's payload. A record the encoder cannot turn into bytes (a bug) is still recorded, as
   * an event saying so, so that it does not vanish; an {@code IMMEDIATE} one is also refused.
   */
  private byte[] encode(Entry e) {
    if (e.payload() != null) {
      return e.payload();
    }
    try {
      return encoder.encode(e.record());
    } catch (RuntimeException ex) {
      // The exception's message may quote the record, so only its type is logged and kept.
      log.error(
          "audit log {}: cannot encode a {} ({})",
          logId,
          e.record().getClass().getSimpleName(),
          ex.getClass().getName());
      if (e.done() != null) {
        e.done()
            .completeExceptionally(
                new AuditUnavailableException(
                    "the audit trail cannot encode this record (" + ex.getClass().getName() + ")",
                    ex));
      }
      return encoder.encode(
          new AuditEvent(
              clock.instant(),
              "audit-record-unencodable",
              false,
              "",
              Optional.empty(),
              Map.of(
                  "record", e.record().getClass().getSimpleName(),
                  "error", ex.getClass().getName())));
    }
  }

  private void sync() {
    if (unsynced.isEmpty()) {
      syncDeadline = NONE;
      return;
    }
    try {
      segments.force();
    } catch (IOException | RuntimeException e) {
      fail("audit log " + e.getMessage(), e);
      return;
    }
    durableSeq = segments.durableSeq();
    List<ChainedRecord> records = new ArrayList<>(unsynced.size());
    for (Written w : unsynced) {
      records.add(w.record());
      if (w.done() != null) {
        w.done().complete(null);
      }
    }
    unsynced.clear();
    syncDeadline = NONE;
    immediateWaiting = false;
    tell(List.copyOf(records));
  }

  private void tell(List<ChainedRecord> records) {
    for (DurableBatchListener l : listeners) {
      try {
        l.written(logId, records);
      } catch (RuntimeException e) {
        log.error("audit log {}: a listener failed", logId, e);
      }
    }
  }

  private void maybeCheckpoint(boolean closing) {
    long seq = durableSeq;
    long last = checkpoints.lastSeq();
    if (seq <= last) {
      return;
    }
    long now = System.nanoTime();
    if (closing
        || seq - last >= settings.checkpointEvery()
        || now - lastCheckpointNanos >= settings.checkpointInterval().toNanos()) {
      try {
        checkpoints.checkpoint(seq, segments.durableHash());
        lastCheckpointNanos = now;
      } catch (IOException | RuntimeException e) {
        fail("audit log " + e.getMessage(), e);
      }
    }
  }

  /**
   * Enters the failed state: the written records not yet durable are refused ({@code IMMEDIATE}) or
   * kept for after recovery ({@code BOUNDED}); the next {@link #probe} is due in a second.
   */
  private void fail(String reason, Throwable cause) {
    if (failure == null) {
      failure = new Failure(reason, clock.instant(), cause);
      log.error(
          "audit log {}: {}; refusing every record until it can be written again",
          logId,
          reason,
          cause);
    }
    AuditUnavailableException refusal = new AuditUnavailableException(message(failure), cause);
    for (Written w : unsynced) {
      if (w.done() != null) {
        w.done().completeExceptionally(refusal);
        refused.incrementAndGet();
      } else {
        kept.add(new Entry(null, w.record().payload(), Durability.BOUNDED, null));
      }
    }
    unsynced.clear();
    syncDeadline = NONE;
    immediateWaiting = false;
    nextProbe = System.nanoTime() + settings.probeInterval().toNanos();
  }

  /** While failed: refuses {@code IMMEDIATE} entries from {@code from} on, keeps the others. */
  private void keepOrRefuse(List<Entry> batch, int from) {
    AuditUnavailableException refusal =
        new AuditUnavailableException(message(failure), failure.cause());
    for (int i = from; i < batch.size(); i++) {
      Entry e = batch.get(i);
      if (e.done() != null) {
        e.done().completeExceptionally(refusal);
        refused.incrementAndGet();
      } else {
        kept.add(e);
      }
    }
  }

  /** Tries to leave the failed state; stays in it, quietly, when the log cannot be written yet. */
  private void probe() {
    nextProbe = System.nanoTime() + settings.probeInterval().toNanos();
    Failure f = failure;
    try {
      long free = opener.usableSpace(directory);
      if (free < Math.max(settings.minFreeBytes(), RECOVERY_FREE_BYTES)) {
        log.debug("audit log {}: still only {} free", logId, bytes(free));
        return;
      }
      segments.recover();
      checkpoints.recover();
      List<ChainedRecord> written = new ArrayList<>(kept.size() + 1);
      for (Entry e : kept) {
        written.add(segments.append(encode(e)));
      }
      Instant now = clock.instant();
      Map<String, String> details = new LinkedHashMap<>();
      details.put("reason", f.reason());
      details.put("unavailable_since", AuditEncoder.formatTime(f.since()));
      details.put("unavailable_until", AuditEncoder.formatTime(now));
      details.put("refused", Long.toString(refused.get()));
      details.put("kept", Integer.toString(kept.size()));
      written.add(
          segments.append(
              encoder.encode(
                  new AuditEvent(now, "audit-recovered", true, "", Optional.empty(), details))));
      segments.force();
      durableSeq = segments.durableSeq();
      log.info(
          "audit log {}: records are accepted again (unavailable since {}: {}; {} refused, {}"
              + " kept and now written)",
          logId,
          AuditEncoder.formatTime(f.since()),
          f.reason(),
          refused.get(),
          kept.size());
      kept.clear();
      refused.set(0);
      failure = null;
      tell(List.copyOf(written));
    } catch (IOException | RuntimeException e) {
      log.debug("audit log {}: still cannot write: {}", logId, e.toString());
    }
  }

  /**
   * Writes what is queued, makes it durable, signs a last checkpoint, and closes the files. Later
   * appends fail.
   */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    queue.add(CLOSE);
    LockSupport.unpark(writer);
    try {
      writer.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    Entry e;
    AuditUnavailableException refusal = new AuditUnavailableException("the audit trail is closed");
    while ((e = queue.poll()) != null) {
      if (e.done() != null) {
        e.done().completeExceptionally(refusal);
      }
    }
  }
}
