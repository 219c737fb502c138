package dev.warden.core.audit;

import java.util.Arrays;
import java.util.HexFormat;
import java.util.Objects;

/**
 * One record of a hash-chained audit log, as stored: its sequence number, its payload (the record's
 * canonical encoding) and the chain hash after it.
 *
 * @param seq 1 for the first record, then each record one more
 * @param payload the encoded record, hashed as stored
 * @param hash {@link AuditChain#next} of the previous hash, {@code seq} and {@code payload}
 */
public record ChainedRecord(long seq, byte[] payload, byte[] hash) {
  public ChainedRecord {
    Objects.requireNonNull(payload, "payload");
    Objects.requireNonNull(hash, "hash");
    payload = payload.clone();
    hash = hash.clone();
  }

  @Override
  public byte[] payload() {
    return payload.clone();
  }

  @Override
  public byte[] hash() {
    return hash.clone();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ChainedRecord r
        && r.seq == seq
        && Arrays.equals(r.payload, payload)
        && Arrays.equals(r.hash, hash);
  }

  @Override
  public int hashCode() {
    return 31 * (31 * Long.hashCode(seq) + Arrays.hashCode(payload)) + Arrays.hashCode(hash);
  }

  @Override
  public String toString() {
    return "ChainedRecord[seq="
        + seq
        + ", "
        + payload.length
        + " bytes, hash="
        + HexFormat.of().formatHex(hash, 0, 8)
        + "…]";
  }
}
