package dev.warden.store.audit;

import dev.warden.core.audit.AuditEncoder;
import dev.warden.core.audit.AuditTrail;
import dev.warden.core.audit.ChainedRecord;
import dev.warden.store.AuditTrailContract;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.function.BiConsumer;
import java.util.stream.Stream;

/**
 * The audit trail contract against the embedded log, in a directory of its own; an outage is the
 * disk failing every fsync (the file seam of {@link FaultyFiles}).
 */
class EmbeddedAuditTrailContractTest extends AuditTrailContract {
  @Override
  protected Store createStore(AuditEncoder encoder) throws IOException {
    Path dir = Files.createTempDirectory("warden-audit-contract-");
    FaultyFiles files = new FaultyFiles();
    AuditLogSettings settings = AuditFixtures.settings();
    return new Store() {
      @Override
      public AuditTrail open() throws IOException {
        return EmbeddedAuditTrail.open(dir, settings, encoder, Clock.systemUTC(), files);
      }

      @Override
      public void close(AuditTrail trail) {
        ((EmbeddedAuditTrail) trail).close();
      }

      @Override
      public String logId(AuditTrail trail) {
        return ((EmbeddedAuditTrail) trail).logId();
      }

      @Override
      public void addListener(AuditTrail trail, BiConsumer<String, List<ChainedRecord>> listener) {
        ((EmbeddedAuditTrail) trail).addListener(listener::accept);
      }

      @Override
      public List<ChainedRecord> durableRecords() throws IOException {
        return AuditFixtures.records(dir);
      }

      @Override
      public Optional<String> verify() throws IOException {
        AuditVerifier.Report r = AuditVerifier.verify(dir, Optional.empty());
        return r.intact() ? Optional.empty() : Optional.of(r.summary());
      }

      @Override
      public void breakStorage() {
        files.failForce.set(true);
      }

      @Override
      public void repairStorage() {
        files.failForce.set(false);
      }

      @Override
      public void destroy() throws IOException {
        try (Stream<Path> paths = Files.walk(dir)) {
          for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
            Files.deleteIfExists(p);
          }
        }
      }
    };
  }
}
