package dev.warden.core.audit;

import java.lang.ref.WeakReference;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.Function;

/**
 * A small, bounded cache keyed by object identity, for values derived from immutable objects that
 * the proxy hands out again and again: a session's {@code SessionContext} (one per session) and a
 * statement's {@code Analysis} (one per statement shape, shared by the analysis cache). {@link
 * AuditEncoder} keeps their pre-encoded JSON here so that a repeated statement does not sort and
 * escape the same names for every record.
 *
 * <p>Direct-mapped: a key's slot is chosen by its identity hash and a newcomer replaces whatever
 * was in its slot. A hit is one array read and one reference comparison, with no allocation and no
 * lock, which matters on the audit writer where every record passes (a general cache such as
 * Caffeine costs a lookup key and its own bookkeeping per read, and is not a dependency of core). A
 * collision only costs a recomputation, since the value is a pure function of an immutable key.
 * Keys are held weakly, so a cached session does not outlive it; the number of slots bounds the
 * memory.
 *
 * <p>Thread-safe: slots hold immutable entries, published with release and read with acquire
 * semantics; two threads missing the same key at once both compute it, and either result is right.
 */
final class IdentityCache<K, V> {
  private final AtomicReferenceArray<Entry<K, V>> slots;
  private final int mask;

  /**
   * @param slots how many entries it holds at most: a power of two
   */
  IdentityCache(int slots) {
    if (slots < 1 || Integer.bitCount(slots) != 1) {
      throw new IllegalArgumentException("the number of slots must be a power of two: " + slots);
    }
    this.slots = new AtomicReferenceArray<>(slots);
    this.mask = slots - 1;
  }

  /** The value for {@code key}, computed by {@code compute} when it is not cached. */
  V get(K key, Function<? super K, ? extends V> compute) {
    int h = System.identityHashCode(key);
    int slot = (h ^ (h >>> 16)) & mask;
    Entry<K, V> e = slots.getAcquire(slot);
    if (e != null && e.refersTo(key)) {
      return e.value;
    }
    V value = compute.apply(key);
    slots.setRelease(slot, new Entry<>(key, value));
    return value;
  }

  /** A slot's content: the key, weakly, and its value. */
  private static final class Entry<K, V> extends WeakReference<K> {
    final V value;

    Entry(K key, V value) {
      super(key);
      this.value = value;
    }
  }
}
