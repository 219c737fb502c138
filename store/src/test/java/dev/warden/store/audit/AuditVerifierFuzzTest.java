package dev.warden.store.audit;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.warden.core.audit.ChainedRecord;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * Coverage-guided forgery of a log on disk (THREATS AD05): whatever bytes are changed, inserted,
 * removed or cut in the segments, the checkpoint files and the keys, the verifier either reports
 * the log not intact or the log still holds exactly the records written: a forged record never
 * passes. It never throws either.
 *
 * <p>Each input is a list of 8-byte edits: operation, file, a 32-bit offset, a byte value and a
 * length. A plain {@code mvn test} replays the seeds in {@code
 * src/test/resources/dev/warden/store/audit/AuditVerifierFuzzTestInputs/}; to fuzz for real: {@code
 * JAZZER_FUZZ=1 mvn -pl store test -Dtest=AuditVerifierFuzzTest}.
 */
class AuditVerifierFuzzTest {
  static Path root;
  static Path base;
  static Path baseWitness;
  static List<ChainedRecord> honest;
  static int run;

  @BeforeAll
  static void buildBase() throws IOException {
    root = Files.createTempDirectory("audit-fuzz");
    base = root.resolve("base");
    baseWitness = root.resolve("base-witness");
    AuditVerifierTest.build(base, baseWitness, 40, 4096, 15);
    honest = AuditFixtures.records(base);
  }

  @AfterAll
  static void clean() throws IOException {
    AuditVerifierTest.deleteTree(root);
  }

  @FuzzTest(maxDuration = "10m")
  void aForgedLogNeverVerifiesWithOtherRecords(byte[] input) throws IOException {
    Path dir = root.resolve("case-" + run);
    Path witness = root.resolve("case-" + run + "-witness");
    run++;
    LogSurgery.copy(base, dir);
    LogSurgery.copy(baseWitness, witness);
    try {
      List<Path> files = new ArrayList<>();
      Segments.list(dir).forEach(s -> files.add(s.path()));
      files.add(dir.resolve(CheckpointFile.LOCAL));
      files.add(witness.resolve(CheckpointFile.witnessName(AuditVerifierTest.LOG)));
      files.add(dir.resolve(AuditKeys.PUBLIC_KEY_FILE));
      ByteBuffer in = ByteBuffer.wrap(input);
      for (int edit = 0; edit < 4 && in.remaining() >= 8; edit++) {
        edit(files.get(Byte.toUnsignedInt(in.get()) % files.size()), in);
      }

      AuditVerifier.Report report = AuditVerifier.verify(dir, Optional.of(witness));
      if (report.intact()) {
        List<ChainedRecord> now = AuditFixtures.records(dir);
        assertThat(now).as(report.summary()).isEqualTo(honest);
      } else {
        assertThat(report.reason()).isNotBlank();
        assertThat(report.firstBadSeq()).isBetween(0L, (long) honest.size() + 1);
      }
    } finally {
      AuditVerifierTest.deleteTree(dir);
      AuditVerifierTest.deleteTree(witness);
    }
  }

  /** One edit of {@code file}: {@code op, offset (u32), value, length} from {@code in}. */
  private static void edit(Path file, ByteBuffer in) throws IOException {
    int op = Byte.toUnsignedInt(in.get()) % 6;
    long rawOffset = Integer.toUnsignedLong(in.getInt());
    byte value = in.get();
    int length = 1 + Byte.toUnsignedInt(in.get());
    if (!Files.exists(file)) {
      return;
    }
    byte[] bytes = Files.readAllBytes(file);
    int at = (int) (rawOffset % (bytes.length + 1L));
    byte[] out =
        switch (op) {
          case 0 -> { // flip bits
            if (at == bytes.length) {
              yield bytes;
            }
            bytes[at] ^= value == 0 ? 1 : value;
            yield bytes;
          }
          case 1 -> { // overwrite a run
            for (int i = at; i < Math.min(bytes.length, at + length); i++) {
              bytes[i] = value;
            }
            yield bytes;
          }
          case 2 -> Arrays.copyOf(bytes, at); // cut
          case 3 -> { // insert a run
            byte[] b = new byte[bytes.length + length];
            System.arraycopy(bytes, 0, b, 0, at);
            Arrays.fill(b, at, at + length, value);
            System.arraycopy(bytes, at, b, at + length, bytes.length - at);
            yield b;
          }
          case 4 -> { // remove a run
            int end = Math.min(bytes.length, at + length);
            byte[] b = new byte[bytes.length - (end - at)];
            System.arraycopy(bytes, 0, b, 0, at);
            System.arraycopy(bytes, end, b, at, bytes.length - end);
            yield b;
          }
          default -> { // duplicate a run in place (a frame copied after itself, a line twice)
            int end = Math.min(bytes.length, at + length * 16);
            byte[] b = new byte[bytes.length + (end - at)];
            System.arraycopy(bytes, 0, b, 0, end);
            System.arraycopy(bytes, at, b, end, bytes.length - at);
            yield b;
          }
        };
    Files.write(file, out);
  }
}
