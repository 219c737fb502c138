package dev.warden.core.identity;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Exponential backoff on failed logins, per (user, source address) (THREATS AU11). Keying on the
 * pair means an attacker at one address slows only their own guesses: the same user logging in from
 * elsewhere is not affected, and there is no global lockout for anyone to trigger.
 *
 * <p>The caller asks {@link #delayFor} when an attempt arrives and holds the <em>answer</em> to
 * that attempt, success or failure, for that long (without blocking its thread), then reports
 * {@link #failure} or {@link #success}. Holding successes too matters: an answer that came back
 * fast only when the password was right would let a guesser stop waiting for the others.
 *
 * <p>Memory is bounded: at most {@code maxEntries} pairs are remembered and the least recently
 * failed is forgotten first, so a flood of made-up names cannot exhaust the heap. Thread-safe.
 */
public final class AuthThrottle {
  static final int DEFAULT_MAX_ENTRIES = 100_000;

  private final Clock clock;
  private final int freeFailures;
  private final Duration base;
  private final Duration max;
  private final Duration forgetAfter;
  private final Map<Key, Failures> failures;

  /** First 3 failures free, then 1 s doubling up to 30 s; forgotten after 15 quiet minutes. */
  public AuthThrottle(Clock clock) {
    this(clock, 3, Duration.ofSeconds(1), Duration.ofSeconds(30), Duration.ofMinutes(15));
  }

  public AuthThrottle(
      Clock clock, int freeFailures, Duration base, Duration max, Duration forgetAfter) {
    this(clock, freeFailures, base, max, forgetAfter, DEFAULT_MAX_ENTRIES);
  }

  AuthThrottle(
      Clock clock,
      int freeFailures,
      Duration base,
      Duration max,
      Duration forgetAfter,
      int maxEntries) {
    this.clock = Objects.requireNonNull(clock, "clock");
    this.base = Objects.requireNonNull(base, "base");
    this.max = Objects.requireNonNull(max, "max");
    this.forgetAfter = Objects.requireNonNull(forgetAfter, "forgetAfter");
    if (freeFailures < 0) {
      throw new IllegalArgumentException("freeFailures must not be negative");
    }
    if (base.isNegative() || max.compareTo(base) < 0) {
      throw new IllegalArgumentException("need 0 <= base <= max");
    }
    if (!forgetAfter.isPositive()) {
      throw new IllegalArgumentException("forgetAfter must be positive");
    }
    if (maxEntries < 1) {
      throw new IllegalArgumentException("maxEntries must be positive");
    }
    this.freeFailures = freeFailures;
    // Access order with an eldest-entry bound: every failure moves its pair to the young end.
    this.failures =
        new LinkedHashMap<>(16, 0.75f, true) {
          @Override
          protected boolean removeEldestEntry(Map.Entry<Key, Failures> eldest) {
            return size() > maxEntries;
          }
        };
  }

  /** How long to hold the answer to an attempt by {@code user} from {@code sourceAddress}. */
  public Duration delayFor(String user, String sourceAddress) {
    Key key = new Key(user, sourceAddress);
    Instant now = clock.instant();
    int count;
    synchronized (this) {
      Failures f = failures.get(key);
      if (f == null) {
        return Duration.ZERO;
      }
      if (expired(f, now)) {
        failures.remove(key);
        return Duration.ZERO;
      }
      count = f.count();
    }
    return delay(count);
  }

  /** Records a failed attempt. */
  public void failure(String user, String sourceAddress) {
    Key key = new Key(user, sourceAddress);
    Instant now = clock.instant();
    synchronized (this) {
      Failures f = failures.get(key);
      int count = f == null || expired(f, now) ? 0 : f.count();
      // Saturates: the delay stopped growing long before, and the count must not wrap around.
      failures.put(key, new Failures(count == Integer.MAX_VALUE ? count : count + 1, now));
    }
  }

  /** Records a successful attempt, which clears the pair's failures. */
  public void success(String user, String sourceAddress) {
    Key key = new Key(user, sourceAddress);
    synchronized (this) {
      failures.remove(key);
    }
  }

  /** Number of pairs remembered, for tests and metrics. */
  synchronized int size() {
    return failures.size();
  }

  private boolean expired(Failures f, Instant now) {
    return !now.isBefore(f.last().plus(forgetAfter));
  }

  /**
   * No delay before the first failure whatever {@code freeFailures} says, so 0 and 1 free failures
   * both mean that the attempt after the first failure waits {@code base}.
   */
  private Duration delay(int count) {
    int firstDelayed = Math.max(freeFailures, 1);
    if (count < firstDelayed || base.isZero()) {
      return Duration.ZERO;
    }
    Duration d = base;
    for (int doublings = count - firstDelayed; doublings > 0 && d.compareTo(max) < 0; doublings--) {
      d = d.multipliedBy(2);
    }
    return d.compareTo(max) > 0 ? max : d;
  }

  private record Key(String user, String source) {
    Key {
      Objects.requireNonNull(user, "user");
      Objects.requireNonNull(source, "source");
    }
  }

  private record Failures(int count, Instant last) {}
}
