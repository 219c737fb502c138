package dev.warden.core.audit;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.util.Arrays;
import java.util.Objects;

/**
 * A signed statement that log {@code logId} held {@code seq} records ending in chain hash {@code
 * hash} at {@code wallTimeMillis}, chained to the previous checkpoint's signature (CloudTrail
 * digest style), signed with Ed25519. Kept by a witness the writer can append to but not rewrite,
 * it is what makes a rewritten chain, a truncated tail or a rollback detectable.
 *
 * @param previousSignature the previous checkpoint's signature, empty for the first
 */
public record Checkpoint(
    String logId,
    long seq,
    byte[] hash,
    long wallTimeMillis,
    byte[] previousSignature,
    byte[] signature) {
  public Checkpoint {
    Objects.requireNonNull(logId, "logId");
    hash = hash.clone();
    previousSignature = previousSignature.clone();
    signature = signature.clone();
  }

  /** Signs a checkpoint with {@code key} (Ed25519). */
  public static Checkpoint sign(
      PrivateKey key,
      String logId,
      long seq,
      byte[] hash,
      long wallTimeMillis,
      byte[] previousSignature) {
    try {
      Signature ed = Signature.getInstance("Ed25519");
      ed.initSign(key);
      ed.update(signed(logId, seq, hash, wallTimeMillis, previousSignature));
      return new Checkpoint(logId, seq, hash, wallTimeMillis, previousSignature, ed.sign());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot sign a checkpoint: " + e.getMessage(), e);
    }
  }

  /** True if {@link #signature} is {@code key}'s signature over this checkpoint's fields. */
  public boolean verifies(PublicKey key) {
    try {
      Signature ed = Signature.getInstance("Ed25519");
      ed.initVerify(key);
      ed.update(signed(logId, seq, hash, wallTimeMillis, previousSignature));
      return ed.verify(signature);
    } catch (GeneralSecurityException | IllegalArgumentException e) {
      return false;
    }
  }

  /** The signed bytes: every field, length-prefixed, after a domain string. */
  private static byte[] signed(
      String logId, long seq, byte[] hash, long wallTimeMillis, byte[] previousSignature) {
    byte[] id = logId.getBytes(StandardCharsets.UTF_8);
    byte[] domain = "warden-audit-checkpoint-v1".getBytes(StandardCharsets.US_ASCII);
    return ByteBuffer.allocate(
            domain.length + 4 + id.length + 8 + 4 + hash.length + 8 + 4 + previousSignature.length)
        .put(domain)
        .putInt(id.length)
        .put(id)
        .putLong(seq)
        .putInt(hash.length)
        .put(hash)
        .putLong(wallTimeMillis)
        .putInt(previousSignature.length)
        .put(previousSignature)
        .array();
  }

  @Override
  public byte[] hash() {
    return hash.clone();
  }

  @Override
  public byte[] previousSignature() {
    return previousSignature.clone();
  }

  @Override
  public byte[] signature() {
    return signature.clone();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Checkpoint c
        && c.logId.equals(logId)
        && c.seq == seq
        && Arrays.equals(c.hash, hash)
        && c.wallTimeMillis == wallTimeMillis
        && Arrays.equals(c.previousSignature, previousSignature)
        && Arrays.equals(c.signature, signature);
  }

  @Override
  public int hashCode() {
    return Objects.hash(logId, seq, Arrays.hashCode(hash), wallTimeMillis)
        ^ Arrays.hashCode(signature);
  }

  @Override
  public String toString() {
    return "Checkpoint[" + logId + " at seq " + seq + "]";
  }
}
