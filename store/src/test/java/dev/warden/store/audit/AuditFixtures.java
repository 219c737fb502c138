package dev.warden.store.audit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.core.audit.AuditEncoder;
import dev.warden.core.audit.AuditEvent;
import dev.warden.core.audit.ChainedRecord;
import dev.warden.core.audit.Redactor;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** What the audit log's tests share: keys, an encoder, records, reading a log back. */
final class AuditFixtures {
  private AuditFixtures() {}

  /** One key pair for the whole test run: generating one per test costs nothing, but why. */
  static final AuditKeys KEYS = AuditKeys.generate();

  static final Clock CLOCK = Clock.fixed(Instant.parse("2026-11-27T12:00:00Z"), ZoneOffset.UTC);

  static AuditEncoder encoder() {
    return new AuditEncoder("test", Redactor.NONE, KEYS.textHmacKey());
  }

  /** Settings for tests: small segments, no free-space margin, a fast probe. */
  static AuditLogSettings settings() {
    return AuditLogSettings.defaults(KEYS)
        .withMinFreeBytes(0)
        .withProbeInterval(Duration.ofMillis(20));
  }

  /** An event whose {@code details.n} identifies it. */
  static AuditEvent event(String n) {
    return new AuditEvent(
        Instant.parse("2026-11-27T12:00:00Z"),
        "test",
        true,
        "alice",
        Optional.empty(),
        Map.of("n", n));
  }

  static String text(ChainedRecord r) {
    return new String(r.payload(), StandardCharsets.UTF_8);
  }

  /** Every record of the log in {@code dir}, read as a reader does. */
  static List<ChainedRecord> records(Path dir) throws IOException {
    List<ChainedRecord> all = new ArrayList<>();
    try (AuditLogReader.Cursor c = AuditLogReader.open(dir).readAfter(0)) {
      c.forEachRemaining(all::add);
    }
    return all;
  }

  static AuditVerifier.Report assertIntact(Path dir, Optional<Path> witness) throws IOException {
    AuditVerifier.Report report = AuditVerifier.verify(dir, witness);
    assertThat(report.intact()).as(report.summary()).isTrue();
    return report;
  }
}
