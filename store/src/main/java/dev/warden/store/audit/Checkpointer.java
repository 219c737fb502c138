package dev.warden.store.audit;

import dev.warden.core.audit.Checkpoint;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Signs checkpoints (THREATS §6.6) and appends each to the log's {@code checkpoints.log} and, when
 * one is configured, to the witness directory. Confined to the writer thread.
 *
 * <p>The local file is part of the log: failing to write it fails the log closed. The witness is a
 * second copy somewhere else: failing to write it is logged and retried with the next checkpoint,
 * and at the next start from the local file, so that the witness ends up with every checkpoint in
 * order (its copies chain by signature, and a gap would read as a removed checkpoint).
 */
final class Checkpointer {
  private static final Logger log = LoggerFactory.getLogger(Checkpointer.class);

  private final Path local;
  private final Optional<Path> witnessFile;
  private final String logId;
  private final AuditKeys keys;
  private final Clock clock;
  private final List<Checkpoint> forWitness = new ArrayList<>();
  private boolean witnessFailing;
  private Checkpoint last;

  private Checkpointer(
      Path local, Optional<Path> witnessFile, String logId, AuditKeys keys, Clock clock) {
    this.local = local;
    this.witnessFile = witnessFile;
    this.logId = logId;
    this.keys = keys;
    this.clock = clock;
  }

  /**
   * Opens the checkpoint files of log {@code logId}: ends a line cut short by a crash, checks that
   * the witness holds no checkpoint the local file lacks, and gives the witness what it missed.
   */
  static Checkpointer open(
      Path auditDir, Optional<Path> witness, String logId, AuditKeys keys, Clock clock)
      throws IOException {
    Path local = auditDir.resolve(CheckpointFile.LOCAL);
    CheckpointFile.endTornLine(local);
    CheckpointFile.Contents mine = CheckpointFile.read(local);
    for (Checkpoint cp : mine.checkpoints()) {
      if (!cp.logId().equals(logId)) {
        throw new IOException(
            local + " holds checkpoints of log '" + cp.logId() + "', not of '" + logId + "'");
      }
    }
    Optional<Path> witnessFile = witness.map(w -> w.resolve(CheckpointFile.witnessName(logId)));
    Checkpointer c = new Checkpointer(local, witnessFile, logId, keys, clock);
    c.last = mine.last();
    if (witness.isPresent()) {
      Path dir = witness.get();
      if (!Files.isDirectory(dir)) {
        throw new IOException(
            "the audit witness directory " + dir + " does not exist or is not a directory");
      }
      AuditKeys.writePublicKey(dir.resolve(CheckpointFile.witnessKeyName(logId)), keys.publicKey());
      Path file = witnessFile.orElseThrow();
      CheckpointFile.endTornLine(file);
      List<Checkpoint> theirs = CheckpointFile.read(file).checkpoints();
      List<Checkpoint> ours = mine.checkpoints();
      for (int i = 0; i < theirs.size(); i++) {
        if (i >= ours.size() || !theirs.get(i).equals(ours.get(i))) {
          throw new IOException(
              "the witness "
                  + file
                  + " holds checkpoint "
                  + (i + 1)
                  + " (record "
                  + theirs.get(i).seq()
                  + ") "
                  + (i >= ours.size() ? "which " + local + " lacks" : "which differs from " + local)
                  + ": the log's checkpoints were rolled back or rewritten. Run `warden audit"
                  + " verify --witness "
                  + dir
                  + "`");
        }
      }
      c.forWitness.addAll(ours.subList(theirs.size(), ours.size()));
      c.shipToWitness();
    }
    return c;
  }

  /** The last checkpoint written, or null. */
  Checkpoint last() {
    return last;
  }

  /** The record the last checkpoint covers, 0 for none. */
  long lastSeq() {
    return last == null ? 0 : last.seq();
  }

  /** Signs and writes a checkpoint of record {@code seq} with chain hash {@code hash}. */
  void checkpoint(long seq, byte[] hash) throws IOException {
    long wall = clock.millis();
    byte[] previous = new byte[0];
    if (last != null) {
      // An honest writer never dates a checkpoint before the one before it, even when the
      // system clock steps back; the verifier treats a checkpoint going back in time as forged.
      wall = Math.max(wall, last.wallTimeMillis());
      previous = last.signature();
    }
    Checkpoint cp = Checkpoint.sign(keys.signingKey(), logId, seq, hash, wall, previous);
    try {
      CheckpointFile.append(local, List.of(cp));
    } catch (IOException e) {
      throw new IOException("writing a checkpoint failed: " + e.getMessage(), e);
    }
    last = cp;
    if (witnessFile.isPresent()) {
      forWitness.add(cp);
      shipToWitness();
    }
  }

  /** Ships what the witness lacks; on failure keeps it for the next time. */
  private void shipToWitness() {
    if (forWitness.isEmpty() || witnessFile.isEmpty()) {
      return;
    }
    Path file = witnessFile.get();
    try {
      if (witnessFailing) {
        // A failed append may have left part of a line, or all of it without its fsync.
        CheckpointFile.endTornLine(file);
        Set<String> there = new HashSet<>();
        for (Checkpoint cp : CheckpointFile.read(file).checkpoints()) {
          there.add(HexFormat.of().formatHex(cp.signature()));
        }
        forWitness.removeIf(cp -> there.contains(HexFormat.of().formatHex(cp.signature())));
      }
      CheckpointFile.append(file, forWitness);
      forWitness.clear();
      if (witnessFailing) {
        log.info("audit witness {} is written again", file);
      }
      witnessFailing = false;
    } catch (IOException | RuntimeException e) {
      if (!witnessFailing) {
        log.error(
            "audit witness {}: cannot append checkpoints ({}); the log goes on, and the witness"
                + " gets them when it can be written again",
            file,
            e.toString());
      }
      witnessFailing = true;
    }
  }

  /**
   * After a failure: ends a line cut short in the local file and takes its last checkpoint as the
   * last one (a checkpoint whose write was reported failed may still have reached the file).
   */
  void recover() throws IOException {
    CheckpointFile.endTornLine(local);
    Checkpoint onDisk = CheckpointFile.read(local).last();
    if (onDisk != null
        && (last == null
            || onDisk.seq() > last.seq()
                && MessageDigest.isEqual(onDisk.previousSignature(), last.signature()))) {
      last = onDisk;
      if (witnessFile.isPresent()) {
        forWitness.add(onDisk);
      }
    }
  }
}
