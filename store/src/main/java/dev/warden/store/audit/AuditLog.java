package dev.warden.store.audit;

import dev.warden.core.audit.AuditChain;
import dev.warden.core.audit.AuditUnavailableException;
import dev.warden.core.audit.ChainedRecord;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The audit trail's write-ahead log: records appended to one file in the data directory,
 * hash-chained ({@link AuditChain}), and made durable by one writer thread that forces the file
 * once per batch (group commit): a record's future completes only when it is on disk.
 *
 * <p>Fail closed: the first write or fsync error fails every waiting record and every later one
 * with {@link AuditUnavailableException}; the log is not retried (fsyncgate). On open, a torn tail
 * (a frame cut short by a crash) is cut off and a recovery record says so; damage before the end
 * refuses the open.
 */
public final class AuditLog implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(AuditLog.class);

  /** The log's file inside its directory. */
  public static final String FILE = "audit.log";

  private static final int MAX_BATCH = 4096;

  private record Pending(byte[] payload, CompletableFuture<ChainedRecord> done) {}

  private static final Pending CLOSE = new Pending(new byte[0], null);

  private final String logId;
  private final LogFile file;
  private final LinkedBlockingQueue<Pending> queue = new LinkedBlockingQueue<>();
  private final Thread writer;
  private volatile Throwable failure;
  private byte[] hash;
  private long seq;

  private AuditLog(String logId, LogFile file, byte[] hash, long seq) {
    this.logId = logId;
    this.file = file;
    this.hash = hash;
    this.seq = seq;
    this.writer = Thread.ofPlatform().daemon().name("warden-audit-writer").unstarted(this::run);
  }

  /** Opens (or creates) the log {@code logId} in {@code directory}. */
  public static AuditLog open(Path directory, String logId) throws IOException {
    return open(directory, logId, LogFile.DISK);
  }

  static AuditLog open(Path directory, String logId, LogFile.Opener opener) throws IOException {
    Files.createDirectories(directory);
    Path path = directory.resolve(FILE);
    Frames.Decoded existing =
        Files.exists(path)
            ? Frames.decode(ByteBuffer.wrap(Files.readAllBytes(path)))
            : new Frames.Decoded(List.of(), 0, "", false);
    if (!existing.problem().isEmpty() && !existing.atEnd()) {
      throw new IOException(
          "the audit log " + path + " is damaged (" + existing.problem() + "); it was not opened");
    }
    LogFile file = opener.open(path);
    byte[] hash = AuditChain.genesis(logId);
    long seq = 0;
    List<ChainedRecord> records = existing.records();
    if (!records.isEmpty()) {
      ChainedRecord last = records.get(records.size() - 1);
      hash = last.hash();
      seq = last.seq();
    }
    AuditLog auditLog = new AuditLog(logId, file, hash, seq);
    if (!existing.problem().isEmpty()) {
      log.warn("audit log {}: {}; cutting it off after record {}", path, existing.problem(), seq);
      file.truncate(existing.goodLength());
      file.force();
    }
    auditLog.writer.start();
    if (!existing.problem().isEmpty()) {
      auditLog.append(
          ("{\"event\":\"torn-tail-removed\",\"after\":" + seq + "}")
              .getBytes(StandardCharsets.UTF_8));
    }
    return auditLog;
  }

  /** Reads every record of the log in {@code directory}, and says where it stops being readable. */
  public static Contents read(Path directory) throws IOException {
    Path path = directory.resolve(FILE);
    if (!Files.exists(path)) {
      return new Contents(List.of(), "");
    }
    Frames.Decoded d = Frames.decode(ByteBuffer.wrap(Files.readAllBytes(path)));
    return new Contents(d.records(), d.problem());
  }

  /**
   * A log's records as read.
   *
   * @param problem empty if the file ends cleanly, else where and why reading stopped
   */
  public record Contents(List<ChainedRecord> records, String problem) {}

  /**
   * Appends a record; the future completes when it is durable, or fails with {@link
   * AuditUnavailableException}.
   */
  public CompletableFuture<ChainedRecord> append(byte[] payload) {
    CompletableFuture<ChainedRecord> done = new CompletableFuture<>();
    Throwable failed = failure;
    if (failed != null) {
      done.completeExceptionally(unavailable(failed));
      return done;
    }
    queue.add(new Pending(payload.clone(), done));
    return done;
  }

  /** True until a write or fsync failed. */
  public boolean healthy() {
    return failure == null;
  }

  private void run() {
    List<Pending> batch = new ArrayList<>();
    while (true) {
      try {
        batch.add(queue.take());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
      queue.drainTo(batch, MAX_BATCH - 1);
      boolean closing = batch.remove(CLOSE);
      List<ChainedRecord> written = new ArrayList<>(batch.size());
      try {
        if (failure == null) {
          for (Pending p : batch) {
            byte[] next = AuditChain.next(hash, seq + 1, p.payload());
            ChainedRecord r = new ChainedRecord(seq + 1, p.payload(), next);
            file.write(Frames.encode(r));
            hash = next;
            seq++;
            written.add(r);
          }
          if (!batch.isEmpty()) {
            file.force();
          }
        }
        for (int i = 0; i < batch.size(); i++) {
          if (failure != null) {
            batch.get(i).done().completeExceptionally(unavailable(failure));
          } else {
            batch.get(i).done().complete(written.get(i));
          }
        }
      } catch (IOException | RuntimeException e) {
        failure = e;
        log.error("audit log {}: write failed, refusing every record from now on", logId, e);
        for (Pending p : batch) {
          p.done().completeExceptionally(unavailable(e));
        }
        Pending p;
        while ((p = queue.poll()) != null) {
          if (p != CLOSE) {
            p.done().completeExceptionally(unavailable(e));
          } else {
            closing = true;
          }
        }
      }
      batch.clear();
      if (closing) {
        return;
      }
    }
  }

  private static AuditUnavailableException unavailable(Throwable cause) {
    return new AuditUnavailableException(
        "the audit trail cannot record this durably (" + cause.getMessage() + ")", cause);
  }

  /** Writes what is queued, then closes the file. */
  @Override
  public void close() throws IOException {
    queue.add(CLOSE);
    try {
      writer.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    file.close();
  }
}
