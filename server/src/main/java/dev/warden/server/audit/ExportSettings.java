package dev.warden.server.audit;

import java.time.Duration;
import java.util.Objects;

/**
 * How the exporters pace themselves.
 *
 * @param webhookBatch the most records a webhook receives in one request
 * @param fileBatch the most records appended to a JSON lines file (or standard output) at once:
 *     each batch costs an fsync of the file and of the cursor, so files take larger ones
 * @param pollInterval how often a sink looks for new records when nothing woke it (the feed wakes
 *     it at once after each durable batch; polling only covers a missed wake-up)
 * @param initialBackoff the wait after a first failed delivery; it doubles with each further
 *     failure
 * @param maxBackoff the longest wait between attempts
 * @param requestTimeout how long a webhook may take to answer
 */
public record ExportSettings(
    int webhookBatch,
    int fileBatch,
    Duration pollInterval,
    Duration initialBackoff,
    Duration maxBackoff,
    Duration requestTimeout) {
  public ExportSettings {
    if (webhookBatch < 1 || fileBatch < 1) {
      throw new IllegalArgumentException("batch sizes must be positive");
    }
    for (Duration d :
        new Duration[] {
          Objects.requireNonNull(pollInterval, "pollInterval"),
          Objects.requireNonNull(initialBackoff, "initialBackoff"),
          Objects.requireNonNull(maxBackoff, "maxBackoff"),
          Objects.requireNonNull(requestTimeout, "requestTimeout")
        }) {
      if (!d.isPositive()) {
        throw new IllegalArgumentException("durations must be positive");
      }
    }
    if (maxBackoff.compareTo(initialBackoff) < 0) {
      throw new IllegalArgumentException("maxBackoff must not be less than initialBackoff");
    }
  }

  /**
   * 500 records a webhook request, 5000 a file append, a 1 s poll, backoff from 200 ms doubling to
   * 30 s, 10 s timeout.
   */
  public static ExportSettings defaults() {
    return new ExportSettings(
        500,
        5000,
        Duration.ofSeconds(1),
        Duration.ofMillis(200),
        Duration.ofSeconds(30),
        Duration.ofSeconds(10));
  }
}
