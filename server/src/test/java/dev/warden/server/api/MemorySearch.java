package dev.warden.server.api;

import dev.warden.core.audit.search.AuditHit;
import dev.warden.core.audit.search.AuditQuery;
import dev.warden.core.audit.search.AuditResults;
import dev.warden.core.audit.search.AuditSearch;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.IntSupplier;

/**
 * A search over hits in memory with the reference meaning ({@link AuditQuery#matches}); remembers
 * what it was asked and how many records the trail held at that moment.
 */
public final class MemorySearch implements AuditSearch {
  private final List<AuditHit> hits = new CopyOnWriteArrayList<>();
  private final Clock clock;
  private final IntSupplier recordsSoFar;
  public final List<String> queries = new CopyOnWriteArrayList<>();
  final List<Integer> recordsWhenAsked = new CopyOnWriteArrayList<>();

  public MemorySearch(Clock clock, IntSupplier recordsSoFar) {
    this.clock = clock;
    this.recordsSoFar = recordsSoFar;
  }

  public void add(AuditHit hit) {
    hits.add(hit);
  }

  @Override
  public AuditResults search(AuditQuery query, int limit) {
    AuditSearch.checkLimit(limit);
    queries.add(query.source());
    recordsWhenAsked.add(recordsSoFar.getAsInt());
    List<AuditHit> found = new ArrayList<>();
    for (AuditHit hit : hits) {
      if (query.matches(hit.fields(), hit.time(), clock.instant())) {
        found.add(hit);
      }
    }
    found.sort(Comparator.comparing(AuditHit::time).thenComparing(AuditHit::seq).reversed());
    boolean more = found.size() > limit;
    return new AuditResults(found.subList(0, Math.min(limit, found.size())), more);
  }
}
