package dev.warden.store.audit.index;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.core.audit.CanonicalJson;
import dev.warden.core.audit.ChainedRecord;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The indexer's own reader of payloads gives the fields Jackson gives ({@link Payloads#fields}
 * narrowed to what the index reads), whatever the payload, from the cache of shapes or not; and the
 * members it finds put the payload back together byte for byte.
 */
class RecordScanTest {
  private static final List<String> EDGE_CASES =
      List.of(
          "{}",
          "{\"user\":\"a\\nb\\\\c\\\"d\\/e\\b\\f\\r\\t\"}",
          "{\"user\":\"caf\\u00e9 \\ud83d\\ude00 \\uDBFF\"}",
          "{\"us\\u0065r\":\"escaped key\"}",
          "{\"user\":\"first\",\"user\":\"second\"}",
          "{\"statements\":[{\"command\":\"SELECT\",\"kind\":\"read\",\"command\":\"DELETE\"},7,"
              + "[{\"command\":\"x\"}],{}]}",
          "{\"rows\":1.5}",
          "{\"rows\":1e3}",
          "{\"rows\":-0,\"stmt\":-9223372036854775}",
          "{\"rows\":123456789012345678901234567890}",
          "{\"rows\":0123}",
          "{ \"user\":\"space\"}",
          "{\"user\":\"x\"} ",
          "{\"user\":\"x\"}trailing",
          "[\"user\"]",
          "null",
          "",
          "{\"user\":\"unterminated",
          "{\"user\":\"raw \u0001 control\"}",
          "{\"user\":\"Ünïcode\"}",
          "{\"user\":tru}",
          "{\"user\":true,\"groups\":null,\"env\":false,\"tables\":[null,\"a.b\",1]}",
          "{\"time\":\"2026-11-02T10:00:00.000001Z\",\"type\":\"outcome\",\"outcome_time\":7}",
          "{\"details\":{\"nested\":{\"deep\":[1,2,{\"command\":3}]}},\"event\":\"x\"}",
          "{\"user\":\"bad escape \\x\"}",
          "{\"user\":\"short \\u12\"}",
          "{\"user\":\"x\",}",
          "{\"user\" :\"x\"}");

  private static void check(byte[] payload, RecordScan.Shapes shapes) {
    Map<String, Object> expected = RecordScan.only(Payloads.fields(payload));
    String what = new String(payload, StandardCharsets.UTF_8);
    RecordScan.Scan scan = RecordScan.read(payload, shapes);
    assertThat(scan.fields()).as(what).isEqualTo(expected);
    assertThat(RecordScan.read(payload, shapes).fields()).as(what).isEqualTo(expected);
    int[] ranges = scan.ranges();
    assertThat(RecordScan.ranges(payload)).as(what).isEqualTo(ranges);
    if (ranges != null) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      out.write('{');
      for (int k = 0; k < ranges.length; k += 2) {
        if (k > 0) {
          out.write(',');
        }
        out.write(payload, ranges[k], ranges[k + 1] - ranges[k]);
      }
      out.write('}');
      assertThat(out.toByteArray()).as(what).isEqualTo(payload);
    }
  }

  @Test
  void edgeCasesReadAsJacksonReadsThem() {
    RecordScan.Shapes shapes = new RecordScan.Shapes(16);
    for (String p : EDGE_CASES) {
      check(p.getBytes(StandardCharsets.UTF_8), shapes);
    }
    check(new byte[] {'{', '"', 'u', 's', 'e', 'r', '"', ':', '"', (byte) 0xc3, '"', '}'}, shapes);
    check(new byte[] {'{', '"', 'u', 's', 'e', 'r', '"', ':', '"', (byte) 0xff, '"', '}'}, shapes);
  }

  @Test
  void recordsOfTheEncoderReadAsJacksonReadsThem() {
    RecordScan.Shapes shapes = new RecordScan.Shapes(8);
    int ranged = 0;
    for (List<ChainedRecord> log : AuditFixture.randomLogs(20261128L, 1500).values()) {
      for (ChainedRecord r : log) {
        check(r.payload(), shapes);
        ranged += RecordScan.ranges(r.payload()) == null ? 0 : 1;
      }
    }
    assertThat(ranged).isGreaterThan(2500);
  }

  @Test
  void randomObjectsAndTheirCorruptionsReadAsJacksonReadsThem() {
    Random r = new Random(28);
    RecordScan.Shapes shapes = new RecordScan.Shapes(64);
    List<String> keys = new ArrayList<>(RecordScan.KEYS);
    keys.addAll(List.of("details", "masked", "parameters", "command", "a", "zz"));
    for (int n = 0; n < 5000; n++) {
      Map<String, Object> m = new LinkedHashMap<>();
      int members = r.nextInt(8);
      for (int k = 0; k < members; k++) {
        m.put(keys.get(r.nextInt(keys.size())), randomValue(r, 0));
      }
      byte[] payload = CanonicalJson.encode(m);
      check(payload, shapes);
      if (payload.length > 2) {
        byte[] broken = payload.clone();
        int at = r.nextInt(broken.length);
        String bytes = "\"\\{}[],:0a \u0080";
        broken[at] = (byte) bytes.charAt(r.nextInt(bytes.length()));
        check(broken, shapes);
      }
    }
  }

  private static Object randomValue(Random r, int depth) {
    int kind = r.nextInt(depth > 2 ? 5 : 7);
    return switch (kind) {
      case 0 -> randomString(r);
      case 1 -> r.nextInt(4) == 0 ? r.nextLong() : (long) r.nextInt(1000) - 500;
      case 2 -> r.nextBoolean();
      case 3 -> null;
      case 4 -> randomString(r);
      case 5 -> {
        List<Object> l = new ArrayList<>();
        for (int k = r.nextInt(4); k > 0; k--) {
          l.add(randomValue(r, depth + 1));
        }
        yield l;
      }
      default -> {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int k = r.nextInt(4); k > 0; k--) {
          m.put(r.nextBoolean() ? "command" : "kind", randomValue(r, depth + 1));
        }
        yield m;
      }
    };
  }

  private static String randomString(Random r) {
    String alphabet = "abc.:_ -\"\\\n\t\u0001é\u2028";
    StringBuilder s = new StringBuilder();
    for (int k = r.nextInt(12); k > 0; k--) {
      s.append(alphabet.charAt(r.nextInt(alphabet.length())));
    }
    return s.toString();
  }
}
