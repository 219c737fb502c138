package dev.warden.store.audit.index;

import dev.warden.core.audit.ChainedRecord;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps an {@link AuditIndex} up with one audit log, on a thread of its own.
 *
 * <p>The log's writer hands each durable batch to {@link #written} (the shape of the embedded
 * trail's listener), which only queues it: the writer never waits for the index. The indexer takes
 * what is queued, and what arrives in the next {@value #LINGER_MILLIS} ms, up to {@value
 * #MAX_TRANSACTION} records per transaction, so a record is searchable about a tenth of a second
 * after it is durable. Waiting pays: an index transaction costs mostly what it writes per page
 * touched, whatever the number of records on the page, so under load a transaction of thousands of
 * records costs each record about half the CPU of one of some tens (as the log's writer hands them
 * over). If the queue grows past its bound (the index is slower than the log for a long while)
 * batches are dropped from it, never from the log: the indexer notices the gap and reads the
 * missing records back from the log through its {@link Source}. The same happens at start, from
 * {@link AuditIndex#lastSeq}, and after an index write fails.
 */
public final class AuditIndexer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(AuditIndexer.class);

  /** Records indexed per transaction at most. */
  static final int MAX_TRANSACTION = 8192;

  /** How long the indexer waits for more records to join a transaction. */
  static final long LINGER_MILLIS = 100;

  /**
   * How long to wait before retrying after the index failed: doubled per failure, up to a minute.
   */
  private static final long FIRST_RETRY_MILLIS = 1000;

  private static final long LAST_RETRY_MILLIS = 60_000;

  /** Reads a log's durable records after a sequence number. */
  @FunctionalInterface
  public interface Source {
    /**
     * The records after {@code seq}, in order. An iterator that is also {@link AutoCloseable} is
     * closed when read.
     */
    Iterator<ChainedRecord> readAfter(long seq) throws Exception;
  }

  private sealed interface Task {}

  private record Batch(List<ChainedRecord> records) implements Task {}

  private record CatchUp(Iterator<ChainedRecord> records, CompletableFuture<Long> done)
      implements Task {}

  private record Stop() implements Task {}

  private final AuditIndex index;
  private final String logId;
  private final Source source;
  private final int maxQueued;
  private final LinkedBlockingQueue<Task> queue = new LinkedBlockingQueue<>();
  private final AtomicLong queued = new AtomicLong();
  private final Thread thread;
  private final Object progress = new Object();
  private volatile long indexed;
  private volatile boolean behind;

  private AuditIndexer(AuditIndex index, String logId, Source source, int maxQueued) {
    this.index = index;
    this.logId = logId;
    this.source = source;
    this.maxQueued = maxQueued;
    this.thread = Thread.ofPlatform().daemon().name("warden-audit-indexer").unstarted(this::run);
  }

  /**
   * Starts indexing log {@code logId}: first whatever {@code source} has after {@link
   * AuditIndex#lastSeq}, then what {@link #written} hands over.
   *
   * @param maxQueued records queued at most before batches are dropped and read back later
   */
  public static AuditIndexer start(AuditIndex index, String logId, Source source, int maxQueued) {
    Objects.requireNonNull(index, "index");
    Objects.requireNonNull(logId, "logId");
    Objects.requireNonNull(source, "source");
    if (maxQueued < 1) {
      throw new IllegalArgumentException("maxQueued must be positive");
    }
    AuditIndexer indexer = new AuditIndexer(index, logId, source, maxQueued);
    indexer.indexed = index.lastSeq(logId);
    indexer.behind = true;
    indexer.queue.offer(new Batch(List.of()));
    indexer.thread.start();
    return indexer;
  }

  /** Starts indexing with room for 200 000 queued records. */
  public static AuditIndexer start(AuditIndex index, String logId, Source source) {
    return start(index, logId, source, 200_000);
  }

  /**
   * Queues a durable batch of log {@code logId} (other logs are ignored). Never blocks; called on
   * the log's writer thread.
   */
  public void written(String logId, List<ChainedRecord> batch) {
    if (!this.logId.equals(logId) || batch.isEmpty()) {
      return;
    }
    if (queued.addAndGet(batch.size()) > maxQueued) {
      queued.addAndGet(-batch.size());
      behind = true;
      queue.offer(new Batch(List.of()));
      return;
    }
    queue.offer(new Batch(List.copyOf(batch)));
  }

  /**
   * Indexes {@code records} (of this indexer's log, in order) on the indexer's thread; records
   * already indexed are skipped.
   *
   * @return completes with the last indexed sequence number, or fails with the index's error
   */
  public CompletableFuture<Long> catchUp(Iterator<ChainedRecord> records) {
    CompletableFuture<Long> done = new CompletableFuture<>();
    queue.offer(new CatchUp(records, done));
    return done;
  }

  /** The last sequence number indexed. */
  public long indexedSeq() {
    return indexed;
  }

  /** Waits until record {@code seq} is indexed; false if {@code timeoutMillis} passed first. */
  public boolean awaitIndexed(long seq, long timeoutMillis) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
    synchronized (progress) {
      while (indexed < seq) {
        long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
        if (left <= 0) {
          return false;
        }
        progress.wait(left);
      }
      return true;
    }
  }

  private void run() {
    List<ChainedRecord> pending = new ArrayList<>();
    long retryMillis = FIRST_RETRY_MILLIS;
    Task deferred = null;
    while (true) {
      Task task;
      if (deferred != null) {
        task = deferred;
        deferred = null;
      } else {
        try {
          task = queue.take();
        } catch (InterruptedException e) {
          return;
        }
      }
      try {
        switch (task) {
          case Stop s -> {
            return;
          }
          case CatchUp c -> {
            // Closed before completing, so that whoever waits finds the reader closed.
            try {
              ingest(c.records());
            } catch (RuntimeException e) {
              closeIfCloseable(c.records());
              c.done().completeExceptionally(e);
              throw e;
            }
            closeIfCloseable(c.records());
            c.done().complete(indexed);
          }
          case Batch b -> {
            pending.addAll(b.records());
            queued.addAndGet(-b.records().size());
            // Take what else is queued or arrives within the linger into the same transaction,
            // stopping at other tasks and at a gap (each run next).
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(LINGER_MILLIS);
            while (pending.size() < MAX_TRANSACTION && !behind) {
              long left = deadline - System.nanoTime();
              Task next;
              try {
                next = left > 0 ? queue.poll(left, TimeUnit.NANOSECONDS) : queue.poll();
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                next = null;
              }
              if (next instanceof Batch more
                  && (pending.isEmpty()
                      || more.records().isEmpty()
                      || more.records().getFirst().seq() == pending.getLast().seq() + 1)) {
                pending.addAll(more.records());
                queued.addAndGet(-more.records().size());
              } else {
                deferred = next; // Another task, or a gap: after this transaction.
                break;
              }
            }
            if (!pending.isEmpty() && pending.getFirst().seq() > indexed + 1) {
              behind = true;
            }
            if (behind) {
              fromSource();
            }
            if (!pending.isEmpty()) {
              advance(index.accept(logId, pending));
            }
            pending.clear();
          }
        }
        if (behind && queue.isEmpty()) {
          fromSource();
        }
        retryMillis = FIRST_RETRY_MILLIS;
      } catch (RuntimeException e) {
        pending.clear();
        behind = true;
        log.error(
            "audit index: indexing log {} failed after record {}; it is read back from the log"
                + " in {} ms",
            logId,
            indexed,
            retryMillis,
            e);
        try {
          Thread.sleep(retryMillis);
        } catch (InterruptedException interrupted) {
          return;
        }
        retryMillis = Math.min(LAST_RETRY_MILLIS, retryMillis * 2);
        queue.offer(new Batch(List.of()));
      }
    }
  }

  /** Reads what the index lacks from the log. */
  private void fromSource() {
    Iterator<ChainedRecord> records;
    try {
      records = source.readAfter(indexed);
    } catch (Exception e) {
      throw new IllegalStateException("reading log " + logId + " after " + indexed + " failed", e);
    }
    try {
      ingest(records);
    } finally {
      closeIfCloseable(records);
    }
    behind = false;
  }

  private void ingest(Iterator<ChainedRecord> records) {
    List<ChainedRecord> chunk = new ArrayList<>();
    while (records.hasNext()) {
      chunk.add(records.next());
      if (chunk.size() == MAX_TRANSACTION) {
        advance(index.accept(logId, chunk));
        chunk.clear();
      }
    }
    if (!chunk.isEmpty()) {
      advance(index.accept(logId, chunk));
    }
  }

  private void advance(long seq) {
    synchronized (progress) {
      indexed = seq;
      progress.notifyAll();
    }
  }

  private static void closeIfCloseable(Iterator<ChainedRecord> records) {
    if (records instanceof AutoCloseable c) {
      try {
        c.close();
      } catch (Exception e) {
        log.warn("audit index: closing a log reader failed", e);
      }
    }
  }

  /** Stops the thread after what is queued; the index stays open (its owner closes it). */
  @Override
  public void close() {
    queue.offer(new Stop());
    try {
      thread.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
