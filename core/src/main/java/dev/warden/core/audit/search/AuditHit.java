package dev.warden.core.audit.search;

import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalLong;

/**
 * One search result: an event, or a statement (its intent with its outcome merged in).
 *
 * @param logId the audit log the record is in
 * @param seq its sequence number in that log (for a statement, the intent's)
 * @param time when it happened (for a statement, when Warden received it)
 * @param outcomeSeq for a statement whose outcome is recorded, the outcome's sequence number in the
 *     same log
 * @param fields the record's JSON fields as {@code AuditEncoder} wrote them (integers as {@link
 *     Long}), with the outcome's merged in by {@link #merge}
 */
public record AuditHit(
    String logId, long seq, Instant time, OptionalLong outcomeSeq, Map<String, Object> fields) {
  public AuditHit {
    Objects.requireNonNull(logId, "logId");
    Objects.requireNonNull(time, "time");
    Objects.requireNonNull(outcomeSeq, "outcomeSeq");
    fields = Collections.unmodifiableMap(new LinkedHashMap<>(fields));
  }

  /**
   * The fields of a statement's result: its intent's, plus its outcome's ({@code status}, {@code
   * rows}, {@code tag}, {@code duration_us}, {@code masked}, ...). The outcome's {@code time}
   * becomes {@code outcome_time}; its {@code sqlstate} is kept only when the intent has none (a
   * refused statement carries the refusal's); {@code type}, {@code session}, {@code stmt} and
   * {@code instance} are the intent's. No intent field is overwritten.
   */
  public static Map<String, Object> merge(Map<String, Object> intent, Map<String, Object> outcome) {
    Map<String, Object> merged = new LinkedHashMap<>(intent);
    for (Map.Entry<String, Object> e : outcome.entrySet()) {
      switch (e.getKey()) {
        case "type", "session", "stmt", "instance" -> {}
        case "time" -> merged.put(OUTCOME_TIME, e.getValue());
        default -> merged.putIfAbsent(e.getKey(), e.getValue());
      }
    }
    return merged;
  }

  /** The key under which {@link #merge} keeps the outcome's time; its presence marks an outcome. */
  public static final String OUTCOME_TIME = "outcome_time";
}
