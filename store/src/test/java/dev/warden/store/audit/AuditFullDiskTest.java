package dev.warden.store.audit;

import static dev.warden.store.audit.AuditFixtures.CLOCK;
import static dev.warden.store.audit.AuditFixtures.assertIntact;
import static dev.warden.store.audit.AuditFixtures.encoder;
import static dev.warden.store.audit.AuditFixtures.event;
import static dev.warden.store.audit.AuditFixtures.records;
import static dev.warden.store.audit.AuditFixtures.settings;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warden.core.audit.AuditEvent;
import dev.warden.core.audit.AuditUnavailableException;
import dev.warden.core.audit.Durability;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * THREATS AD02 with a real full disk: the log on a 2 MiB tmpfs. Filling it up refuses records
 * (first at the high-water mark, then, with no margin, at the real ENOSPC), says why, and the trail
 * recovers by itself once space is freed, with a record of the outage and a log that verifies.
 */
class AuditFullDiskTest {
  @TempDir Path temp;
  Path disk;
  boolean mounted;

  @BeforeEach
  void mount() throws Exception {
    disk = temp.resolve("disk");
    Files.createDirectories(disk);
    Process p =
        new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", disk.toString())
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes());
    mounted = p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
    Assumptions.assumeTrue(
        mounted,
        "skipped: cannot mount a 2 MiB tmpfs for the full-disk test (it needs root and"
            + " mount(8)): "
            + out.strip());
  }

  @AfterEach
  void unmount() throws Exception {
    if (mounted) {
      new ProcessBuilder("umount", disk.toString()).inheritIO().start().waitFor();
    }
  }

  /** Writes a filler file until fewer than {@code leave} bytes are free, or the disk is full. */
  static Path fill(Path disk, long leave) throws IOException {
    Path filler = disk.resolve("filler");
    byte[] chunk = new byte[4096];
    try (OutputStream out = Files.newOutputStream(filler)) {
      while (Files.getFileStore(disk).getUsableSpace() >= leave + chunk.length) {
        out.write(chunk);
        out.flush();
      }
      if (leave == 0) {
        for (int i = 0; i < 1024; i++) {
          out.write(chunk);
          out.flush();
        }
      }
    } catch (IOException full) {
      assertThat(full).hasMessageContaining("No space left on device");
    }
    return filler;
  }

  static void awaitAvailable(EmbeddedAuditTrail trail) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (trail.unavailable().isPresent() && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertThat(trail.unavailable()).isEmpty();
  }

  /** A record of about {@code bytes} bytes. */
  static AuditEvent big(String n, int bytes) {
    return new AuditEvent(
        Instant.parse("2026-11-27T12:00:00Z"),
        "test",
        true,
        "alice",
        Optional.empty(),
        Map.of("n", n, "filler", "y".repeat(bytes)));
  }

  @Test
  void theHighWaterMarkRefusesRecordsBeforeTheDiskIsFullAndTheTrailRecoversWhenSpaceReturns()
      throws Exception {
    Path dir = disk.resolve("audit");
    try (EmbeddedAuditTrail trail =
        EmbeddedAuditTrail.open(
            dir,
            settings().withMinFreeBytes(512 << 10).withProbeInterval(Duration.ofMillis(50)),
            encoder(),
            CLOCK)) {
      trail.append(event("before"), Durability.IMMEDIATE).get(10, TimeUnit.SECONDS);
      Path filler = fill(disk, 300 << 10);
      assertThatThrownBy(
              () -> trail.append(event("refused"), Durability.IMMEDIATE).get(10, TimeUnit.SECONDS))
          .isInstanceOf(ExecutionException.class)
          .cause()
          .isInstanceOf(AuditUnavailableException.class)
          .hasMessageContaining("audit disk has less than 512 KiB free");
      assertThat(trail.unavailable())
          .hasValueSatisfying(r -> assertThat(r).contains("less than 512 KiB free"));
      // Refused at once from now on, without waiting for the writer.
      assertThat(trail.append(event("at-once"), Durability.BOUNDED)).isCompletedExceptionally();

      Files.delete(filler);
      awaitAvailable(trail);
      trail.append(event("after"), Durability.IMMEDIATE).get(10, TimeUnit.SECONDS);
    }
    List<String> texts = records(dir).stream().map(AuditFixtures::text).toList();
    assertThat(texts).hasSize(3);
    assertThat(texts.get(1)).contains("audit-recovered").contains("less than 512 KiB free");
    assertIntact(dir, Optional.empty());
  }

  @Test
  void aReallyFullDiskFailsTheWriteClosedAndTheTrailRecoversWhenSpaceReturns() throws Exception {
    Path dir = disk.resolve("audit");
    try (EmbeddedAuditTrail trail =
        EmbeddedAuditTrail.open(
            dir,
            settings()
                .withMinFreeBytes(0)
                .withProbeInterval(Duration.ofMillis(50))
                .withCheckpoints(1_000_000, Duration.ofHours(1)),
            encoder(),
            CLOCK)) {
      trail.append(event("before"), Durability.IMMEDIATE).get(10, TimeUnit.SECONDS);
      Path filler = fill(disk, 0);
      assertThatThrownBy(
              () ->
                  trail
                      .append(big("refused", 64 << 10), Durability.IMMEDIATE)
                      .get(10, TimeUnit.SECONDS))
          .isInstanceOf(ExecutionException.class)
          .cause()
          .isInstanceOf(AuditUnavailableException.class)
          .hasMessageContaining("No space left on device");
      assertThat(trail.unavailable())
          .hasValueSatisfying(r -> assertThat(r).contains("No space left on device"));
      Thread.sleep(200);
      assertThat(trail.unavailable()).as("still full: still unavailable").isPresent();

      Files.delete(filler);
      awaitAvailable(trail);
      trail.append(big("after", 64 << 10), Durability.IMMEDIATE).get(10, TimeUnit.SECONDS);
    }
    List<String> texts = records(dir).stream().map(AuditFixtures::text).toList();
    assertThat(texts).hasSize(3);
    assertThat(texts.get(1)).contains("audit-recovered").contains("No space left on device");
    assertThat(texts.get(2)).contains("\"n\":\"after\"");
    assertThat(String.join("\n", texts)).doesNotContain("\"n\":\"refused\"");
    assertIntact(dir, Optional.empty());
  }
}
