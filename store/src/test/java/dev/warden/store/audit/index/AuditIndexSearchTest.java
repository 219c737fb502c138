package dev.warden.store.audit.index;

import dev.warden.core.audit.ChainedRecord;
import dev.warden.core.audit.search.AuditSearch;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;

/**
 * The search contract against the embedded index, fed in uneven batches so that outcomes often
 * arrive in a later transaction than their intents. A small drive cap makes the random queries take
 * both plans (driven and scan).
 */
class AuditIndexSearchTest extends AuditSearchContract {
  @TempDir Path dir;
  private AuditIndex index;

  @Override
  protected AuditSearch load(Map<String, List<ChainedRecord>> logs, Clock clock) {
    index = AuditIndex.open(dir.resolve("index.db"), clock, 40);
    for (Map.Entry<String, List<ChainedRecord>> log : logs.entrySet()) {
      List<ChainedRecord> records = log.getValue();
      int from = 0;
      int step = 1;
      while (from < records.size()) {
        int to = Math.min(records.size(), from + step);
        index.accept(log.getKey(), records.subList(from, to));
        from = to;
        step = step * 3 % 17 + 1;
      }
    }
    return index;
  }

  @AfterEach
  void close() {
    if (index != null) {
      index.close();
    }
  }
}
