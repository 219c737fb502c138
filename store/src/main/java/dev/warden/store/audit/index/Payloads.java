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
    return timeOf(fields.get("time"));
  }

  /** A record's {@code time} of value {@code value}, or empty when it cannot be read. */
  static Optional<Instant> timeOf(Object value) {
    if (value instanceof String s) {
      Instant fast = parseUtc(s);
      if (fast != null) {
        return Optional.of(fast);
      }
      try {
        return Optional.of(Instant.parse(s));
      } catch (DateTimeException e) {
        return Optional.empty();
      }
    }
    return Optional.empty();
  }

  /**
   * {@code s} when it is written as the encoder writes times ({@code 2026-11-27T12:00:00.123456Z}:
   * UTC, seconds below 60, up to nine fractional digits), else null (then {@link Instant#parse}
   * decides). The same instant as {@link Instant#parse}, several times faster: the indexer reads a
   * time per record.
   */
  static Instant parseUtc(String s) {
    int n = s.length();
    if (n < 20
        || s.charAt(n - 1) != 'Z'
        || s.charAt(4) != '-'
        || s.charAt(7) != '-'
        || s.charAt(10) != 'T'
        || s.charAt(13) != ':'
        || s.charAt(16) != ':') {
      return null;
    }
    int year = digits(s, 0, 4);
    int month = digits(s, 5, 2);
    int day = digits(s, 8, 2);
    int hour = digits(s, 11, 2);
    int minute = digits(s, 14, 2);
    int second = digits(s, 17, 2);
    if (year < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23) {
      return null;
    }
    if (minute < 0 || minute > 59 || second < 0 || second > 59) {
      return null;
    }
    int nanos = 0;
    if (n > 20) {
      int fraction = n - 21;
      if (s.charAt(19) != '.' || fraction < 1 || fraction > 9) {
        return null;
      }
      int f = digits(s, 20, fraction);
      if (f < 0) {
        return null;
      }
      nanos = f;
      for (int i = fraction; i < 9; i++) {
        nanos *= 10;
      }
    }
    if (day > java.time.YearMonth.of(year, month).lengthOfMonth()) {
      return null;
    }
    long days = java.time.LocalDate.of(year, month, day).toEpochDay();
    return Instant.ofEpochSecond(days * 86_400 + hour * 3600L + minute * 60L + second, nanos);
  }

  /** The decimal number in {@code s} at {@code from}, {@code count} digits; -1 if not digits. */
  private static int digits(String s, int from, int count) {
    int v = 0;
    for (int i = from; i < from + count; i++) {
      char c = s.charAt(i);
      if (c < '0' || c > '9') {
        return -1;
      }
      v = v * 10 + (c - '0');
    }
    return v;
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
