package dev.warden.server.audit;

import dev.warden.core.audit.AuditChain;
import dev.warden.core.audit.CanonicalJson;
import dev.warden.core.audit.ChainedRecord;
import dev.warden.core.audit.DurableBatchListener;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/** A chained log in memory, with a feed, for exporter and tail tests. */
final class MemorySource implements RecordSource, AuditFeed {
  private final String logId;
  private final List<byte[]> payloads = new ArrayList<>();
  private final List<ChainedRecord> records = new CopyOnWriteArrayList<>();
  private final List<DurableBatchListener> listeners = new CopyOnWriteArrayList<>();
  final AtomicInteger failReads = new AtomicInteger();

  MemorySource(String logId) {
    this.logId = logId;
  }

  /** An event record's payload, as AuditEncoder would write it. */
  static byte[] event(int n, String text) {
    Map<String, Object> f = new LinkedHashMap<>();
    f.put("time", String.format("2026-11-01T10:00:%02d.000000Z", n % 60));
    f.put("instance", "test");
    f.put("type", "event");
    f.put("event", "test-event");
    f.put("success", true);
    f.put("user", "alice");
    f.put("details", Map.of("n", Integer.toString(n), "text", text));
    return CanonicalJson.encode(f);
  }

  /** Appends payloads, chains them, and tells the listeners. */
  synchronized List<ChainedRecord> append(List<byte[]> more) {
    payloads.addAll(more);
    List<ChainedRecord> all = AuditChain.chain(logId, payloads);
    List<ChainedRecord> batch = all.subList(records.size(), all.size());
    List<ChainedRecord> copy = List.copyOf(batch);
    records.addAll(copy);
    for (DurableBatchListener l : listeners) {
      l.written(logId, copy);
    }
    return copy;
  }

  /** Appends {@code count} events numbered on from the last. */
  List<ChainedRecord> appendEvents(int count) {
    List<byte[]> more = new ArrayList<>();
    int start = records.size() + 1;
    for (int i = 0; i < count; i++) {
      more.add(event(start + i, "record " + (start + i)));
    }
    return append(more);
  }

  List<ChainedRecord> records() {
    return List.copyOf(records);
  }

  @Override
  public String logId() {
    return logId;
  }

  @Override
  public List<ChainedRecord> readAfter(long after, int max) throws IOException {
    if (failReads.get() > 0 && failReads.getAndDecrement() > 0) {
      throw new IOException("injected read failure");
    }
    List<ChainedRecord> out = new ArrayList<>();
    for (ChainedRecord r : records) {
      if (r.seq() > after && out.size() < max) {
        out.add(r);
      }
    }
    return out;
  }

  @Override
  public void subscribe(DurableBatchListener listener) {
    listeners.add(listener);
  }
}
