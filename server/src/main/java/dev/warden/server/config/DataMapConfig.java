package dev.warden.server.config;

import java.time.Duration;
import java.util.Objects;

/**
 * The {@code data-map:} section of the configuration: how often Warden looks for schema changes
 * made around it, and how much reading a data map build may cost the database. The defaults suit a
 * database of a few thousand relations; each bound is per build and per database.
 *
 * @param refresh how often a cheap catalogue signature is compared with the one the map was built
 *     from (a change rebuilds the map)
 * @param sampleRows the most rows read from one relation to classify its text columns by content
 * @param maxSampledRelations the most relations sampled by one build; the rest are classified by
 *     their catalogue metadata only until a later build samples them (0: never sample)
 * @param statementTimeout the longest any one catalogue or sampling query may run
 */
public record DataMapConfig(
    Duration refresh, int sampleRows, int maxSampledRelations, Duration statementTimeout) {
  /** The refresh interval when none is configured. */
  public static final Duration DEFAULT_REFRESH = Duration.ofSeconds(30);

  /** Rows sampled per relation when not configured. */
  public static final int DEFAULT_SAMPLE_ROWS = 200;

  /** Relations sampled per build when not configured. */
  public static final int DEFAULT_MAX_SAMPLED_RELATIONS = 1000;

  /** The statement timeout of the data map's queries when none is configured. */
  public static final Duration DEFAULT_STATEMENT_TIMEOUT = Duration.ofSeconds(2);

  /** The shortest refresh interval: more often would turn a cheap poll into a steady load. */
  public static final Duration MIN_REFRESH = Duration.ofSeconds(1);

  /** The longest refresh interval accepted. */
  public static final Duration MAX_REFRESH = Duration.ofHours(24);

  /** The most rows per relation a build may sample. */
  public static final int MAX_SAMPLE_ROWS = 10_000;

  /** The longest statement timeout accepted. */
  public static final Duration MAX_STATEMENT_TIMEOUT = Duration.ofMinutes(5);

  public DataMapConfig {
    Objects.requireNonNull(refresh, "refresh");
    Objects.requireNonNull(statementTimeout, "statementTimeout");
    if (refresh.compareTo(MIN_REFRESH) < 0 || refresh.compareTo(MAX_REFRESH) > 0) {
      throw new IllegalArgumentException("the refresh interval must be between 1s and 24h");
    }
    if (sampleRows < 1 || sampleRows > MAX_SAMPLE_ROWS) {
      throw new IllegalArgumentException(
          "sample rows must be between 1 and " + MAX_SAMPLE_ROWS + ", found " + sampleRows);
    }
    if (maxSampledRelations < 0) {
      throw new IllegalArgumentException(
          "max sampled relations must not be negative, found " + maxSampledRelations);
    }
    if (statementTimeout.toMillis() < 1 || statementTimeout.compareTo(MAX_STATEMENT_TIMEOUT) > 0) {
      throw new IllegalArgumentException(
          "the statement timeout must be between 1ms and "
              + MAX_STATEMENT_TIMEOUT.toMinutes()
              + "m");
    }
  }

  /** Every 30 s, 200 rows per relation, 1000 relations per build, 2 s per query. */
  public static DataMapConfig defaults() {
    return new DataMapConfig(
        DEFAULT_REFRESH,
        DEFAULT_SAMPLE_ROWS,
        DEFAULT_MAX_SAMPLED_RELATIONS,
        DEFAULT_STATEMENT_TIMEOUT);
  }
}
