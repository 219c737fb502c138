package dev.warden.core.identity;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

class AuthThrottleTest {
  private final MutableClock clock = new MutableClock(Instant.parse("2026-03-01T09:00:00Z"));
  private final AuthThrottle throttle = new AuthThrottle(clock);

  @Test
  void firstThreeFailuresAreFreeThenTheDelayDoublesUpToThirtySeconds() {
    List<Duration> delays = new ArrayList<>();
    for (int attempt = 0; attempt < 10; attempt++) {
      delays.add(throttle.delayFor("alice", "203.0.113.7"));
      throttle.failure("alice", "203.0.113.7");
    }

    assertThat(delays)
        .containsExactly(
            Duration.ZERO,
            Duration.ZERO,
            Duration.ZERO,
            Duration.ofSeconds(1),
            Duration.ofSeconds(2),
            Duration.ofSeconds(4),
            Duration.ofSeconds(8),
            Duration.ofSeconds(16),
            Duration.ofSeconds(30),
            Duration.ofSeconds(30));
  }

  @Test
  void otherSourcesAndOtherUsersAreNotSlowedDown() {
    fail("alice", "203.0.113.7", 20);

    assertThat(throttle.delayFor("alice", "203.0.113.7")).isEqualTo(Duration.ofSeconds(30));
    assertThat(throttle.delayFor("alice", "198.51.100.1")).isZero();
    assertThat(throttle.delayFor("bob", "203.0.113.7")).isZero();
  }

  @Test
  void successClearsThePair() {
    fail("alice", "203.0.113.7", 5);

    throttle.success("alice", "203.0.113.7");

    assertThat(throttle.delayFor("alice", "203.0.113.7")).isZero();
  }

  @Test
  void failuresAreForgottenAfterFifteenQuietMinutes() {
    fail("alice", "203.0.113.7", 5);

    clock.advance(Duration.ofMinutes(15).minusSeconds(1));
    assertThat(throttle.delayFor("alice", "203.0.113.7")).isEqualTo(Duration.ofSeconds(4));

    clock.advance(Duration.ofSeconds(1));
    assertThat(throttle.delayFor("alice", "203.0.113.7")).isZero();
    throttle.failure("alice", "203.0.113.7");
    assertThat(throttle.delayFor("alice", "203.0.113.7")).isZero();
  }

  @Test
  void theWindowRunsFromTheLastFailure() {
    fail("alice", "203.0.113.7", 3);
    clock.advance(Duration.ofMinutes(10));
    throttle.failure("alice", "203.0.113.7");
    clock.advance(Duration.ofMinutes(10));

    assertThat(throttle.delayFor("alice", "203.0.113.7")).isEqualTo(Duration.ofSeconds(2));
  }

  @Test
  void customSettingsAreHonoured() {
    AuthThrottle strict =
        new AuthThrottle(
            clock, 0, Duration.ofMillis(100), Duration.ofMillis(250), Duration.ofMinutes(1));

    assertThat(strict.delayFor("u", "s")).isZero();
    strict.failure("u", "s");
    assertThat(strict.delayFor("u", "s")).isEqualTo(Duration.ofMillis(100));
    strict.failure("u", "s");
    assertThat(strict.delayFor("u", "s")).isEqualTo(Duration.ofMillis(200));
    strict.failure("u", "s");
    assertThat(strict.delayFor("u", "s")).isEqualTo(Duration.ofMillis(250));
  }

  @Test
  void manyFailuresNeitherOverflowNorLoopLong() {
    AuthThrottle t =
        new AuthThrottle(clock, 0, Duration.ofNanos(1), Duration.ofDays(3650), Duration.ofDays(1));
    for (int i = 0; i < 200; i++) {
      t.failure("u", "s");
    }

    assertThat(t.delayFor("u", "s")).isEqualTo(Duration.ofDays(3650));
  }

  @Test
  void memoryIsBoundedByEvictingTheOldestPairs() {
    AuthThrottle small =
        new AuthThrottle(
            clock, 0, Duration.ofSeconds(1), Duration.ofSeconds(30), Duration.ofMinutes(15), 100);
    small.failure("victim", "203.0.113.7");
    for (int i = 0; i < 1_000; i++) {
      small.failure("made-up-" + i, "198.51.100.1");
    }

    assertThat(small.size()).isEqualTo(100);
    assertThat(small.delayFor("made-up-999", "198.51.100.1")).isEqualTo(Duration.ofSeconds(1));
    // The price of the bound: a flood forgets the oldest pairs, including a throttled one.
    assertThat(small.delayFor("made-up-0", "198.51.100.1")).isZero();
    assertThat(small.delayFor("victim", "203.0.113.7")).isZero();
  }

  @Test
  void defaultBoundIsOneHundredThousandPairs() {
    for (int i = 0; i < 100_010; i++) {
      throttle.failure("u" + i, "s");
    }

    assertThat(throttle.size()).isEqualTo(100_000);
  }

  @Test
  void concurrentFailuresAreAllCounted() throws Exception {
    AuthThrottle t =
        new AuthThrottle(
            clock, 1000, Duration.ofSeconds(1), Duration.ofDays(1), Duration.ofDays(1));
    int threads = 8;
    int perThread = 500;
    CountDownLatch start = new CountDownLatch(1);
    try (ExecutorService pool = Executors.newFixedThreadPool(threads)) {
      List<Future<?>> futures = new ArrayList<>();
      for (int i = 0; i < threads; i++) {
        futures.add(
            pool.submit(
                () -> {
                  start.await();
                  for (int j = 0; j < perThread; j++) {
                    t.failure("alice", "203.0.113.7");
                    t.delayFor("alice", "203.0.113.7");
                    t.failure("other" + j, "203.0.113.7");
                  }
                  return null;
                }));
      }
      start.countDown();
      for (Future<?> f : futures) {
        f.get();
      }
    }

    // 4000 failures with 1000 free: base doubled 3000 times, which saturates at the max.
    assertThat(t.delayFor("alice", "203.0.113.7")).isEqualTo(Duration.ofDays(1));
    AuthThrottle exact =
        new AuthThrottle(
            clock, 3999, Duration.ofSeconds(1), Duration.ofDays(1), Duration.ofDays(1));
    assertThat(countAfter(exact, 3999)).isEqualTo(Duration.ofSeconds(1));
    assertThat(t.size()).isEqualTo(1 + perThread);
  }

  private static Duration countAfter(AuthThrottle t, int failures) {
    for (int i = 0; i < failures; i++) {
      t.failure("x", "y");
    }
    return t.delayFor("x", "y");
  }

  private void fail(String user, String source, int times) {
    for (int i = 0; i < times; i++) {
      throttle.failure(user, source);
    }
  }

  /** A clock that moves only when told to. */
  static final class MutableClock extends Clock {
    private volatile Instant now;

    MutableClock(Instant now) {
      this.now = now;
    }

    void advance(Duration d) {
      now = now.plus(d);
    }

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now;
    }
  }
}
