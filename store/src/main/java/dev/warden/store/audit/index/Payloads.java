package dev.warden.store.audit.index;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.warden.core.audit.search.AuditHit;
import java.io.IOException;
import java.time.DateTimeException;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Audit payloads (canonical JSON, {@code CanonicalJson}) as field maps, with integers as {@link
 * Long} whatever their size, so that both stores hand out the same maps.
 */
public final class Payloads {
  private static final ObjectMapper JSON =
      new ObjectMapper().enable(DeserializationFeature.USE_LONG_FOR_INTS);
  private static final TypeReference<LinkedHashMap<String, Object>> MAP = new TypeReference<>() {};

  private Payloads() {}

  /**
   * The fields of {@code payload}. A payload that is not a JSON object (which an honest writer
   * never stores) still gets a row, as {@code {"unreadable": "not a JSON object"}}, so that nothing
   * in the log is invisible to search.
   */
  public static Map<String, Object> fields(byte[] payload) {
    try {
      Map<String, Object> fields = JSON.readValue(payload, MAP);
      return fields == null ? unreadable() : fields;
    } catch (JsonProcessingException e) {
      return unreadable();
    } catch (IOException e) {
      throw new IllegalStateException("reading a byte array failed", e);
    }
  }

  /** The fields of {@code text}, a JSON object as PostgreSQL prints a {@code jsonb}. */
  public static Map<String, Object> fields(String text) {
    try {
      Map<String, Object> fields = JSON.readValue(text, MAP);
      return fields == null ? unreadable() : fields;
    } catch (JsonProcessingException e) {
      return unreadable();
    }
  }

  /** The fields of a hit: the record's, with a statement's outcome merged in when it has one. */
  public static Map<String, Object> hitFields(
      Map<String, Object> record, Optional<Map<String, Object>> outcome) {
    return outcome.map(o -> AuditHit.merge(record, o)).orElse(record);
  }

  /** The record's {@code time}, or empty when it has none that can be read. */
  public static Optional<Instant> time(Map<String, Object> fields) {
    if (fields.get("time") instanceof String s) {
      try {
        return Optional.of(Instant.parse(s));
      } catch (DateTimeException e) {
        return Optional.empty();
      }
    }
    return Optional.empty();
  }

  /** Microseconds since the epoch: the index's time column. */
  public static long micros(Instant t) {
    return Math.addExact(Math.multiplyExact(t.getEpochSecond(), 1_000_000L), t.getNano() / 1000);
  }

  /** The instant of {@link #micros}. */
  public static Instant instant(long micros) {
    return Instant.ofEpochSecond(
        Math.floorDiv(micros, 1_000_000L), Math.floorMod(micros, 1_000_000L) * 1000);
  }

  private static Map<String, Object> unreadable() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("unreadable", "not a JSON object");
    return m;
  }
}
