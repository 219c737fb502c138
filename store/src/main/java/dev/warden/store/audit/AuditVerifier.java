package dev.warden.store.audit;

import dev.warden.core.audit.ChainVerifier;
import dev.warden.core.audit.Checkpoint;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.PublicKey;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Verifies an embedded audit log on disk (THREATS §6.8, AD05): every segment's header and frames,
 * the hash chain across segments, and the signed checkpoints beside the log and in the witness, and
 * names the first record that cannot be trusted and why. It reads the files only, so it runs while
 * Warden runs (a record being written at that moment is reported as a note, not an error) or on a
 * copy.
 *
 * <p>What it detects: a byte changed anywhere (checksums, then the chain); a record removed,
 * inserted, duplicated or moved, and a gap in the sequence numbers (the chain); a segment removed,
 * inserted or replaced (headers name their first record and the hash before it); the chain
 * recomputed by someone without the key, a truncated tail and a rollback of the log to an older
 * state, down to the last checkpoint (the signed checkpoints); checkpoints removed, reordered,
 * forged or dated back in time (each names the previous one's signature, and times only go
 * forward); and the checkpoint file beside the log disagreeing with the witness's copy.
 *
 * <p>What it cannot detect, by design: records after the last checkpoint cut off together with
 * nothing else (the writer signs a checkpoint at least every second and when it closes, so the
 * window is small), and, without a witness, a log rewritten together with its checkpoint file and
 * public key by someone who holds the disk: that is what the witness, kept where the writer may
 * append but not rewrite, is for. A torn tail that the writer cut off at its next start, and
 * recorded with an {@code audit-torn-tail-removed} event, is not an error.
 */
public final class AuditVerifier {
  private AuditVerifier() {}

  /**
   * What verification found.
   *
   * @param intact true if nothing is wrong
   * @param logId the log's id, or empty when none could be read
   * @param firstBadSeq the first record that cannot be trusted; 0 when intact, or when what is
   *     wrong is not a record (a replaced public key, a checkpoint file missing lines)
   * @param reason what is wrong, for a person ("intact" when nothing is)
   * @param records the records read and found good
   * @param segments the segment files
   * @param checkpoints the checkpoints checked
   * @param lastCheckpointSeq the last record a checkpoint covers (0 for none): records after it are
   *     covered by the chain only
   * @param witnessChecked whether a witness's copy of the checkpoints and the key was used
   * @param notes what is worth knowing but not wrong: a record being written, unreadable checkpoint
   *     lines skipped, a witness lagging behind
   */
  public record Report(
      boolean intact,
      String logId,
      long firstBadSeq,
      String reason,
      long records,
      int segments,
      int checkpoints,
      long lastCheckpointSeq,
      boolean witnessChecked,
      List<String> notes) {
    public Report {
      Objects.requireNonNull(logId, "logId");
      Objects.requireNonNull(reason, "reason");
      notes = List.copyOf(notes);
    }

    /** One line for a person: the verdict, the first bad record and why. */
    public String summary() {
      if (intact) {
        return "audit log "
            + logId
            + " is intact: "
            + records
            + " records in "
            + segments
            + " segment(s), "
            + checkpoints
            + " checkpoint(s) up to record "
            + lastCheckpointSeq
            + (witnessChecked ? ", checked against the witness" : ", no witness checked");
      }
      return "audit log "
          + (logId.isEmpty() ? "" : logId + " ")
          + "is NOT intact"
          + (firstBadSeq > 0
              ? ": record " + firstBadSeq + " is the first that cannot be trusted"
              : "")
          + ": "
          + reason;
    }
  }

  /**
   * Verifies the log in {@code auditDir} with the public key that signed it: the witness's copy
   * when a witness is given (the copy beside the log must then be the same), else the copy beside
   * the log.
   *
   * @param witness the witness directory the writer also appended checkpoints to, if any
   * @throws IOException when the files cannot be read at all (a missing directory, no permission)
   */
  public static Report verify(Path auditDir, Optional<Path> witness) throws IOException {
    return verify(auditDir, witness, Optional.empty());
  }

  /**
   * Verifies with {@code trustedKey} (for example one kept offline) instead of the copies on disk,
   * which must then match it.
   */
  public static Report verify(Path auditDir, Optional<Path> witness, Optional<PublicKey> trustedKey)
      throws IOException {
    return new Run(auditDir, witness, trustedKey).run();
  }

  private static final class Run {
    private final Path dir;
    private final Optional<Path> witness;
    private final Optional<PublicKey> trustedKey;
    private final List<String> notes = new ArrayList<>();
    private String logId = "";
    private int segmentCount;
    private int checkpointCount;
    private long lastCheckpointSeq;

    Run(Path dir, Optional<Path> witness, Optional<PublicKey> trustedKey) {
      this.dir = dir;
      this.witness = witness;
      this.trustedKey = trustedKey;
    }

