package dev.warden.server.audit;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.warden.core.audit.ChainedRecord;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Audit records as the outside world gets them: in exports, REST answers and the live tail. A
 * record is its payload's fields (the canonical JSON the chain hashes, see {@code AuditEncoder})
 * with {@code log_id}, {@code seq} and {@code hash} in front, so that a receiver can order records,
 * drop the duplicates that at-least-once delivery allows, and check the chain.
 *
 * <p>Text written here is safe for terminals and log viewers (THREATS AD07): besides the control
 * characters JSON itself escapes, DEL, the C1 controls (U+0080 to U+009F, which include a one-byte
 * CSI), the line and paragraph separators and the bidirectional overrides are written as {@code
 * \\uXXXX} escapes. The JSON value is the same; only its spelling changes.
 */
public final class AuditJson {
  private static final TypeReference<LinkedHashMap<String, Object>> MAP = new TypeReference<>() {};

  private final ObjectMapper mapper;

  public AuditJson() {
    // Integers as Long, as the search's hits hold them, so records compare alike from either.
    JsonMapper json = JsonMapper.builder().enable(DeserializationFeature.USE_LONG_FOR_INTS).build();
    json.getFactory()
        .setStreamReadConstraints(
            StreamReadConstraints.builder()
                .maxNestingDepth(32)
                .maxStringLength(16 * 1024 * 1024)
                .build());
    this.mapper = json;
  }

  /** The fields of a record's payload, in the payload's order. */
  public Map<String, Object> fields(byte[] payload) {
    try {
      return mapper.readValue(payload, MAP);
    } catch (IOException e) {
      throw new IllegalArgumentException("an audit payload is not a JSON object", e);
    }
  }

  /** The record as exported: {@code log_id}, {@code seq}, {@code hash}, then its fields. */
  public Map<String, Object> exported(String logId, ChainedRecord record) {
    return exported(logId, record.seq(), record.hash(), fields(record.payload()));
  }

  /** The fields of a record with its position in front of them. */
  public static Map<String, Object> exported(
      String logId, long seq, byte[] hash, Map<String, Object> fields) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("log_id", logId);
    out.put("seq", seq);
    out.put("hash", HexFormat.of().formatHex(hash));
    for (Map.Entry<String, Object> field : fields.entrySet()) {
      out.putIfAbsent(field.getKey(), field.getValue());
    }
    return out;
  }

  /** {@code value} as one line of terminal-safe JSON. */
  public String write(Object value) {
    try {
      return neutralize(mapper.writeValueAsString(value));
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException("cannot write an audit record as JSON", e);
    }
  }

  /** Parses a JSON document (an API answer) into plain maps, lists and values. */
  public Object read(String json) {
    try {
      return mapper.readValue(json, Object.class);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("not valid JSON: " + e.getOriginalMessage(), e);
    }
  }

  /**
   * Escapes, in JSON text, the characters a terminal or viewer may act on but JSON leaves alone.
   * Outside strings valid JSON holds none of them, so escaping them anywhere keeps it valid.
   */
  static String neutralize(String json) {
    StringBuilder out = null;
    for (int i = 0; i < json.length(); i++) {
      char c = json.charAt(i);
      if (unsafe(c)) {
        if (out == null) {
          out = new StringBuilder(json.length() + 16).append(json, 0, i);
        }
        out.append(String.format("\\u%04X", (int) c));
      } else if (out != null) {
        out.append(c);
      }
    }
    return out == null ? json : out.toString();
  }

  /**
   * Controls and invisible formatting characters a terminal or viewer must not be handed as they
   * are: C0 and C1 controls, DEL, line and paragraph separators, bidirectional overrides.
   */
  public static boolean unsafe(char c) {
    return c < 0x20
        || (c >= 0x7F && c <= 0x9F)
        || c == 0x061C
        || c == 0x200E
        || c == 0x200F
        || c == 0x2028
        || c == 0x2029
        || (c >= 0x202A && c <= 0x202E)
        || (c >= 0x2066 && c <= 0x2069);
  }
}
