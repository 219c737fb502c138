package dev.warden.core.audit;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The verifier against forged logs (THREATS AD05): each kind of tampering, at chosen and at random
 * positions, is found, and the first bad record is named.
 */
class ChainVerifierTest {
  static final String LOG = "warden-test-log";
  static final KeyPair KEY = keys();
  static final KeyPair OTHER = keys();

  static KeyPair keys() {
    try {
      return KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new AssertionError(e);
    }
  }

  static List<byte[]> payloads(int n) {
    List<byte[]> p = new ArrayList<>();
    for (int i = 1; i <= n; i++) {
      p.add(("{\"seq\":" + i + ",\"sql\":\"SELECT " + i + "\"}").getBytes(StandardCharsets.UTF_8));
    }
    return p;
  }

  /**
   * Checkpoints every {@code every} records and at the last one, as an honest writer signs them.
   */
  static List<Checkpoint> checkpoints(List<ChainedRecord> records, int every, KeyPair key) {
    List<Checkpoint> cps = new ArrayList<>();
    byte[] previous = new byte[0];
    for (ChainedRecord r : records) {
      if (r.seq() % every == 0 || r.seq() == records.size()) {
        Checkpoint cp =
            Checkpoint.sign(key.getPrivate(), LOG, r.seq(), r.hash(), r.seq(), previous);
        cps.add(cp);
        previous = cp.signature();
      }
    }
    return cps;
  }

  static ChainVerifier.Result verify(List<ChainedRecord> records, List<Checkpoint> cps) {
    return ChainVerifier.verify(LOG, records, cps, KEY.getPublic());
  }

  final List<ChainedRecord> honest = AuditChain.chain(LOG, payloads(100));
  final List<Checkpoint> witness = checkpoints(honest, 10, KEY);

  @Test
  void anHonestLogIsIntact() {
    assertThat(verify(honest, witness).intact()).isTrue();
    assertThat(verify(honest, List.of()).intact()).isTrue();
    assertThat(verify(List.of(), List.of()).intact()).isTrue();
  }

  @Test
  void aRecordAlteredInPlaceIsNamed() {
    List<ChainedRecord> log = new ArrayList<>(honest);
    ChainedRecord r = log.get(41);
    byte[] p = r.payload();
    p[3] ^= 1;
    log.set(41, new ChainedRecord(r.seq(), p, r.hash()));
    ChainVerifier.Result result = verify(log, witness);
    assertThat(result.intact()).isFalse();
    assertThat(result.firstBadSeq()).isEqualTo(42);
    assertThat(result.reason()).contains("altered");
  }

  @Test
  void aRemovedInsertedDuplicatedOrMovedRecordIsNamed() {
    List<ChainedRecord> removed = new ArrayList<>(honest);
    removed.remove(19);
    assertThat(verify(removed, witness)).extracting(r -> r.firstBadSeq()).isEqualTo(20L);

    List<ChainedRecord> duplicated = new ArrayList<>(honest);
    duplicated.add(30, honest.get(29));
    assertThat(verify(duplicated, witness).firstBadSeq()).isEqualTo(31);

    List<ChainedRecord> swapped = new ArrayList<>(honest);
    swapped.set(50, honest.get(51));
    swapped.set(51, honest.get(50));
    assertThat(verify(swapped, witness).firstBadSeq()).isEqualTo(51);
  }

  @Test
  void aRewrittenLogWithItsChainRecomputedIsCaughtByTheCheckpoints() {
    List<byte[]> forged = payloads(100);
    forged.set(54, "{\"seq\":55,\"sql\":\"SELECT harmless\"}".getBytes(StandardCharsets.UTF_8));
    List<ChainedRecord> rewritten = AuditChain.chain(LOG, forged); // consistent, without the key
    ChainVerifier.Result result = verify(rewritten, witness);
    assertThat(result.intact()).isFalse();
    assertThat(result.firstBadSeq()).isEqualTo(51); // after the last checkpoint that matches (50)
    assertThat(result.reason()).contains("signed checkpoint");
  }

  @Test
  void aTruncatedTailIsCaught() {
    ChainVerifier.Result result = verify(honest.subList(0, 73), witness);
    assertThat(result.intact()).isFalse();
    assertThat(result.firstBadSeq()).isEqualTo(74);
    assertThat(result.reason()).contains("cut off");
  }

  @Test
  void forgedRemovedOrReorderedCheckpointsAreCaught() {
    List<Checkpoint> foreign = checkpoints(honest, 10, OTHER);
    assertThat(verify(honest, foreign).reason()).contains("invalid signature");

    List<Checkpoint> missing = new ArrayList<>(witness);
    missing.remove(4);
    assertThat(verify(honest, missing).reason()).contains("removed or reordered");

    // Rolling the log and the witness's copy back to an older state: the witness keeps what was
    // appended to it, so a log cut back to an earlier checkpoint still fails against it.
    List<ChainedRecord> rolledBack = honest.subList(0, 60);
    assertThat(verify(rolledBack, witness).intact()).isFalse();
  }