    Report bad(long seq, String reason, long records) {
      return new Report(
          false,
          logId,
          seq,
          reason,
          records,
          segmentCount,
          checkpointCount,
          lastCheckpointSeq,
          witness.isPresent(),
          notes);
    }

    Report run() throws IOException {
      if (!Files.isDirectory(dir)) {
        throw new IOException("there is no audit directory " + dir);
      }
      if (witness.isPresent() && !Files.isDirectory(witness.get())) {
        throw new IOException("there is no witness directory " + witness.get());
      }
      List<Segments.Segment> segments = Segments.list(dir);
      segmentCount = segments.size();
      CheckpointFile.Contents local = CheckpointFile.read(dir.resolve(CheckpointFile.LOCAL));
      notes.addAll(local.unreadable());
      if (segments.isEmpty()) {
        Checkpoint last = local.last();
        return bad(
            1,
            last == null
                ? "there is no audit log in " + dir + " (no segment-*.log file)"
                : "every segment file is gone, but a checkpoint covers record " + last.seq(),
            0);
      }
      Segments.Header first;
      try {
        first = Segments.readHeader(segments.get(0).path());
      } catch (Segments.HeaderException e) {
        return bad(segments.get(0).firstSeq(), e.getMessage(), 0);
      }
      logId = first.logId();

      // The key, and the checkpoints to check against.
      PublicKey key;
      String keyProblem = "";
      Optional<PublicKey> beside = readKey(dir.resolve(AuditKeys.PUBLIC_KEY_FILE));
      Optional<PublicKey> atWitness =
          witness.isPresent()
              ? readKey(witness.get().resolve(CheckpointFile.witnessKeyName(logId)))
              : Optional.empty();
      if (trustedKey.isPresent()) {
        key = trustedKey.get();
      } else if (atWitness.isPresent()) {
        key = atWitness.get();
      } else if (beside.isPresent()) {
        key = beside.get();
        if (witness.isPresent()) {
          keyProblem = "the witness has no copy of the public key (" + logId + ".pub)";
        } else {
          notes.add(
              "no witness given: the public key and checkpoints beside the log are trusted, and"
                  + " someone able to rewrite the log could have rewritten them too");
        }
      } else {
        return bad(0, "there is no public key to check the checkpoints with", 0);
      }
      if (beside.isPresent() && !sameKey(beside.get(), key)) {
        keyProblem =
            "the public key beside the log ("
                + AuditKeys.fingerprint(beside.get())
                + ") is not the trusted one ("
                + AuditKeys.fingerprint(key)
                + "): it was replaced";
      }
      if (atWitness.isPresent() && !sameKey(atWitness.get(), key)) {
        keyProblem =
            "the witness's public key ("
                + AuditKeys.fingerprint(atWitness.get())
                + ") is not the trusted one ("
                + AuditKeys.fingerprint(key)
                + ")";
      }

      List<Checkpoint> checkpoints = local.checkpoints();
      String checkpointProblem = "";
      long checkpointProblemSeq = 0;
      if (witness.isPresent()) {
        CheckpointFile.Contents theirs =
            CheckpointFile.read(witness.get().resolve(CheckpointFile.witnessName(logId)));
        notes.addAll(theirs.unreadable().stream().map(n -> "witness: " + n).toList());
        List<Checkpoint> w = theirs.checkpoints();
        int common = Math.min(w.size(), checkpoints.size());
        for (int i = 0; i < common && checkpointProblem.isEmpty(); i++) {
          if (!w.get(i).equals(checkpoints.get(i))) {
            checkpointProblemSeq = i == 0 ? 1 : w.get(i - 1).seq() + 1;
            checkpointProblem =
                "checkpoint "
                    + (i + 1)
                    + " beside the log (record "
                    + checkpoints.get(i).seq()
                    + ") differs from the witness's (record "
                    + w.get(i).seq()
                    + "): the checkpoints beside the log were rewritten";
          }
        }
        if (checkpointProblem.isEmpty() && w.size() > checkpoints.size()) {
          // The first record that only the missing checkpoints vouched for.
          checkpointProblemSeq = checkpoints.isEmpty() ? 1 : checkpoints.getLast().seq() + 1;
          checkpointProblem =
              "the checkpoint file beside the log lacks the last "
                  + (w.size() - checkpoints.size())
                  + " checkpoint(s) the witness holds: it was cut back";
          checkpoints = w;
        } else if (w.size() < checkpoints.size()) {
          notes.add(
              "the witness lacks the last "
                  + (checkpoints.size() - w.size())
                  + " checkpoint(s): it could not be written for a while (the writer catches it up)");
        }
      }
      checkpointCount = checkpoints.size();
      lastCheckpointSeq = checkpoints.isEmpty() ? 0 : checkpoints.getLast().seq();

      ChainVerifier chain = ChainVerifier.start(logId, checkpoints, key);
      verifySegments(segments, chain);
      ChainVerifier.Result result = chain.finish();
      long records = chain.expectedSeq() - 1;
      // The two copies of the checkpoints disagreeing is named first when it concerns records
      // no later than what the chain found: it says more precisely what was done.
      if (!checkpointProblem.isEmpty()
          && (result.intact() || checkpointProblemSeq <= result.firstBadSeq())) {
        return bad(checkpointProblemSeq, checkpointProblem, records);
      }
      if (!result.intact()) {
        return bad(result.firstBadSeq(), result.reason(), records);
      }
      if (!keyFileProblem.isEmpty()) {
        return bad(0, keyFileProblem, records);
      }
      if (!keyProblem.isEmpty()) {
        return bad(0, keyProblem, records);
      }
      return new Report(
          true,
          logId,
          0,
          "intact",
          records,
          segmentCount,
          checkpointCount,
          lastCheckpointSeq,
          witness.isPresent(),
          notes);
    }

