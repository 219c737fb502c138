package dev.warden.server.api;

import dev.warden.core.audit.AuditChain;
import dev.warden.core.audit.AuditEncoder;
import dev.warden.core.audit.AuditRecord;
import dev.warden.core.audit.AuditTrail;
import dev.warden.core.audit.AuditUnavailableException;
import dev.warden.core.audit.ChainedRecord;
import dev.warden.core.audit.Durability;
import dev.warden.core.audit.DurableBatchListener;
import dev.warden.core.audit.Redactor;
import dev.warden.server.audit.AuditFeed;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * An audit trail in memory that encodes and chains what it is given and tells its feed's listeners,
 * as the real stores do after each durable batch.
 */
public final class ChainingTrail implements AuditTrail, AuditFeed {
  public static final String LOG_ID = "w-test00000001";

  private final AuditEncoder encoder = new AuditEncoder("test", Redactor.NONE, new byte[32]);
  private final List<AuditRecord> appended = new CopyOnWriteArrayList<>();
  private final List<ChainedRecord> chained = new ArrayList<>();
  private final List<DurableBatchListener> listeners = new CopyOnWriteArrayList<>();
  private byte[] last = AuditChain.genesis(LOG_ID);
  private volatile Optional<String> unavailable = Optional.empty();

  @Override
  public synchronized CompletableFuture<Void> append(AuditRecord record, Durability durability) {
    if (unavailable.isPresent()) {
      return CompletableFuture.failedFuture(new AuditUnavailableException(unavailable.get()));
    }
    appended.add(record);
    appendPayload(encoder.encode(record));
    return CompletableFuture.completedFuture(null);
  }

  /** Chains a payload as it is (records the encoder cannot build in a test: intents, outcomes). */
  synchronized ChainedRecord appendPayload(byte[] payload) {
    long seq = chained.size() + 1;
    last = AuditChain.next(last, seq, payload);
    ChainedRecord record = new ChainedRecord(seq, payload, last);
    chained.add(record);
    for (DurableBatchListener l : listeners) {
      l.written(LOG_ID, List.of(record));
    }
    return record;
  }

  @Override
  public Optional<String> unavailable() {
    return unavailable;
  }

  public void fail(String reason) {
    unavailable = Optional.of(reason);
  }

  public List<AuditRecord> appended() {
    return List.copyOf(appended);
  }

  synchronized List<ChainedRecord> chained() {
    return List.copyOf(chained);
  }

  @Override
  public void subscribe(DurableBatchListener listener) {
    listeners.add(listener);
  }
}
