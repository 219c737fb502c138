package dev.warden.store.audit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.core.audit.ChainedRecord;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * THREATS AD04: a process appending under load is killed with SIGKILL at random points, again and
 * again. After each restart the log verifies (against its witness), a torn tail left by the kill
 * has been cut off and recorded, and every record the process was told was durable is there.
 *
 * <p>A few kills in the normal run; {@code -Dwarden.audit.kills=50} for the full exercise.
 */
class AuditKillTest {
  private static final Pattern ID = Pattern.compile("\"id\":\"([^\"]+)\"");

  @TempDir Path temp;

  @Test
  void everyRecordReportedDurableSurvivesKillsAndTheLogVerifiesAfterEachRestart() throws Exception {
    int kills = Integer.getInteger("warden.audit.kills", 3);
    Random random = new Random(Long.getLong("warden.audit.seed", System.nanoTime()));
    Path dir = temp.resolve("audit");
    Path secrets = temp.resolve("secrets");
    Path witness = temp.resolve("witness");
    Files.createDirectories(witness);
    Set<String> durable = new HashSet<>();
    int tornTails = 0;
    String logId = null;
    for (int k = 0; k < kills; k++) {
      Process child =
          new ProcessBuilder(
                  ProcessHandle.current().info().command().orElse("java"),
                  "-cp",
                  System.getProperty("java.class.path"),
                  AuditWriterMain.class.getName(),
                  dir.toString(),
                  secrets.toString(),
                  witness.toString(),
                  "run" + k)
              .redirectError(temp.resolve("child-" + k + ".err").toFile())
              .start();
      int reported = 0;
      try (BufferedReader out =
          new BufferedReader(
              new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
        String ready = out.readLine();
        Path err = temp.resolve("child-" + k + ".err");
        assertThat(ready).as(() -> "the writer did not start: " + read(err)).startsWith("READY ");
        if (logId == null) {
          logId = ready.substring(6);
        } else {
          assertThat(ready.substring(6)).as("a restart continues the same log").isEqualTo(logId);
        }
        long killAt = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(200 + random.nextInt(600));
        String line;
        while (System.nanoTime() < killAt && (line = out.readLine()) != null) {
          durable.add(line.substring(2));
          reported++;
        }
        // SIGKILL, sent with kill(1): Process.destroyForcibly would also close the pipe, losing
        // the lines the child printed just before it died.
        new ProcessBuilder("kill", "-9", Long.toString(child.pid())).start().waitFor();
        while ((line = out.readLine()) != null) {
          durable.add(line.substring(2));
          reported++;
        }
      }
      assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
      assertThat(reported).as("run %d reported durable records before its kill", k).isPositive();

      // What the kill left: the verifier accepts it (a torn tail is a note).
      AuditVerifier.Report left = AuditVerifier.verify(dir, Optional.of(witness));
      assertThat(left.intact()).as(left.summary()).isTrue();
      if (left.notes().stream()
          .anyMatch(n -> n.contains("ends inside a record") || n.contains("was being created"))) {
        tornTails++;
      }
    }
    // One more start, as the next Warden would: it cuts the last kill's torn tail.
    try (EmbeddedAuditTrail trail =
        EmbeddedAuditTrail.open(
            dir,
            AuditLogSettings.defaults(AuditKeys.loadOrCreate(secrets))
                .withMinFreeBytes(0)
                .withWitness(witness),
            AuditFixtures.encoder(),
            AuditFixtures.CLOCK)) {
      assertThat(trail.logId()).isEqualTo(logId);
    }
    AuditVerifier.Report report = AuditVerifier.verify(dir, Optional.of(witness));
    assertThat(report.intact()).as(report.summary()).isTrue();
    assertThat(report.notes()).as(report.summary()).isEmpty();

    List<ChainedRecord> records = AuditFixtures.records(dir);
    Set<String> present = new HashSet<>();
    int tornEvents = 0;
    for (ChainedRecord r : records) {
      String text = AuditFixtures.text(r);
      Matcher m = ID.matcher(text);
      if (m.find()) {
        present.add(m.group(1));
      }
      if (text.contains("\"event\":\"audit-torn-tail-removed\"")) {
        tornEvents++;
      }
    }
    Set<String> lost = new HashSet<>(durable);
    lost.removeAll(present);
    assertThat(lost).as("records reported durable but missing after the kills").isEmpty();
    assertThat(tornEvents).as("each torn tail was cut off and recorded").isEqualTo(tornTails);
  }

  private static String read(Path p) {
    try {
      return Files.readString(p);
    } catch (java.io.IOException e) {
      return e.toString();
    }
  }
}