    private void verifySegments(List<Segments.Segment> segments, ChainVerifier chain)
        throws IOException {
      for (int i = 0; i < segments.size() && chain.ok(); i++) {
        Segments.Segment s = segments.get(i);
        boolean last = i == segments.size() - 1;
        String name = s.path().getFileName().toString();
        long expected = chain.expectedSeq();
        try (FileChannel ch = FileChannel.open(s.path())) {
          Segments.Header header;
          try {
            header = Segments.readHeader(ch, s.path());
          } catch (Segments.HeaderException e) {
            if (e.cutShort && last && s.firstSeq() == expected) {
              notes.add(
                  name
                      + " was being created (its header is cut short); the writer removes it at"
                      + " its next start");
              return;
            }
            chain.fail(expected, e.getMessage());
            return;
          }
          if (!header.logId().equals(logId)) {
            chain.fail(expected, name + " belongs to another log: " + header.logId());
            return;
          }
          if (header.firstSeq() != s.firstSeq()) {
            chain.fail(
                Math.min(expected, header.firstSeq()),
                name
                    + " is named for record "
                    + s.firstSeq()
                    + " but starts at record "
                    + header.firstSeq());
            return;
          }
          if (header.firstSeq() > expected) {
            chain.fail(
                expected,
                (header.firstSeq() == expected + 1
                        ? "record " + expected + " is"
                        : "records " + expected + " to " + (header.firstSeq() - 1) + " are")
                    + " missing: the segment holding "
                    + (header.firstSeq() == expected + 1 ? "it" : "them")
                    + " was removed (the next one is "
                    + name
                    + ")");
            return;
          }
          if (header.firstSeq() < expected) {
            chain.fail(
                header.firstSeq(),
                name
                    + " starts at record "
                    + header.firstSeq()
                    + ", which an earlier segment holds: a segment was inserted or copied");
            return;
          }
          if (!MessageDigest.isEqual(header.previousHash(), chain.hash())) {
            chain.fail(
                expected,
                name + " does not continue the chain of the segment before it: it was replaced");
            return;
          }
          Frames.Reader reader = new Frames.Reader(ch, header.length(), ch.size());
          while (true) {
            Frames.Next next = reader.next();
            switch (next) {
              case Frames.Frame f -> {
                if (!chain.accept(f.record())) {
                  return;
                }
              }
              case Frames.End e -> {
                if (header.firstSeq() == chain.expectedSeq() && !last) {
                  chain.fail(
                      chain.expectedSeq(),
                      name + " holds no record, yet a later segment exists: it was emptied");
                  return;
                }
              }
              case Frames.CutShort c -> {
                if (last) {
                  notes.add(
                      name
                          + " ends inside a record after record "
                          + (chain.expectedSeq() - 1)
                          + " ("
                          + c.reason()
                          + "): a record being written, or a crash's torn tail, which the writer"
                          + " cuts off at its next start");
                } else {
                  chain.fail(
                      chain.expectedSeq(),
                      name + " ends inside a record (" + c.reason() + "): it was cut short");
                }
              }
              case Frames.Damaged d -> {
                chain.fail(
                    chain.expectedSeq(),
                    "record "
                        + chain.expectedSeq()
                        + " is damaged ("
                        + name
                        + ": "
                        + d.reason()
                        + ")");
                return;
              }
            }
            if (!(next instanceof Frames.Frame)) {
              break;
            }
          }
        }
      }
    }

    private String keyFileProblem = "";

    private Optional<PublicKey> readKey(Path file) {
      if (!Files.exists(file)) {
        return Optional.empty();
      }
      try {
        return Optional.of(AuditKeys.readPublicKey(file));
      } catch (IOException e) {
        keyFileProblem = "the public key file cannot be read: " + e.getMessage();
        return Optional.empty();
      }
    }

    private static boolean sameKey(PublicKey a, PublicKey b) {
      return Arrays.equals(a.getEncoded(), b.getEncoded());
    }
  }
}
