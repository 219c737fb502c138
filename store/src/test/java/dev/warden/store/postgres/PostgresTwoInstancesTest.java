package dev.warden.store.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.core.audit.AuditEncoder;
import dev.warden.core.audit.AuditEvent;
import dev.warden.core.audit.ChainedRecord;
import dev.warden.core.audit.Durability;
import dev.warden.core.audit.Redactor;
import dev.warden.core.identity.Secret;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Two Warden instances writing to one PostgreSQL store at once, each with its own log id and
 * checkpoint key: every record of both is in the one table, and each chain verifies on its own.
 */
class PostgresTwoInstancesTest {
  @Test
  void twoInstancesWritingAtOnceEachKeepAWholeChainInTheOneTable() throws Exception {
    try (TestDatabase db = TestDatabase.create()) {
      List<String> logIds = List.of("instance-a", "instance-b");
      List<KeyPair> keys = new ArrayList<>();
      List<PostgresAuditTrail> trails = new ArrayList<>();
      CountDownLatch start = new CountDownLatch(1);
      List<CompletableFuture<Void>> futures = new CopyOnWriteArrayList<>();
      List<Thread> threads = new ArrayList<>();
      try {
        for (String logId : logIds) {
          KeyPair k = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
          keys.add(k);
          AuditEncoder encoder = new AuditEncoder(logId, Redactor.NONE, new byte[32]);
          PostgresAuditTrail trail =
              PostgresAuditTrail.open(
                  PostgresAuditSettings.defaults(db.url(), "postgres", Secret.of(""), logId)
                      .withCheckpoints(100, Duration.ofMillis(200)),
                  k,
                  encoder,
                  Clock.systemUTC());
          trails.add(trail);
          for (int t = 0; t < 4; t++) {
            int thread = t;
            threads.add(
                Thread.ofPlatform()
                    .start(
                        () -> {
                          try {
                            start.await();
                          } catch (InterruptedException e) {
                            return;
                          }
                          for (int i = 0; i < 150; i++) {
                            AuditEvent e =
                                new AuditEvent(
                                    Instant.now(),
                                    "connect",
                                    true,
                                    "user-" + thread,
                                    Optional.empty(),
                                    Map.of("i", Integer.toString(i)));
                            futures.add(
                                trail.append(
                                    e, i % 4 == 0 ? Durability.BOUNDED : Durability.IMMEDIATE));
                          }
                        }));
          }
        }
        start.countDown();
        for (Thread t : threads) {
          t.join();
        }
        CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new))
            .get(60, TimeUnit.SECONDS);
      } finally {
        for (PostgresAuditTrail t : trails) {
          t.close();
        }
      }

      assertThat(PostgresAuditReader.logIds(db.dataSource())).containsExactlyElementsOf(logIds);
      assertThat(db.queryLong("SELECT count(*) FROM warden_audit")).isEqualTo(2 * 4 * 150);
      for (int i = 0; i < logIds.size(); i++) {
        String logId = logIds.get(i);
        List<ChainedRecord> records =
            PostgresAuditReader.readAfter(db.dataSource(), logId, 0, Integer.MAX_VALUE);
        assertThat(records).hasSize(4 * 150);
        Set<String> instances = new HashSet<>();
        for (ChainedRecord r : records) {
          String text = new String(r.payload(), StandardCharsets.UTF_8);
          instances.add(
              text.substring(text.indexOf("\"instance\":"), text.indexOf(",\"success\"")));
        }
        assertThat(instances)
            .as("every record of log %s comes from its own instance", logId)
            .containsExactly("\"instance\":\"" + logId + "\"");
        PostgresAuditVerifier.Report report =
            PostgresAuditVerifier.verify(db.dataSource(), logId, keys.get(i).getPublic());
        assertThat(report.intact()).as(logId + ": " + report.reason()).isTrue();
        assertThat(report.records()).isEqualTo(4 * 150);
        assertThat(report.checkpoints()).isPositive();
        assertThat(
                PostgresAuditVerifier.verify(db.dataSource(), logId, keys.get(1 - i).getPublic())
                    .intact())
            .as("the other instance's key does not verify log %s", logId)
            .isFalse();
      }
    }
  }
}
