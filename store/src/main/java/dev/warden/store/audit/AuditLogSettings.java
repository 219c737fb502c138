package dev.warden.store.audit;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * How the embedded audit log behaves. {@link #defaults} gives the documented defaults; the {@code
 * with...} methods change one setting.
 *
 * @param keys the keys that sign checkpoints ({@link AuditKeys#loadOrCreate})
 * @param logId the log id for a new log, or empty for a generated one ({@code w-} and 12 hex
 *     digits); an existing log keeps its own, and refuses to open under another
 * @param segmentBytes a segment is closed and a new one started before it would grow past this
 * @param boundedWindow how soon a {@code BOUNDED} record is fsynced after it is written
 * @param minFreeBytes the log refuses records (fails closed) when its disk has less free than this,
 *     before the disk is actually full
 * @param checkpointEvery a checkpoint is signed after this many records ...
 * @param checkpointInterval ... or this long after the last one, whichever comes first (and only
 *     when there are new records)
 * @param witness a directory the checkpoints and the public key are also appended to, ideally one
 *     that another user owns (Warden may append, not rewrite) or another host mounts
 * @param probeInterval how often an unavailable log checks whether it can write again
 * @param maxQueued records accepted but not yet written beyond which appends are refused: the
 *     writer is far behind, and accepting more would only grow memory until it fails
 */
public record AuditLogSettings(
    AuditKeys keys,
    Optional<String> logId,
    long segmentBytes,
    Duration boundedWindow,
    long minFreeBytes,
    int checkpointEvery,
    Duration checkpointInterval,
    Optional<Path> witness,
    Duration probeInterval,
    int maxQueued) {
  /** 64 MiB. */
  public static final long DEFAULT_SEGMENT_BYTES = 64L << 20;

  /** 20 ms. */
  public static final Duration DEFAULT_BOUNDED_WINDOW = Duration.ofMillis(20);

  /** 64 MiB. */
  public static final long DEFAULT_MIN_FREE_BYTES = 64L << 20;

  /** The smallest segment: a header and a few records. */
  public static final long MIN_SEGMENT_BYTES = 4096;

  public AuditLogSettings {
    Objects.requireNonNull(keys, "keys");
    Objects.requireNonNull(logId, "logId");
    logId.ifPresent(Segments::checkLogId);
    if (segmentBytes < MIN_SEGMENT_BYTES) {
      throw new IllegalArgumentException(
          "an audit segment must be at least " + MIN_SEGMENT_BYTES + " bytes: " + segmentBytes);
    }
    positive(boundedWindow, "boundedWindow");
    if (minFreeBytes < 0) {
      throw new IllegalArgumentException("minFreeBytes must not be negative: " + minFreeBytes);
    }
    if (checkpointEvery < 1) {
      throw new IllegalArgumentException("checkpointEvery must be at least 1: " + checkpointEvery);
    }
    positive(checkpointInterval, "checkpointInterval");
    Objects.requireNonNull(witness, "witness");
    positive(probeInterval, "probeInterval");
    if (maxQueued < 1) {
      throw new IllegalArgumentException("maxQueued must be at least 1: " + maxQueued);
    }
  }

  private static void positive(Duration d, String name) {
    Objects.requireNonNull(d, name);
    if (!d.isPositive()) {
      throw new IllegalArgumentException(name + " must be positive: " + d);
    }
  }

  /**
   * 64 MiB segments, a 20 ms bounded window, 64 MiB kept free, a checkpoint every 1000 records or
   * second, no witness, a probe every second, at most a million records queued.
   */
  public static AuditLogSettings defaults(AuditKeys keys) {
    return new AuditLogSettings(
        keys,
        Optional.empty(),
        DEFAULT_SEGMENT_BYTES,
        DEFAULT_BOUNDED_WINDOW,
        DEFAULT_MIN_FREE_BYTES,
        1000,
        Duration.ofSeconds(1),
        Optional.empty(),
        Duration.ofSeconds(1),
        1_000_000);
  }

  public AuditLogSettings withLogId(String id) {
    return new AuditLogSettings(
        keys,
        Optional.of(id),
        segmentBytes,
        boundedWindow,
        minFreeBytes,
        checkpointEvery,
        checkpointInterval,
        witness,
        probeInterval,
        maxQueued);
  }

  public AuditLogSettings withSegmentBytes(long bytes) {
    return new AuditLogSettings(
        keys,
        logId,
        bytes,
        boundedWindow,
        minFreeBytes,
        checkpointEvery,
        checkpointInterval,
        witness,
        probeInterval,
        maxQueued);
  }

  public AuditLogSettings withBoundedWindow(Duration window) {
    return new AuditLogSettings(
        keys,
        logId,
        segmentBytes,
        window,
        minFreeBytes,
        checkpointEvery,
        checkpointInterval,
        witness,
        probeInterval,
        maxQueued);
  }

  public AuditLogSettings withMinFreeBytes(long bytes) {
    return new AuditLogSettings(
        keys,
        logId,
        segmentBytes,
        boundedWindow,
        bytes,
        checkpointEvery,
        checkpointInterval,
        witness,
        probeInterval,
        maxQueued);
  }

  public AuditLogSettings withCheckpoints(int every, Duration interval) {
    return new AuditLogSettings(
        keys,
        logId,
        segmentBytes,
        boundedWindow,
        minFreeBytes,
        every,
        interval,
        witness,
        probeInterval,
        maxQueued);
  }

  public AuditLogSettings withWitness(Path directory) {
    return new AuditLogSettings(
        keys,
        logId,
        segmentBytes,
        boundedWindow,
        minFreeBytes,
        checkpointEvery,
        checkpointInterval,
        Optional.of(directory),
        probeInterval,
        maxQueued);
  }

  public AuditLogSettings withProbeInterval(Duration interval) {
    return new AuditLogSettings(
        keys,
        logId,
        segmentBytes,
        boundedWindow,
        minFreeBytes,
        checkpointEvery,
        checkpointInterval,
        witness,
        interval,
        maxQueued);
  }

  public AuditLogSettings withMaxQueued(int max) {
    return new AuditLogSettings(
        keys,
        logId,
        segmentBytes,
        boundedWindow,
        minFreeBytes,
        checkpointEvery,
        checkpointInterval,
        witness,
        probeInterval,
        max);
  }
}