  /** Checkpoints re-signed by the key holder with {@code wallTime(i)} as the i-th time. */
  static List<Checkpoint> resigned(
      List<Checkpoint> cps, java.util.function.IntToLongFunction time) {
    List<Checkpoint> out = new ArrayList<>();
    byte[] previous = new byte[0];
    for (int i = 0; i < cps.size(); i++) {
      Checkpoint c = cps.get(i);
      Checkpoint s =
          Checkpoint.sign(KEY.getPrivate(), LOG, c.seq(), c.hash(), time.applyAsLong(i), previous);
      out.add(s);
      previous = s.signature();
    }
    return out;
  }

  @Test
  void checkpointsWhoseClockGoesBackAreRefusedButAnEqualTimeIsNot() {
    List<Checkpoint> back = resigned(witness, i -> i == 4 ? 1 : 1000L * i);
    ChainVerifier.Result r = verify(honest, back);
    assertThat(r.intact()).isFalse();
    assertThat(r.firstBadSeq()).isEqualTo(41); // after the checkpoint before the one dated back
    assertThat(r.reason()).contains("dated before the one at record 40");
    assertThat(verify(honest, resigned(witness, i -> 5000)).intact()).isTrue();
  }

  @Test
  void aCheckpointRepeatedOrGoingBackInSequenceIsRefused() {
    List<Checkpoint> twice = new ArrayList<>(witness.subList(0, 3));
    twice.add(witness.get(2));
    List<Checkpoint> same = resigned(twice, i -> i);
    assertThat(verify(honest, same).reason()).contains("checkpoints go back from record 30");
  }

  @Test
  void aGapIsNamedWithTheRecordsMissingAndRecordsAreVerifiedOneAtATime() {
    List<ChainedRecord> gap = new ArrayList<>(honest);
    gap.subList(40, 43).clear();
    ChainVerifier.Result r = verify(gap, List.of());
    assertThat(r.firstBadSeq()).isEqualTo(41);
    assertThat(r.reason()).isEqualTo("records 41 to 43 are missing (the next one is 44)");

    ChainVerifier v = ChainVerifier.start(LOG, witness, KEY.getPublic());
    for (ChainedRecord rec : honest.subList(0, 50)) {
      assertThat(v.accept(rec)).isTrue();
    }
    assertThat(v.expectedSeq()).isEqualTo(51);
    assertThat(v.hash()).isEqualTo(honest.get(49).hash());
    v.fail(51, "segment 3 is gone");
    assertThat(v.accept(honest.get(50))).isFalse();
    assertThat(v.finish()).isEqualTo(ChainVerifier.Result.bad(51, "segment 3 is gone"));
  }

  @Test
  void everyRandomTamperingIsFound() {
    Random random = new Random(20261127);
    // Ed25519 in the JDK takes milliseconds per signature on a busy machine: few checkpoints.
    for (int i = 0; i < 150; i++) {
      int n = 20 + random.nextInt(80);
      List<byte[]> payloads = payloads(n);
      List<ChainedRecord> log = new ArrayList<>(AuditChain.chain(LOG, payloads));
      List<Checkpoint> cps = checkpoints(log, 10 + random.nextInt(20), KEY);
      int at = random.nextInt(n);
      String kind;
      switch (random.nextInt(6)) {
        case 0 -> {
          kind = "flip";
          ChainedRecord r = log.get(at);
          byte[] p = r.payload();
          p[random.nextInt(p.length)] ^= (byte) (1 << random.nextInt(8));
          log.set(at, new ChainedRecord(r.seq(), p, r.hash()));
        }
        case 1 -> {
          kind = "delete";
          log.remove(at);
        }
        case 2 -> {
          kind = "duplicate";
          log.add(at, log.get(at));
        }
        case 3 -> {
          kind = "swap";
          int other = at == n - 1 ? at - 1 : at + 1;
          ChainedRecord a = log.get(at);
          log.set(at, log.get(other));
          log.set(other, a);
        }
        case 4 -> {
          kind = "truncate";
          log = new ArrayList<>(log.subList(0, at));
        }
        default -> {
          kind = "rewrite";
          payloads.set(at, ("{\"forged\":" + i + "}").getBytes(StandardCharsets.UTF_8));
          log = new ArrayList<>(AuditChain.chain(LOG, payloads));
        }
      }
      ChainVerifier.Result result = verify(log, cps);
      assertThat(result.intact()).as("%s at %d of %d (iteration %d)", kind, at, n, i).isFalse();
      // The first position where the log deviates: a duplicate of record k placed before it
      // deviates
      // only at the position after (the copy itself is in its right place).
      long lastAcceptable = kind.equals("duplicate") ? at + 2 : at + 1;
      assertThat(result.firstBadSeq())
          .as("%s at %d of %d: %s", kind, at, n, result.reason())
          .isBetween(1L, lastAcceptable);
    }
  }
}
