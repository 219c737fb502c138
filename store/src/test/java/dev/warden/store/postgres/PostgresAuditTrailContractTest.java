package dev.warden.store.postgres;

import dev.warden.core.audit.AuditEncoder;
import dev.warden.core.audit.AuditTrail;
import dev.warden.core.audit.ChainedRecord;
import dev.warden.core.identity.Secret;
import dev.warden.store.AuditTrailContract;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.function.BiConsumer;

/**
 * The audit trail contract against the PostgreSQL store, on a database of its own on the machine's
 * server; an outage is the database refusing connections and ending the store's sessions.
 */
class PostgresAuditTrailContractTest extends AuditTrailContract {
  @Override
  protected Store createStore(AuditEncoder encoder) throws Exception {
    TestDatabase db = TestDatabase.create();
    KeyPair keys = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
    PostgresAuditSettings settings =
        PostgresAuditSettings.defaults(db.url(), "postgres", Secret.of(""), "contract-log")
            .withProbeInterval(Duration.ofMillis(100))
            .withTimeout(Duration.ofSeconds(2))
            .withCheckpoints(50, Duration.ofSeconds(1));
    return new Store() {
      @Override
      public AuditTrail open() {
        return PostgresAuditTrail.open(settings, keys, encoder, Clock.systemUTC());
      }

      @Override
      public void close(AuditTrail trail) {
        ((PostgresAuditTrail) trail).close();
      }

      @Override
      public String logId(AuditTrail trail) {
        return ((PostgresAuditTrail) trail).logId();
      }

      @Override
      public void addListener(AuditTrail trail, BiConsumer<String, List<ChainedRecord>> listener) {
        ((PostgresAuditTrail) trail).addListener(listener::accept);
      }

      @Override
      public List<ChainedRecord> durableRecords() throws Exception {
        return PostgresAuditReader.readAfter(
            db.dataSource(), settings.logId(), 0, Integer.MAX_VALUE);
      }

      @Override
      public Optional<String> verify() throws Exception {
        PostgresAuditVerifier.Report r =
            PostgresAuditVerifier.verify(db.dataSource(), settings.logId(), keys.getPublic());
        return r.intact() ? Optional.empty() : Optional.of(r.firstBadSeq() + ": " + r.reason());
      }

      @Override
      public void breakStorage() {
        db.refuseConnections();
      }

      @Override
      public void repairStorage() {
        db.allowConnections();
      }

      @Override
      public void destroy() {
        db.close();
      }
    };
  }
}
