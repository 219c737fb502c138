package dev.warden.core.audit;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link AuditEncoder#encode} writes records without building their field maps; the hash chain
 * depends on its exact bytes, so they must equal the reference {@code
 * CanonicalJson.encode(fields(record))} and the original encoding ({@link CanonicalJsonOriginal})
 * byte for byte, for every record type, every optional field absent and present, and any text.
 */
class AuditEncoderEquivalenceTest {
  private static final byte[] KEY = new byte[32];

  /** One cache slot makes nearly every record collide; 1024 is the production size. */
  @ParameterizedTest
  @ValueSource(ints = {1, 1024})
  void everyRecordEncodesToTheBytesOfItsFields(int cacheSlots) {
    RandomAudit random = new RandomAudit(20261128L + cacheSlots);
    AuditEncoder encoder =
        new AuditEncoder("warden-\"1\"\n✓", RandomAudit.REDACTOR, KEY, cacheSlots);
    int intents = 0;
    int redacted = 0;
    int denied = 0;
    int observed = 0;
    int prepared = 0;
    int limited = 0;
    int withSession = 0;
    for (int n = 0; n < 6000; n++) {
      AuditRecord record = random.record();
      Map<String, Object> fields = encoder.fields(record);
      byte[] fast = encoder.encode(record);
      assertSameBytes(fast, CanonicalJson.encode(fields), record);
      assertSameBytes(fast, CanonicalJsonOriginal.encode(fields), record);
      // The same record again, now from the caches.
      assertSameBytes(encoder.encode(record), fast, record);
      if (record instanceof StatementIntent) {
        intents++;
        redacted += fields.containsKey("text_hmac") ? 1 : 0;
        denied += "denied".equals(fields.get("verdict")) ? 1 : 0;
        observed += "observed".equals(fields.get("verdict")) ? 1 : 0;
        prepared += fields.containsKey("prepared") ? 1 : 0;
        limited += fields.containsKey("row_limit") ? 1 : 0;
      }
      if (record instanceof AuditEvent e && e.session().isPresent()) {
        withSession++;
      }
    }
    // The generator reaches the branches it is meant to.
    assertThat(intents).isGreaterThan(1500);
    assertThat(redacted).isGreaterThan(100);
    assertThat(denied).isGreaterThan(300);
    assertThat(observed).isGreaterThan(200);
    assertThat(prepared).isGreaterThan(500);
    assertThat(limited).isGreaterThan(200);
    assertThat(withSession).isGreaterThan(300);
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 1024})
  void encodersSharedByThreadsWriteTheSameBytes(int cacheSlots) throws Exception {
    RandomAudit random = new RandomAudit(7 + cacheSlots);
    AuditEncoder encoder = new AuditEncoder("w", RandomAudit.REDACTOR, KEY, cacheSlots);
    List<AuditRecord> records = new ArrayList<>();
    List<byte[]> expected = new ArrayList<>();
    for (int n = 0; n < 2000; n++) {
      AuditRecord r = random.record();
      records.add(r);
      expected.add(CanonicalJsonOriginal.encode(encoder.fields(r)));
    }
    try (ExecutorService pool = Executors.newFixedThreadPool(4)) {
      List<Future<Integer>> runs = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        int offset = t * 500;
        runs.add(
            pool.submit(
                () -> {
                  int checked = 0;
                  for (int round = 0; round < 3; round++) {
                    for (int k = 0; k < records.size(); k++) {
                      int n = (k + offset) % records.size();
                      assertSameBytes(
                          encoder.encode(records.get(n)), expected.get(n), records.get(n));
                      checked++;
                    }
                  }
                  return checked;
                }));
      }
      for (Future<Integer> run : runs) {
        assertThat(run.get()).isEqualTo(6000);
      }
    }
  }

  static void assertSameBytes(byte[] actual, byte[] expected, AuditRecord record) {
    if (!java.util.Arrays.equals(actual, expected)) {
      assertThat(new String(actual, StandardCharsets.UTF_8))
          .as("encoding of %s", record)
          .isEqualTo(new String(expected, StandardCharsets.UTF_8));
      // Equal as text but not as bytes: show the bytes.
      assertThat(actual).as("bytes of %s", record).isEqualTo(expected);
    }
  }
}
