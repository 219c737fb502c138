package dev.warden.server.api;

import dev.warden.core.session.EnvironmentCounters;
import dev.warden.core.session.SessionRegistry;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The console overview's figures over time: per environment and minute for the last hour, how many
 * statements there were, how many were refused and how many values were masked.
 *
 * <p>They are read from the counters the proxy keeps anyway ({@link EnvironmentCounters}: a
 * LongAdder increment per statement), every {@link #SAMPLE_SECONDS} seconds, and what changed since
 * the last reading is added to the minute it was read in. Nothing is done per statement here: an
 * earlier version read every audit record as it was written, and a profile of the point-select
 * benchmark showed that reading costing about a quarter of Warden's sampled CPU.
 */
final class ActivityStats implements AutoCloseable {
  /** Minutes kept. */
  static final int MINUTES = 60;

  /** How often the counters are read. */
  static final long SAMPLE_SECONDS = 5;

  /** One environment's counts in one minute. */
  static final class Minute {
    final long epochMinute;
    long statements;
    long denied;
    long masked;

    Minute(long epochMinute) {
      this.epochMinute = epochMinute;
    }
  }

  /** What the counters said at the last reading. */
  private record Reading(long statements, long denied, long masked) {}

  private final SessionRegistry sessions;
  private final Clock clock;
  private final ScheduledExecutorService sampler;

  // Guarded by this.
  private final Map<String, Reading> last = new HashMap<>();
  private final Map<String, ArrayDeque<Minute>> minutes = new HashMap<>();

  /** Reads {@code sessions}' counters from now on, every {@link #SAMPLE_SECONDS} seconds. */
  ActivityStats(SessionRegistry sessions, Clock clock) {
    this(sessions, clock, true);
  }

  ActivityStats(SessionRegistry sessions, Clock clock, boolean scheduled) {
    this.sessions = Objects.requireNonNull(sessions, "sessions");
    this.clock = Objects.requireNonNull(clock, "clock");
    // The starting point: what was counted before is not this hour's.
    for (EnvironmentCounters c : sessions.counters()) {
      last.put(c.environment(), reading(c));
    }
    if (scheduled) {
      this.sampler =
          Executors.newSingleThreadScheduledExecutor(
              Thread.ofPlatform().daemon().name("warden-activity").factory());
      sampler.scheduleAtFixedRate(this::sample, SAMPLE_SECONDS, SAMPLE_SECONDS, TimeUnit.SECONDS);
    } else {
      this.sampler = null;
    }
  }

  /** Reads the counters and adds what changed to the current minute. */
  synchronized void sample() {
    long minute = clock.instant().getEpochSecond() / 60;
    for (EnvironmentCounters c : sessions.counters()) {
      Reading now = reading(c);
      Reading before = last.put(c.environment(), now);
      if (before == null) {
        before = new Reading(0, 0, 0); // counters made since the last reading: all of it is new
      }
      long statements = now.statements() - before.statements();
      long refused = now.denied() - before.denied();
      long masked = now.masked() - before.masked();
      if (statements == 0 && refused == 0 && masked == 0) {
        continue;
      }
      Minute m = minute(c.environment(), minute);
      m.statements += statements;
      m.denied += refused;
      m.masked += masked;
    }
  }

  private static Reading reading(EnvironmentCounters c) {
    long denied = c.statementsDenied();
    return new Reading(
        c.statementsAllowed() + denied + c.statementsObserved(), denied, c.maskedValues());
  }

  /** The bucket of {@code env} for {@code epochMinute}, dropping buckets older than the hour. */
  private Minute minute(String env, long epochMinute) {
    ArrayDeque<Minute> ring = minutes.computeIfAbsent(env, e -> new ArrayDeque<>());
    Minute newest = ring.peekLast();
    if (newest != null && newest.epochMinute >= epochMinute) {
      return newest; // (a clock set back: counted in the newest minute)
    }
    Minute m = new Minute(epochMinute);
    ring.addLast(m);
    while (ring.peekFirst().epochMinute <= epochMinute - MINUTES) {
      ring.removeFirst();
    }
    return m;
  }

  /**
   * The figures of {@code environment} (null: all) over the last {@link #MINUTES} minutes up to
   * now, read fresh from the counters.
   */
  synchronized Map<String, Object> overview(String environment) {
    sample();
    Instant now = clock.instant();
    long current = now.getEpochSecond() / 60;
    long first = current - MINUTES + 1;
    long[] statements = new long[MINUTES];
    long[] denied = new long[MINUTES];
    long[] masked = new long[MINUTES];
    for (Map.Entry<String, ArrayDeque<Minute>> e : minutes.entrySet()) {
      if (environment != null && !e.getKey().equals(environment)) {
        continue;
      }
      for (Minute m : e.getValue()) {
        int i = (int) (m.epochMinute - first);
        if (i < 0 || i >= MINUTES) {
          continue;
        }
        statements[i] += m.statements;
        denied[i] += m.denied;
        masked[i] += m.masked;
      }
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("environment", environment);
    out.put("since", Instant.ofEpochSecond(first * 60).toString());
    out.put("now", now.toString());
    List<Object> series = new ArrayList<>(MINUTES);
    long totalStatements = 0;
    long totalDenied = 0;
    long totalMasked = 0;
    for (int i = 0; i < MINUTES; i++) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("minute", Instant.ofEpochSecond((first + i) * 60).toString());
      m.put("statements", statements[i]);
      m.put("denied", denied[i]);
      m.put("masked", masked[i]);
      series.add(m);
      totalStatements += statements[i];
      totalDenied += denied[i];
      totalMasked += masked[i];
    }
    out.put("minutes", series);
    out.put("statements", totalStatements);
    out.put("denied", totalDenied);
    out.put("masked", totalMasked);
    return out;
  }

  @Override
  public void close() {
    if (sampler != null) {
      sampler.shutdownNow();
    }
  }
}
