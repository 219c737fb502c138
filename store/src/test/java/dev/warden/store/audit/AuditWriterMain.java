package dev.warden.store.audit;

import dev.warden.core.audit.AuditEncoder;
import dev.warden.core.audit.AuditEvent;
import dev.warden.core.audit.Durability;
import dev.warden.core.audit.Redactor;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Run as a separate process by {@link AuditKillTest}: appends to the log under load from several
 * threads until it is killed, and prints {@code D <id>} for every record it was told is durable, so
 * that the test can check each one survived the kill.
 */
final class AuditWriterMain {
  private AuditWriterMain() {}

  public static void main(String[] args) throws Exception {
    Path dir = Path.of(args[0]);
    Path secrets = Path.of(args[1]);
    Path witness = Path.of(args[2]);
    String run = args[3];
    AuditKeys keys = AuditKeys.loadOrCreate(secrets);
    AuditLogSettings settings =
        AuditLogSettings.defaults(keys)
            .withMinFreeBytes(0)
            .withSegmentBytes(256 << 10)
            .withCheckpoints(100, Duration.ofMillis(100))
            .withWitness(witness);
    PrintStream out = System.out;
    EmbeddedAuditTrail trail =
        EmbeddedAuditTrail.open(
            dir,
            settings,
            new AuditEncoder("kill-test", Redactor.NONE, keys.textHmacKey()),
            Clock.systemUTC());
    synchronized (out) {
      out.println("READY " + trail.logId());
      out.flush();
    }
    for (int t = 0; t < 4; t++) {
      String prefix = run + "-t" + t + "-";
      Thread.ofPlatform()
          .start(
              () -> {
                ThreadLocalRandom random = ThreadLocalRandom.current();
                for (long i = 0; ; i++) {
                  String id = prefix + i;
                  // Now and then a large record, so that a kill often lands inside a write.
                  String filler = random.nextInt(10) == 0 ? "x".repeat(100_000) : "";
                  AuditEvent e =
                      new AuditEvent(
                          java.time.Instant.now(),
                          "load",
                          true,
                          "writer",
                          Optional.empty(),
                          Map.of("id", id, "filler", filler));
                  Durability d = i % 4 == 3 ? Durability.BOUNDED : Durability.IMMEDIATE;
                  var f = trail.append(e, d);
                  if (d == Durability.IMMEDIATE) {
                    f.join();
                    synchronized (out) {
                      out.println("D " + id);
                      out.flush();
                    }
                  }
                }
              });
    }
    Thread.sleep(Long.MAX_VALUE);
  }
}
