package dev.warden.store.audit;

import static dev.warden.store.audit.AuditFixtures.CLOCK;
import static dev.warden.store.audit.AuditFixtures.KEYS;
import static dev.warden.store.audit.AuditFixtures.encoder;
import static dev.warden.store.audit.AuditFixtures.event;
import static dev.warden.store.audit.AuditFixtures.settings;
import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.core.audit.AuditChain;
import dev.warden.core.audit.ChainedRecord;
import dev.warden.core.audit.Checkpoint;
import dev.warden.core.audit.Durability;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The verifier against forged logs on disk (THREATS AD05): each kind of tampering is found and the
 * first bad record named, at chosen positions and then at random ones ({@link
 * #everyRandomTamperingAtARandomPlaceIsFound}); honest logs, including one with a torn tail, are
 * intact.
 */
class AuditVerifierTest {
  static final String LOG = "verify-me";

  @TempDir static Path bases;
  static Path base;
  static Path baseWitness;

  @TempDir Path work;
  Path dir;
  Path witness;

  /**
   * A log of {@code n} records in small segments, a checkpoint every {@code every} records, copied
   * to a witness, closed (so a last checkpoint covers every record).
   */
  static void build(Path dir, Path witness, int n, int segmentBytes, int every) {
    try {
      Files.createDirectories(witness);
      try (EmbeddedAuditTrail trail =
          EmbeddedAuditTrail.open(
              dir,
              settings()
                  .withLogId(LOG)
                  .withSegmentBytes(segmentBytes)
                  .withCheckpoints(every, Duration.ofHours(1))
                  .withWitness(witness),
              encoder(),
              CLOCK)) {
        for (int i = 1; i <= n; i++) {
          // Small batches, so that checkpoints fall at many places.
          Durability d = i % 3 == 0 ? Durability.IMMEDIATE : Durability.BOUNDED;
          var f = trail.append(event("record-" + i), d);
          if (d == Durability.IMMEDIATE) {
            f.get(10, TimeUnit.SECONDS);
          }
        }
      }
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  @BeforeAll
  static void buildBase() {
    base = bases.resolve("log");
    baseWitness = bases.resolve("witness");
    build(base, baseWitness, 90, 4096, 10);
  }

  /** A fresh copy of the base log to forge. */
  void copyBase() {
    dir = work.resolve("log");
    witness = work.resolve("witness");
    try {
      if (Files.exists(dir)) {
        deleteTree(dir);
        deleteTree(witness);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    LogSurgery.copy(base, dir);
    LogSurgery.copy(baseWitness, witness);
  }

  AuditVerifier.Report verify() {
    try {
      return AuditVerifier.verify(dir, Optional.of(witness));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  void assertBad(AuditVerifier.Report r, long firstBad, String reason) {
    assertThat(r.intact()).as(r.summary()).isFalse();
    assertThat(r.firstBadSeq()).as(r.summary()).isEqualTo(firstBad);
    assertThat(r.reason()).as(r.summary()).contains(reason);
  }

  List<LogSurgery.Segment> segments() {
    return LogSurgery.read(dir);
  }

  LogSurgery.Located find(List<LogSurgery.Segment> segments, long seq) {
    return LogSurgery.locate(segments).stream()
        .filter(l -> l.record().seq() == seq)
        .findFirst()
        .orElseThrow();
  }

  @Test
  void anHonestLogIsIntactWithAndWithoutItsWitness() throws IOException {
    copyBase();
    AuditVerifier.Report r = verify();
    assertThat(r.intact()).as(r.summary()).isTrue();
    assertThat(r.records()).isEqualTo(90);
    assertThat(r.segments()).isGreaterThan(3);
    assertThat(r.lastCheckpointSeq()).isEqualTo(90);
    assertThat(r.witnessChecked()).isTrue();
    assertThat(r.notes()).isEmpty();
    assertThat(r.summary()).startsWith("audit log verify-me is intact: 90 records");
    AuditVerifier.Report alone = AuditVerifier.verify(dir, Optional.empty());
    assertThat(alone.intact()).isTrue();
    assertThat(alone.notes()).anyMatch(n -> n.contains("no witness given"));
    AuditVerifier.Report pinned =
        AuditVerifier.verify(dir, Optional.empty(), Optional.of(KEYS.publicKey()));
    assertThat(pinned.intact()).isTrue();
  }

  @Test
  void aFlippedByteIsFoundByItsChecksum() {
    copyBase();
    List<LogSurgery.Segment> s = segments();
    LogSurgery.Located at = find(s, 23);
    LogSurgery.flipByte(
        s.get(at.segment()).path, LogSurgery.offsetOf(s.get(at.segment()), at.index()) + 50, 0x04);
    assertBad(verify(), 23, "record 23 is damaged");
  }

  @Test
  void aRecordAlteredWithItsChecksumFixedIsFoundByTheChain() {
    copyBase();
    List<LogSurgery.Segment> s = segments();
    LogSurgery.Located at = find(s, 23);
    ChainedRecord r = at.record();
    String forged = AuditFixtures.text(r).replace("record-23", "record-99");
    s.get(at.segment())
        .records
        .set(
            at.index(),
            new ChainedRecord(r.seq(), forged.getBytes(StandardCharsets.UTF_8), r.hash()));
    s.get(at.segment()).write();
    assertBad(verify(), 23, "record 23 was altered");
  }

  @Test
  void aDeletedInsertedReorderedOrDuplicatedRecordIsNamed() {
    copyBase();
    List<LogSurgery.Segment> s = segments();
    LogSurgery.Located at = find(s, 30);
    s.get(at.segment()).records.remove(at.index());
    s.get(at.segment()).write();
    assertBad(verify(), 30, "record 30 is missing");

    copyBase();
    s = segments();
    at = find(s, 30);
    ChainedRecord prev = find(s, 29).record();
    byte[] payload = "{\"forged\":true}".getBytes(StandardCharsets.UTF_8);
    s.get(at.segment())
        .records
        .add(at.index(), new ChainedRecord(30, payload, AuditChain.next(prev.hash(), 30, payload)));
    s.get(at.segment()).write();
    assertBad(verify(), 31, "appears again or out of order");

    copyBase();
    s = segments();
    at = find(s, 30);
    LogSurgery.Segment seg = s.get(at.segment());
    int other = at.index() + 1 < seg.records.size() ? at.index() + 1 : at.index() - 1;
    ChainedRecord a = seg.records.get(at.index());
    seg.records.set(at.index(), seg.records.get(other));
    seg.records.set(other, a);
    seg.write();
    assertBad(verify(), 30, "record 30 is missing (the next one is 31)");

    copyBase();
    s = segments();
    at = find(s, 30);
    s.get(at.segment()).records.add(at.index() + 1, at.record());
    s.get(at.segment()).write();
    assertBad(verify(), 31, "record 30 appears again");
  }

  @Test
  void aTruncatedTailIsFoundByTheLastCheckpoint() throws IOException {
    copyBase();
    List<LogSurgery.Segment> s = segments();
    LogSurgery.Located at = find(s, 87);
    LogSurgery.Segment seg = s.get(at.segment());
    try (FileChannel ch = FileChannel.open(seg.path, StandardOpenOption.WRITE)) {
      ch.truncate(LogSurgery.offsetOf(seg, at.index()));
    }
    for (int i = at.segment() + 1; i < s.size(); i++) {
      Files.delete(s.get(i).path);
    }
    assertBad(verify(), 87, "its tail was cut off");
  }

  @Test
  void aDeletedSegmentIsFoundWhereverItWas() throws IOException {
    copyBase();
    List<LogSurgery.Segment> s = segments();
    Files.delete(s.get(1).path);
    assertBad(verify(), s.get(1).header.firstSeq(), "the segment holding them was removed");

    copyBase();
    Files.delete(s.getFirst().path);
    assertBad(verify(), 1, "segment holding them was removed");

    copyBase();
    Files.delete(s.getLast().path);
    assertBad(verify(), s.getLast().header.firstSeq(), "its tail was cut off");
  }

  @Test
  void aChainRecomputedWithoutTheKeyIsFoundByTheSignedCheckpoints() throws IOException {
    copyBase();
    List<LogSurgery.Segment> s = segments();
    LogSurgery.Located at = find(s, 44);
    ChainedRecord r = at.record();
    byte[] forged =
        AuditFixtures.text(r).replace("record-44", "harmless").getBytes(StandardCharsets.UTF_8);
    s.get(at.segment()).records.set(at.index(), new ChainedRecord(r.seq(), forged, r.hash()));
    LogSurgery.rechain(LOG, s);
    s.forEach(LogSurgery.Segment::write);
    long lastGood =
        CheckpointFile.read(dir.resolve(CheckpointFile.LOCAL)).checkpoints().stream()
            .mapToLong(Checkpoint::seq)
            .filter(seq -> seq < 44)
            .max()
            .orElse(0);
    AuditVerifier.Report report = verify();
    assertThat(report.intact()).isFalse();
    assertThat(report.firstBadSeq())
        .isEqualTo(lastGood + 1); // after the last checkpoint that holds
    assertThat(report.reason()).contains("differs from its signed checkpoint");
  }

  /**
   * Someone who stole the signing key rewrites a record, recomputes the chain and re-signs every
   * checkpoint (the journald CVE-2023-31439 class): everything on the disk agrees, and only the
   * witness, which keeps what was appended to it, tells.
   */
  @Test
  void aLogResealedWithTheStolenKeyIsFoundByTheWitness() throws IOException {
    copyBase();
    List<LogSurgery.Segment> s = segments();
    LogSurgery.Located at = find(s, 44);
    ChainedRecord r = at.record();
    byte[] forged =
        AuditFixtures.text(r).replace("record-44", "harmless").getBytes(StandardCharsets.UTF_8);
    s.get(at.segment()).records.set(at.index(), new ChainedRecord(r.seq(), forged, r.hash()));
    LogSurgery.rechain(LOG, s);
    s.forEach(LogSurgery.Segment::write);
    Path local = dir.resolve(CheckpointFile.LOCAL);
    List<ChainedRecord> records = AuditFixtures.records(dir);
    List<Checkpoint> resealed = new ArrayList<>();
    byte[] previous = new byte[0];
    for (Checkpoint c : CheckpointFile.read(local).checkpoints()) {
      byte[] hash = records.get((int) c.seq() - 1).hash();
      Checkpoint f =
          Checkpoint.sign(KEYS.signingKey(), LOG, c.seq(), hash, c.wallTimeMillis(), previous);
      resealed.add(f);
      previous = f.signature();
    }
    Files.delete(local);
    CheckpointFile.append(local, resealed);

    assertThat(AuditVerifier.verify(dir, Optional.empty()).intact()).isTrue(); // the limitation
    AuditVerifier.Report report = verify();
    assertThat(report.intact()).isFalse();
    assertThat(report.reason()).contains("differs from the witness's");
    assertThat(report.firstBadSeq()).isLessThanOrEqualTo(44);
  }

  @Test
  void aSequenceGapIsNamed() {
    copyBase();
    List<LogSurgery.Segment> s = segments();
    for (LogSurgery.Segment seg : s) {
      for (int i = 0; i < seg.records.size(); i++) {
        ChainedRecord r = seg.records.get(i);
        if (r.seq() >= 35) {
          seg.records.set(i, new ChainedRecord(r.seq() + 1, r.payload(), r.hash()));
        }
      }
      if (seg.header.firstSeq() > 35) {
        seg.header =
            new Segments.Header(
                seg.header.logId(), seg.header.firstSeq() + 1, seg.header.previousHash());
      }
    }
    LogSurgery.rechain(LOG, s);
    s.forEach(LogSurgery.Segment::write);
    assertBad(verify(), 35, "record 35 is missing");
  }

  @Test
  void aRollbackToAnOlderSignedCheckpointIsFoundByTheWitnessOnly() throws IOException {
    copyBase();
    // Cut the log back to an older checkpoint, and its local checkpoints to that one: a
    // consistent older state, every signature valid.
    Path local = dir.resolve(CheckpointFile.LOCAL);
    List<String> lines = Files.readAllLines(local);
    long keep = CheckpointFile.parse(lines.get(lines.size() / 2)).seq();
    List<LogSurgery.Segment> s = segments();
    for (LogSurgery.Segment seg : s) {
      seg.records.removeIf(r -> r.seq() > keep);
      if (seg.header.firstSeq() > keep && seg.records.isEmpty()) {
        Files.delete(seg.path);
      } else {
        seg.write();
      }
    }
    Files.writeString(local, String.join("\n", lines.subList(0, lines.size() / 2 + 1)) + "\n");

    assertThat(AuditVerifier.verify(dir, Optional.empty()).intact()).isTrue(); // without witness
    AuditVerifier.Report r = verify();
    assertThat(r.intact()).isFalse();
    assertThat(r.reason()).contains("lacks the last").contains("the witness holds");
    assertThat(r.firstBadSeq()).isEqualTo(keep + 1);
  }

  @Test
  void checkpointsDatedBackRemovedOrForgedWithAnotherKeyAreFound() throws Exception {
    copyBase();
    Path local = dir.resolve(CheckpointFile.LOCAL);
    List<Checkpoint> cps = CheckpointFile.read(local).checkpoints();
    // Re-signed with the real key, but the third one dated before the second.
    List<Checkpoint> backInTime = new ArrayList<>();
    byte[] previous = new byte[0];
    for (int i = 0; i < cps.size(); i++) {
      Checkpoint c = cps.get(i);
      long wall = i == 2 ? cps.get(1).wallTimeMillis() - 1000 : c.wallTimeMillis();
      Checkpoint signed =
          Checkpoint.sign(KEYS.signingKey(), LOG, c.seq(), c.hash(), wall, previous);
      backInTime.add(signed);
      previous = signed.signature();
    }
    Files.delete(local);
    CheckpointFile.append(local, backInTime);
    AuditVerifier.Report r = AuditVerifier.verify(dir, Optional.empty());
    assertThat(r.intact()).isFalse();
    assertThat(r.reason()).contains("is dated before");

    copyBase();
    List<String> lines = new ArrayList<>(Files.readAllLines(local));
    lines.remove(3);
    Files.writeString(local, String.join("\n", lines) + "\n");
    assertThat(AuditVerifier.verify(dir, Optional.empty()).reason())
        .contains("removed or reordered");
    assertThat(verify().reason()).contains("differs from the witness's");

    // Someone with the disk but not the key: re-signs everything with a key of their own and
    // replaces the public key beside the log. The witness's key is the one trusted.
    copyBase();
    AuditKeys mine = AuditKeys.generate();
    List<Checkpoint> forged = new ArrayList<>();
    previous = new byte[0];
    for (Checkpoint c : cps) {
      Checkpoint f =
          Checkpoint.sign(mine.signingKey(), LOG, c.seq(), c.hash(), c.wallTimeMillis(), previous);
      forged.add(f);
      previous = f.signature();
    }
    Files.delete(local);
    CheckpointFile.append(local, forged);
    Files.delete(dir.resolve(AuditKeys.PUBLIC_KEY_FILE));
    AuditKeys.writePublicKey(dir.resolve(AuditKeys.PUBLIC_KEY_FILE), mine.publicKey());
    assertThat(AuditVerifier.verify(dir, Optional.empty()).intact()).isTrue(); // the limitation
    AuditVerifier.Report withWitness = verify();
    assertThat(withWitness.intact()).isFalse();
    assertThat(withWitness.reason()).contains("differs from the witness's");
    AuditVerifier.Report pinned =
        AuditVerifier.verify(dir, Optional.empty(), Optional.of(KEYS.publicKey()));
    assertThat(pinned.reason()).contains("invalid signature");
  }

  @Test
  void aTornTailIsANoteNotAnErrorAndARenamedSegmentIsFound() throws IOException {
    copyBase();
    List<LogSurgery.Segment> s = segments();
    ChainedRecord extra = new ChainedRecord(91, "{\"x\":1}".getBytes(), new byte[32]);
    var frame = Frames.encode(extra);
    frame.limit(frame.limit() - 7);
    try (FileChannel ch = FileChannel.open(s.getLast().path, StandardOpenOption.APPEND)) {
      ch.write(frame);
    }
    AuditVerifier.Report r = verify();
    assertThat(r.intact()).as(r.summary()).isTrue();
    assertThat(r.notes()).anyMatch(n -> n.contains("ends inside a record after record 90"));

    copyBase();
    Path second = s.get(1).path;
    Files.move(second, second.resolveSibling(Segments.name(s.get(1).header.firstSeq() + 1)));
    assertThat(verify().reason()).contains("is named for record");
  }

  @Test
  void aDirectoryWithoutALogIsNotIntact() throws IOException {
    dir = work.resolve("empty");
    Files.createDirectories(dir);
    AuditVerifier.Report r = AuditVerifier.verify(dir, Optional.empty());
    assertThat(r.intact()).isFalse();
    assertThat(r.reason()).contains("there is no audit log");
  }

  // ---- the random tamper × position test ----

  enum Tamper {
    FLIP_BYTE,
    DELETE_RECORD,
    DUPLICATE_RECORD,
    SWAP_RECORDS,
    INSERT_FORGED,
    TRUNCATE_AT_RECORD,
    TRUNCATE_INSIDE_RECORD,
    DELETE_SEGMENT,
    REWRITE_AND_RECHAIN,
    RENUMBER_AND_RECHAIN,
    REMOVE_LOCAL_CHECKPOINT,
    EDIT_CHECKPOINT_TIME,
    REMOVE_WITNESS_CHECKPOINT,
    ROLL_BACK
  }

  /**
   * Seeded random forgeries over generated logs of different shapes: each must be found, and the
   * first bad record named no later than the first record the forgery touched. (AD05)
   */
  @Test
  void everyRandomTamperingAtARandomPlaceIsFound() throws IOException {
    Random random = new Random(20261127L);
    List<Path[]> shapes = new ArrayList<>();
    for (int shape = 0; shape < 3; shape++) {
      Path d = work.resolve("shape-" + shape);
      Path w = work.resolve("shape-" + shape + "-witness");
      // Few checkpoints per log: verifying an Ed25519 signature is what costs time here.
      build(d, w, 25 + random.nextInt(60), 4096 + random.nextInt(4096), 15 + random.nextInt(15));
      shapes.add(new Path[] {d, w});
    }
    Tamper[] kinds = Tamper.values();
    int cases = 10 * kinds.length;
    for (int c = 0; c < cases; c++) {
      Path[] shape = shapes.get(random.nextInt(shapes.size()));
      dir = work.resolve("case-" + c);
      witness = work.resolve("case-" + c + "-witness");
      LogSurgery.copy(shape[0], dir);
      LogSurgery.copy(shape[1], witness);
      Tamper kind = kinds[c % kinds.length];
      long touched = tamper(kind, random);
      AuditVerifier.Report r = verify();
      assertThat(r.intact()).as("%s at record %d (case %d): %s", kind, touched, c, r).isFalse();
      assertThat(r.firstBadSeq())
          .as("%s at record %d (case %d): %s", kind, touched, c, r.summary())
          .isBetween(1L, touched);
      deleteTree(dir);
      deleteTree(witness);
    }
  }

  /** Forges the copy in {@link #dir}; returns the first record the forgery touched. */
  long tamper(Tamper kind, Random random) throws IOException {
    List<LogSurgery.Segment> s = segments();
    List<LogSurgery.Located> all = LogSurgery.locate(s);
    int n = all.size();
    LogSurgery.Located at = all.get(random.nextInt(n));
    LogSurgery.Segment seg = s.get(at.segment());
    long seq = at.record().seq();
    Path local = dir.resolve(CheckpointFile.LOCAL);
    Path witnessFile = witness.resolve(CheckpointFile.witnessName(LOG));
    switch (kind) {
      case FLIP_BYTE -> {
        long start = LogSurgery.offsetOf(seg, at.index());
        long length = Frames.HEADER + Frames.FIXED + at.record().payload().length;
        if (random.nextInt(8) == 0) {
          // the segment's header instead: its first record is the first that cannot be trusted
          LogSurgery.flipByte(seg.path, random.nextInt(seg.header.length()), 1);
          return seg.header.firstSeq();
        }
        LogSurgery.flipByte(seg.path, start + random.nextLong(length), 1 << random.nextInt(8));
        return seq;
      }
      case DELETE_RECORD -> {
        seg.records.remove(at.index());
        seg.write();
        return seq;
      }
      case DUPLICATE_RECORD -> {
        seg.records.add(at.index() + 1, at.record());
        seg.write();
        return seq + 1;
      }
      case SWAP_RECORDS -> {
        if (seg.records.size() < 2) {
          seg.records.add(at.record()); // a segment of one: duplicate instead
          seg.write();
          return seq + 1;
        }
        int other = at.index() + 1 < seg.records.size() ? at.index() + 1 : at.index() - 1;
        ChainedRecord a = seg.records.get(at.index());
        seg.records.set(at.index(), seg.records.get(other));
        seg.records.set(other, a);
        seg.write();
        return Math.min(seq, seg.records.get(at.index()).seq());
      }
      case INSERT_FORGED -> {
        byte[] payload = ("{\"forged\":" + random.nextInt() + "}").getBytes(StandardCharsets.UTF_8);
        byte[] previous =
            at.index() == 0 ? seg.header.previousHash() : seg.records.get(at.index() - 1).hash();
        seg.records.add(
            at.index(), new ChainedRecord(seq, payload, AuditChain.next(previous, seq, payload)));
        seg.write();
        return seq + 1;
      }
      case TRUNCATE_AT_RECORD, TRUNCATE_INSIDE_RECORD -> {
        long cut = LogSurgery.offsetOf(seg, at.index());
        if (kind == Tamper.TRUNCATE_INSIDE_RECORD) {
          cut += 1 + random.nextInt(Frames.HEADER + Frames.FIXED);
        }
        try (FileChannel ch = FileChannel.open(seg.path, StandardOpenOption.WRITE)) {
          ch.truncate(cut);
        }
        for (int i = at.segment() + 1; i < s.size(); i++) {
          Files.delete(s.get(i).path);
        }
        return seq;
      }
      case DELETE_SEGMENT -> {
        Files.delete(seg.path);
        return seg.header.firstSeq();
      }
      case REWRITE_AND_RECHAIN -> {
        byte[] payload =
            ("{\"rewritten\":" + random.nextInt() + "}").getBytes(StandardCharsets.UTF_8);
        seg.records.set(at.index(), new ChainedRecord(seq, payload, at.record().hash()));
        LogSurgery.rechain(LOG, s);
        s.forEach(LogSurgery.Segment::write);
        return seq;
      }
      case RENUMBER_AND_RECHAIN -> {
        for (LogSurgery.Segment x : s) {
          for (int i = 0; i < x.records.size(); i++) {
            ChainedRecord r = x.records.get(i);
            if (r.seq() >= seq) {
              x.records.set(i, new ChainedRecord(r.seq() + 1, r.payload(), r.hash()));
            }
          }
        }
        LogSurgery.rechain(LOG, s);
        s.forEach(LogSurgery.Segment::write);
        return seq;
      }
      case REMOVE_LOCAL_CHECKPOINT, EDIT_CHECKPOINT_TIME, REMOVE_WITNESS_CHECKPOINT -> {
        Path file = kind == Tamper.REMOVE_WITNESS_CHECKPOINT ? witnessFile : local;
        List<String> lines = new ArrayList<>(Files.readAllLines(file));
        // The witness's last line missing reads as a witness that could not be written for a
        // while (a note, not an error): nothing in the log is wrong then.
        int j =
            kind == Tamper.REMOVE_WITNESS_CHECKPOINT
                ? random.nextInt(lines.size() - 1)
                : random.nextInt(lines.size());
        long covered = CheckpointFile.parse(lines.get(j)).seq();
        if (kind == Tamper.EDIT_CHECKPOINT_TIME) {
          String[] f = lines.get(j).split(" ");
          f[3] = Long.toString(Long.parseLong(f[3]) + 1 + random.nextInt(1000));
          lines.set(j, String.join(" ", f));
        } else {
          lines.remove(j);
        }
        Files.writeString(file, lines.isEmpty() ? "" : String.join("\n", lines) + "\n");
        return covered;
      }
      case ROLL_BACK -> {
        List<String> lines = Files.readAllLines(local);
        if (lines.size() < 2) {
          throw new AssertionError("a shape with fewer than two checkpoints");
        }
        int j = random.nextInt(lines.size() - 1);
        long keep = CheckpointFile.parse(lines.get(j)).seq();
        for (LogSurgery.Segment x : s) {
          x.records.removeIf(r -> r.seq() > keep);
          if (x.header.firstSeq() > keep + 1 || x.header.firstSeq() > keep && x.records.isEmpty()) {
            Files.delete(x.path);
          } else {
            x.write();
          }
        }
        Files.writeString(local, String.join("\n", lines.subList(0, j + 1)) + "\n");
        return keep + 1;
      }
    }
    throw new AssertionError(kind);
  }

  static void deleteTree(Path p) throws IOException {
    try (var files = Files.walk(p)) {
      for (Path f : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(f);
      }
    }
  }
}
