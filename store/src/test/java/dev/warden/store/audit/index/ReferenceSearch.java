package dev.warden.store.audit.index;

import dev.warden.core.audit.ChainedRecord;
import dev.warden.core.audit.search.AuditHit;
import dev.warden.core.audit.search.AuditQuery;
import dev.warden.core.audit.search.AuditResults;
import dev.warden.core.audit.search.AuditSearch;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * The search's meaning in plain Java, for the contract test: statements paired with their outcomes
 * as the docs say (neighbours with the same log, session and statement number), every result
 * checked with {@link AuditQuery#matches}, newest first.
 */
public final class ReferenceSearch implements AuditSearch {
  private final Clock clock;
  private final List<AuditHit> rows = new ArrayList<>();

  public ReferenceSearch(Map<String, List<ChainedRecord>> logs, Clock clock) {
    this.clock = clock;
    for (Map.Entry<String, List<ChainedRecord>> log : logs.entrySet()) {
      // Per key, the last keyed record: the index in rows of an intent still awaiting its outcome,
      // or -1 when the last one was something else.
      Map<String, Integer> last = new HashMap<>();
      for (ChainedRecord r : log.getValue()) {
        Map<String, Object> fields = Payloads.fields(r.payload());
        Instant time = Payloads.time(fields).orElseGet(clock::instant);
        Object type = fields.get("type");
        String key =
            fields.get("session") instanceof String s && fields.get("stmt") instanceof Long n
                ? s + "\u0000" + n
                : null;
        if ("outcome".equals(type) && key != null) {
          Integer previous = last.get(key);
          last.put(key, -1);
          if (previous != null && previous >= 0) {
            AuditHit intent = rows.get(previous);
            rows.set(
                previous,
                new AuditHit(
                    intent.logId(),
                    intent.seq(),
                    intent.time(),
                    OptionalLong.of(r.seq()),
                    Payloads.hitFields(intent.fields(), Optional.of(fields))));
            continue;
          }
        }
        rows.add(new AuditHit(log.getKey(), r.seq(), time, OptionalLong.empty(), fields));
        if ("intent".equals(type) && key != null) {
          last.put(key, rows.size() - 1);
        }
      }
    }
    rows.sort(
        Comparator.comparing(AuditHit::time)
            .thenComparing(AuditHit::logId)
            .thenComparingLong(AuditHit::seq)
            .reversed());
  }

  @Override
  public AuditResults search(AuditQuery query, int limit) {
    AuditSearch.checkLimit(limit);
    Instant now = clock.instant();
    List<AuditHit> hits = new ArrayList<>();
    for (AuditHit h : rows) {
      if (query.matches(h.fields(), h.time(), now)) {
        if (hits.size() == limit) {
          return new AuditResults(hits, true);
        }
        hits.add(h);
      }
    }
    return new AuditResults(hits, false);
  }
}
