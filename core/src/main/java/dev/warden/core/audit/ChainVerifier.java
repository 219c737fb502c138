package dev.warden.core.audit;

import java.security.MessageDigest;
import java.security.PublicKey;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Checks an audit log against its hash chain and against the signed checkpoints a witness holds,
 * and names the first record where it stops being trustworthy (THREATS AD05).
 *
 * <p>The chain catches a record altered in place, removed, inserted, duplicated or moved, and a gap
 * in the sequence numbers. Someone able to rewrite the whole log can recompute a consistent chain;
 * the checkpoints, signed with a key the writer alone holds and each naming the one before it,
 * catch that, a truncated tail and a rollback to an older state, down to the last checkpoint.
 * Checkpoints whose wall time goes back are refused too: an honest writer never signs a time
 * earlier than the one before. Records after the last checkpoint are covered by the chain only:
 * checkpoints are written often (every second or thousand records) to keep that window small.
 *
 * <p>Records are fed one at a time ({@link #accept}), so a log of any length is verified in
 * constant memory; {@link #verify} does it for a list.
 */
public final class ChainVerifier {
  /**
   * What the verifier found.
   *
   * @param intact true if nothing is wrong
   * @param firstBadSeq the first record that cannot be trusted (0 when intact)
   * @param reason what is wrong, for a person
   */
  public record Result(boolean intact, long firstBadSeq, String reason) {
    public Result {
      Objects.requireNonNull(reason, "reason");
    }

    /** Nothing is wrong. */
    public static Result intactResult() {
      return new Result(true, 0, "intact");
    }

    /** Record {@code seq} is the first that cannot be trusted, for {@code reason}. */
    public static Result bad(long seq, String reason) {
      return new Result(false, seq, reason);
    }
  }

  private final String logId;
  private final Map<Long, Checkpoint> bySeq = new HashMap<>();
  private final long lastCheckpointed;
  private byte[] hash;
  private long expected = 1;
  private long lastGoodCheckpoint;
  private Result failure;

  private ChainVerifier(String logId, List<Checkpoint> checkpoints, PublicKey key) {
    this.logId = Objects.requireNonNull(logId, "logId");
    this.hash = AuditChain.genesis(logId);
    byte[] previousSignature = new byte[0];
    long previousSeq = 0;
    long previousTime = Long.MIN_VALUE;
    for (Checkpoint cp : checkpoints) {
      failure = checkCheckpoint(cp, key, previousSignature, previousSeq, previousTime);
      if (failure != null) {
        break;
      }
      bySeq.put(cp.seq(), cp);
      previousSignature = cp.signature();
      previousSeq = cp.seq();
      previousTime = cp.wallTimeMillis();
    }
    this.lastCheckpointed = previousSeq;
  }

  private Result checkCheckpoint(
      Checkpoint cp, PublicKey key, byte[] previousSignature, long previousSeq, long previousTime) {
    if (!cp.logId().equals(logId)) {
      return Result.bad(
          previousSeq + 1,
          "the checkpoint at record " + cp.seq() + " belongs to another log: " + cp.logId());
    }
    if (!cp.verifies(key)) {
      return Result.bad(
          previousSeq + 1,
          "the checkpoint at record "
              + cp.seq()
              + " has an invalid signature: it was not signed with this log's key");
    }
    if (!MessageDigest.isEqual(cp.previousSignature(), previousSignature)) {
      return Result.bad(
          previousSeq + 1,
          "the checkpoint at record "
              + cp.seq()
              + " does not follow the one before it: a checkpoint was removed or reordered");
    }
    if (cp.seq() <= previousSeq) {
      return Result.bad(
          Math.max(1, cp.seq()),
          "checkpoints go back from record " + previousSeq + " to record " + cp.seq());
    }
    if (cp.wallTimeMillis() < previousTime) {
      return Result.bad(
          previousSeq + 1,
          "the checkpoint at record "
              + cp.seq()
              + " is dated before the one at record "
              + previousSeq
              + ": the writer's clock went back or the checkpoints were forged");
    }
    return null;
  }

  /**
   * Starts verifying log {@code logId} against its {@code checkpoints}, in order, signed by {@code
   * key}. A problem with the checkpoints themselves is reported by {@link #finish} (and makes
   * {@link #accept} return false).
   */
  public static ChainVerifier start(String logId, List<Checkpoint> checkpoints, PublicKey key) {
    return new ChainVerifier(logId, checkpoints, key);
  }

  /** Verifies {@code records} of log {@code logId} against the witness's {@code checkpoints}. */
  public static Result verify(
      String logId, List<ChainedRecord> records, List<Checkpoint> checkpoints, PublicKey key) {
    ChainVerifier verifier = start(logId, checkpoints, key);
    for (ChainedRecord r : records) {
      if (!verifier.accept(r)) {
        break;
      }
    }
    return verifier.finish();
  }

  /** The sequence number the next record must have. */
  public long expectedSeq() {
    return expected;
  }

  /** The chain hash after the last accepted record (the genesis hash before the first). */
  public byte[] hash() {
    return hash.clone();
  }

  /** True if nothing is wrong so far. */
  public boolean ok() {
    return failure == null;
  }

  /**
   * Checks the next record; false once something is wrong (further records are then ignored, and
   * {@link #finish} names the problem).
   */
  public boolean accept(ChainedRecord r) {
    if (failure != null) {
      return false;
    }
    if (r.seq() != expected) {
      failure =
          Result.bad(
              expected,
              r.seq() > expected
                  ? (r.seq() == expected + 1
                      ? "record " + expected + " is missing (the next one is " + r.seq() + ")"
                      : "records "
                          + expected
                          + " to "
                          + (r.seq() - 1)
                          + " are missing (the next one is "
                          + r.seq()
                          + ")")
                  : "record "
                      + r.seq()
                      + " appears again or out of order where record "
                      + expected
                      + " should be");
      return false;
    }
    byte[] h = AuditChain.next(hash, r.seq(), r.payload());
    if (!MessageDigest.isEqual(h, r.hash())) {
      failure = Result.bad(r.seq(), "record " + r.seq() + " was altered: its hash does not match");
      return false;
    }
    Checkpoint cp = bySeq.get(r.seq());
    if (cp != null) {
      if (!MessageDigest.isEqual(h, cp.hash())) {
        failure =
            Result.bad(
                lastGoodCheckpoint + 1,
                "the log up to record "
                    + r.seq()
                    + " differs from its signed checkpoint: a record after "
                    + (lastGoodCheckpoint == 0
                        ? "the start"
                        : "record " + lastGoodCheckpoint + " (the last one that matches)")
                    + " was rewritten, with the chain recomputed");
        return false;
      }
      lastGoodCheckpoint = r.seq();
    }
    hash = h;
    expected++;
    return true;
  }

  /**
   * Reports a problem found outside the chain (a damaged frame, a missing file) at record {@code
   * seq}, unless an earlier one was found already.
   */
  public void fail(long seq, String reason) {
    if (failure == null) {
      failure = Result.bad(seq, reason);
    }
  }

  /** The verdict, once every record has been accepted. */
  public Result finish() {
    if (failure != null) {
      return failure;
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
    return Result.intactResult();
  }
}
