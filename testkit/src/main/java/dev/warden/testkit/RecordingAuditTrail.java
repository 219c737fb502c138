package dev.warden.testkit;

import dev.warden.core.audit.AuditRecord;
import dev.warden.core.audit.AuditTrail;
import dev.warden.core.audit.AuditUnavailableException;
import dev.warden.core.audit.Durability;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Predicate;

/**
 * An {@link AuditTrail} that keeps records in memory, for tests of the parts that record (the
 * proxy, the server): it can refuse records as a failed store does ({@link #fail}) and hold
 * immediate-durability records unconfirmed ({@link #holdImmediate}) as a slow fsync would, so a
 * test can prove that nothing reaches the database before its intent is durable. The real stores
 * have their own tests; this is not one of them.
 */
public final class RecordingAuditTrail implements AuditTrail {
  private final List<AuditRecord> records = new ArrayList<>();
  private final List<CompletableFuture<Void>> held = new ArrayList<>();
  private String failure;
  private boolean holding;

  @Override
  public synchronized CompletableFuture<Void> append(AuditRecord record, Durability durability) {
    if (failure != null) {
      return CompletableFuture.failedFuture(
          new AuditUnavailableException("the audit trail cannot record this (" + failure + ")"));
    }
    records.add(record);
    notifyAll();
    if (holding && durability == Durability.IMMEDIATE) {
      CompletableFuture<Void> f = new CompletableFuture<>();
      held.add(f);
      return f;
    }
    return CompletableFuture.completedFuture(null);
  }

  @Override
  public synchronized Optional<String> unavailable() {
    return Optional.ofNullable(failure);
  }

  /** Refuses every record from now on with {@code reason}; {@code null} accepts them again. */
  public synchronized void fail(String reason) {
    failure = reason;
  }

  /** Leaves immediate-durability records unconfirmed until {@link #releaseHeld}. */
  public synchronized void holdImmediate() {
    holding = true;
  }

  /** Confirms the held records, or fails them with {@code failure} when it is not null. */
  public void releaseHeld(String failure) {
    List<CompletableFuture<Void>> now;
    synchronized (this) {
      holding = false;
      now = new ArrayList<>(held);
      held.clear();
    }
    for (CompletableFuture<Void> f : now) {
      if (failure == null) {
        f.complete(null);
      } else {
        f.completeExceptionally(new AuditUnavailableException(failure));
      }
    }
  }

  /** How many records are waiting for {@link #releaseHeld}. */
  public synchronized int heldCount() {
    return held.size();
  }

  public synchronized List<AuditRecord> records() {
    return List.copyOf(records);
  }

  /** Waits until a record matching {@code test} arrives, or fails after {@code timeout}. */
  public synchronized AuditRecord await(Predicate<AuditRecord> test, Duration timeout)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      for (AuditRecord r : records) {
        if (test.test(r)) {
          return r;
        }
      }
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        throw new AssertionError(
            "no matching audit record within " + timeout + "; have " + records);
      }
      wait(Math.max(1, left / 1_000_000));
    }
  }

  public synchronized void clear() {
    records.clear();
  }
}
