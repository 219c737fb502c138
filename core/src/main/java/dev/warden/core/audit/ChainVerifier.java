package dev.warden.core.audit;

import java.security.MessageDigest;
import java.security.PublicKey;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Checks an audit log against its hash chain and against the signed checkpoints a witness holds,
 * and names the first record where it stops being trustworthy (THREATS AD05).
 *
 * <p>The chain catches a record altered in place, removed, inserted, duplicated or moved. Someone
 * able to rewrite the whole log can recompute a consistent chain; the checkpoints, signed with a
 * key the writer alone holds and each naming the one before it, catch that, a truncated tail and a
 * rollback to an older state, down to the last checkpoint. Records after the last checkpoint are
 * covered by the chain only: checkpoints are written often (every second or thousand records) to
 * keep that window small.
 */
public final class ChainVerifier {
  private ChainVerifier() {}

  /**
   * What the verifier found.
   *
   * @param intact true if nothing is wrong
   * @param firstBadSeq the first record that cannot be trusted (0 when intact)
   * @param reason what is wrong, for a person
   */
  public record Result(boolean intact, long firstBadSeq, String reason) {
    static final Result INTACT = new Result(true, 0, "intact");

    static Result bad(long seq, String reason) {
      return new Result(false, seq, reason);
    }
  }

  /** Verifies {@code records} of log {@code logId} against the witness's {@code checkpoints}. */
  public static Result verify(
      String logId, List<ChainedRecord> records, List<Checkpoint> checkpoints, PublicKey key) {
    Map<Long, Checkpoint> bySeq = new HashMap<>();
    byte[] previousSignature = new byte[0];
    long previousSeq = 0;
    for (Checkpoint cp : checkpoints) {
      if (!cp.logId().equals(logId)) {
        return Result.bad(cp.seq(), "a checkpoint belongs to another log: " + cp.logId());
      }
      if (!cp.verifies(key)) {
        return Result.bad(
            previousSeq + 1, "the checkpoint at record " + cp.seq() + " has an invalid signature");
      }
      if (!MessageDigest.isEqual(cp.previousSignature(), previousSignature)) {
        return Result.bad(
            previousSeq + 1,
            "the checkpoint at record "
                + cp.seq()
                + " does not follow the one before it: a checkpoint was removed or reordered");
      }
      if (cp.seq() < previousSeq) {
        return Result.bad(cp.seq(), "checkpoints go back from record " + previousSeq);
      }
      bySeq.put(cp.seq(), cp);
      previousSignature = cp.signature();
      previousSeq = cp.seq();
    }
    long lastCheckpointed = previousSeq;

    byte[] h = AuditChain.genesis(logId);
    long expected = 1;
    long lastGoodCheckpoint = 0;
    for (ChainedRecord r : records) {
      if (r.seq() != expected) {
        return Result.bad(
            expected,
            r.seq() > expected
                ? "record " + expected + " is missing (the next one is " + r.seq() + ")"
                : "record "
                    + r.seq()
                    + " appears again or out of order where record "
                    + expected
                    + " should be");
      }
      h = AuditChain.next(h, r.seq(), r.payload());
      if (!MessageDigest.isEqual(h, r.hash())) {
        return Result.bad(r.seq(), "record " + r.seq() + " was altered: its hash does not match");
      }
      Checkpoint cp = bySeq.get(r.seq());
      if (cp != null) {
        if (!MessageDigest.isEqual(h, cp.hash())) {
          return Result.bad(
              lastGoodCheckpoint + 1,
              "the log up to record "
                  + r.seq()
                  + " differs from its signed checkpoint: a record after "
                  + (lastGoodCheckpoint == 0
                      ? "the start"
                      : "record " + lastGoodCheckpoint + " (the last one that matches)")
                  + " was rewritten, with the chain recomputed");
        }
        lastGoodCheckpoint = r.seq();
      }
      expected++;
    }
    long last = expected - 1;
    if (lastCheckpointed > last) {
      return Result.bad(
          last + 1,
          "the log ends at record "
              + last
              + " but a signed checkpoint covers record "
              + lastCheckpointed
              + ": its tail was cut off");
    }
    return Result.INTACT;
  }
}
