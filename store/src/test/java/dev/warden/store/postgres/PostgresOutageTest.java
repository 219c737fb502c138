package dev.warden.store.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.core.audit.AuditEncoder;
import dev.warden.core.audit.AuditEvent;
import dev.warden.core.audit.AuditRecord;
import dev.warden.core.audit.AuditUnavailableException;
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
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;

/**
 * The audit store's PostgreSQL stopped mid-run (a crash: {@code pg_ctl stop -m immediate}) and
 * started again, while records keep coming: IMMEDIATE records are refused while it is down, BOUNDED
 * records accepted before the writer noticed are kept and land after the restart, and in the end
 * every record whose append succeeded is in the table exactly once and the chain verifies.
 */
class PostgresOutageTest {
  private static final AuditEncoder ENCODER =
      new AuditEncoder("outage-test", Redactor.NONE, new byte[32]);

  private static AuditRecord event(String name, int n) {
    return new AuditEvent(
        Instant.parse("2026-03-01T12:00:00Z").plusMillis(n),
        name,
        true,
        "alice",
        Optional.empty(),
        Map.of("n", Integer.toString(n)));
  }

  private static String text(AuditRecord r) {
    return new String(ENCODER.encode(r), StandardCharsets.UTF_8);
  }

  private static void eventually(Duration limit, String what, BooleanSupplier done)
      throws InterruptedException {
    long deadline = System.nanoTime() + limit.toNanos();
    while (!done.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not within " + limit + ": " + what);
      }
      Thread.sleep(10);
    }
  }

  /** What an append's caller was told. */
  private enum Told {
    DURABLE_OR_ACCEPTED,
    REFUSED
  }

  @Test
  void aCrashedStoreRefusesImmediateRecordsKeepsAcceptedBoundedOnesAndLosesNothing()
      throws Exception {
    try (ThrowawayPostgres pg = ThrowawayPostgres.start()) {
      TestDatabase db = TestDatabase.create(pg.port());
      KeyPair keys = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
      PostgresAuditSettings settings =
          PostgresAuditSettings.defaults(db.url(), "postgres", Secret.of(""), "outage-log")
              .withProbeInterval(Duration.ofMillis(100))
              .withTimeout(Duration.ofSeconds(1))
              .withCheckpoints(100, Duration.ofSeconds(5));
      Map<String, Told> told = new ConcurrentHashMap<>();
      List<CompletableFuture<Void>> pending = new ArrayList<>();
      List<String> acceptedDuringOutage = new ArrayList<>();
      try (PostgresAuditTrail trail =
          PostgresAuditTrail.open(settings, keys, ENCODER, Clock.systemUTC())) {
        assertThat(showSynchronousCommit(trail))
            .as("the store's sessions commit synchronously on a cluster that does not")
            .isEqualTo("on");
        for (int i = 0; i < 100; i++) {
          AuditRecord r = event("before", i);
          trail.append(r, Durability.IMMEDIATE).get(10, TimeUnit.SECONDS);
          told.put(text(r), Told.DURABLE_OR_ACCEPTED);
        }

        AtomicBoolean running = new AtomicBoolean(true);
        AtomicBoolean paused = new AtomicBoolean(false);
        Thread steady =
            Thread.ofPlatform()
                .start(
                    () -> {
                      for (int i = 0; running.get(); i++) {
                        if (paused.get()) {
                          i--;
                          pause();
                          continue;
                        }
                        AuditRecord r = event("steady", i);
                        Durability d = i % 2 == 0 ? Durability.IMMEDIATE : Durability.BOUNDED;
                        CompletableFuture<Void> f = trail.append(r, d);
                        synchronized (pending) {
                          pending.add(
                              f.handle(
                                  (ok, failure) -> {
                                    told.put(
                                        text(r),
                                        failure == null ? Told.DURABLE_OR_ACCEPTED : Told.REFUSED);
                                    return null;
                                  }));
                        }
                        pause();
                      }
                    });
        Thread.sleep(200);

        // The steady appender holds off while the server goes down, so that the burst below is
        // accepted before the writer finds out (it learns of the crash only when it next commits).
        paused.set(true);
        Thread.sleep(50);
        pg.stopServer("immediate");
        for (int i = 0; i < 20; i++) {
          AuditRecord r = event("just-after-the-crash", i);
          CompletableFuture<Void> f = trail.append(r, Durability.BOUNDED);
          if (f.isDone() && !f.isCompletedExceptionally()) {
            acceptedDuringOutage.add(text(r));
            told.put(text(r), Told.DURABLE_OR_ACCEPTED);
          } else {
            told.put(text(r), Told.REFUSED);
          }
        }
        eventually(
            Duration.ofSeconds(10), "the trail notices", () -> trail.unavailable().isPresent());
        assertThat(trail.unavailable().get()).contains("PostgreSQL").contains(db.name());
        CompletableFuture<Void> refused = trail.append(event("refused", 0), Durability.IMMEDIATE);
        assertThat(refused).isCompletedExceptionally();
        assertThat(refused.handle((ok, e) -> e).join())
            .isInstanceOf(AuditUnavailableException.class);
        told.put(text(event("refused", 0)), Told.REFUSED);

        Thread.sleep(300);
        pg.startServer();
        eventually(
            Duration.ofSeconds(30), "the trail records again", () -> trail.unavailable().isEmpty());
        Thread.sleep(200);
        running.set(false);
        steady.join();
        synchronized (pending) {
          CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new))
              .get(30, TimeUnit.SECONDS);
        }
        AuditRecord last = event("after", 0);
        trail.append(last, Durability.IMMEDIATE).get(10, TimeUnit.SECONDS);
        told.put(text(last), Told.DURABLE_OR_ACCEPTED);
      }

      assertThat(acceptedDuringOutage)
          .as("BOUNDED records accepted before the writer noticed the crash")
          .isNotEmpty();
      List<ChainedRecord> stored =
          PostgresAuditReader.readAfter(db.dataSource(), settings.logId(), 0, Integer.MAX_VALUE);
      Map<String, Integer> copies = new HashMap<>();
      for (ChainedRecord r : stored) {
        copies.merge(new String(r.payload(), StandardCharsets.UTF_8), 1, Integer::sum);
      }
      assertThat(copies.values()).as("no record is written twice").containsOnly(1);
      long refusedCount = 0;
      for (Map.Entry<String, Told> e : told.entrySet()) {
        if (e.getValue() == Told.DURABLE_OR_ACCEPTED) {
          assertThat(copies).as("a record whose append succeeded").containsKey(e.getKey());
        } else {
          refusedCount++;
        }
      }
      assertThat(refusedCount).as("records refused during the outage").isPositive();
      assertThat(copies.keySet()).as("nothing that was never appended").isSubsetOf(told.keySet());
      PostgresAuditVerifier.Report report =
          PostgresAuditVerifier.verify(db.dataSource(), settings.logId(), keys.getPublic());
      assertThat(report.intact()).as(report.reason()).isTrue();
      assertThat(report.records()).isEqualTo(stored.size());
      assertThat(report.checkpoints()).isPositive();
    }
  }

  private static void pause() {
    try {
      Thread.sleep(1);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static String showSynchronousCommit(PostgresAuditTrail trail) throws Exception {
    try (var c = trail.dataSource().getConnection();
        var s = c.createStatement();
        var r = s.executeQuery("SHOW synchronous_commit")) {
      r.next();
      return r.getString(1);
    }
  }
}
