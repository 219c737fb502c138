package dev.warden.proxy.postgres;

import dev.warden.core.audit.AuditRecord;
import dev.warden.core.audit.AuditTrail;
import dev.warden.core.audit.Durability;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;

/**
 * An audit trail whose immediate-durability appends complete {@code delay} after they are made, on
 * another thread, as the real trails' do once their group commit has synced: a statement that
 * changes something is then held by the proxy while the server already answers what came before it.
 * The records themselves go to the trail wrapped.
 */
final class LateDurableAuditTrail implements AuditTrail {
  private final AuditTrail records;
  private final Executor later;

  LateDurableAuditTrail(AuditTrail records, Duration delay) {
    this.records = records;
    this.later = CompletableFuture.delayedExecutor(delay.toNanos(), TimeUnit.NANOSECONDS);
  }

  @Override
  public CompletableFuture<Void> append(AuditRecord record, Durability durability) {
    CompletableFuture<Void> accepted = records.append(record, durability);
    if (durability != Durability.IMMEDIATE) {
      return accepted;
    }
    return accepted.thenApplyAsync(ok -> ok, later);
  }

  @Override
  public Optional<String> unavailable() {
    return records.unavailable();
  }
}
