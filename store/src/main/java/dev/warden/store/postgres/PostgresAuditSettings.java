package dev.warden.store.postgres;

import dev.warden.core.identity.Secret;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * How a Warden instance writes its audit trail to a shared PostgreSQL database ({@link
 * PostgresAuditTrail}).
 *
 * @param jdbcUrl a pgjdbc URL, {@code jdbc:postgresql://host:port/database}; put no password in it
 *     (use {@code password})
 * @param user the role Warden logs in as; it needs SELECT and INSERT on the audit tables, and
 *     CREATE on the schema only if the tables do not exist yet
 * @param password the role's password, or an empty secret for trust or peer authentication
 * @param poolSize connections in the pool: one for the writer, the rest for probes, reads and
 *     searches sharing {@link PostgresAuditTrail#dataSource()}
 * @param logId this instance's log: each instance appends to its own hash chain, and two processes
 *     must never use the same one (letters, digits and {@code . _ - : @}, at most 200)
 * @param boundedWindow the longest a {@link dev.warden.core.audit.Durability#BOUNDED} record may
 *     wait before the commit that makes it durable starts
 * @param maxQueued records accepted but not yet committed beyond which appends are refused: what
 *     the process holds in memory while PostgreSQL is slow or down
 * @param checkpointEvery a signed checkpoint after at most this many records
 * @param checkpointInterval and at most this long after the last one, when records were added
 * @param probeInterval while PostgreSQL is unavailable, how often the writer tries it again
 * @param timeout how long a connection attempt, or a statement or commit, may take before the store
 *     counts as unavailable (whole seconds for statements: pgjdbc's socket timeout)
 * @param witness a directory (ideally owned by another user, append-only) that receives a copy of
 *     every checkpoint, so that a table rewritten together with its checkpoints is still detected
 */
public record PostgresAuditSettings(
    String jdbcUrl,
    String user,
    Secret password,
    int poolSize,
    String logId,
    Duration boundedWindow,
    int maxQueued,
    int checkpointEvery,
    Duration checkpointInterval,
    Duration probeInterval,
    Duration timeout,
    Optional<Path> witness) {
  private static final Pattern LOG_ID = Pattern.compile("[A-Za-z0-9._:@-]{1,200}");

  /** Twenty milliseconds, as for the embedded log. */
  public static final Duration DEFAULT_BOUNDED_WINDOW = Duration.ofMillis(20);

  public PostgresAuditSettings {
    Objects.requireNonNull(jdbcUrl, "jdbcUrl");
    Objects.requireNonNull(user, "user");
    Objects.requireNonNull(password, "password");
    Objects.requireNonNull(logId, "logId");
    Objects.requireNonNull(witness, "witness");
    if (!jdbcUrl.startsWith("jdbc:postgresql:")) {
      throw new IllegalArgumentException(
          "the audit store's URL must start with jdbc:postgresql: (got " + describe(jdbcUrl) + ")");
    }
    if (jdbcUrl.toLowerCase(Locale.ROOT).contains("password=")) {
      throw new IllegalArgumentException(
          "the audit store's URL must not carry a password: give it as the password setting");
    }
    if (user.isBlank()) {
      throw new IllegalArgumentException("the audit store needs a user name");
    }
    if (!LOG_ID.matcher(logId).matches()) {
      throw new IllegalArgumentException(
          "an audit log id is 1 to 200 letters, digits or . _ - : @ (got \""
              + logId.substring(0, Math.min(logId.length(), 40)).replaceAll("[^ -~]", "?")
              + "\")");
    }
    if (poolSize < 2) {
      throw new IllegalArgumentException(
          "the audit store's pool needs at least 2 connections (the writer and one for probes and"
              + " reads), got "
              + poolSize);
    }
    positive(boundedWindow, "boundedWindow");
    positive(checkpointInterval, "checkpointInterval");
    positive(probeInterval, "probeInterval");
    positive(timeout, "timeout");
    if (maxQueued < 1) {
      throw new IllegalArgumentException("maxQueued must be positive, got " + maxQueued);
    }
    if (checkpointEvery < 1) {
      throw new IllegalArgumentException(
          "checkpointEvery must be positive, got " + checkpointEvery);
    }
  }

  /**
   * Four connections, a 20 ms bounded window, 100 000 queued records at most, a checkpoint every
   * 1000 records or second, a probe every second, five seconds to connect or commit, no witness.
   */
  public static PostgresAuditSettings defaults(
      String jdbcUrl, String user, Secret password, String logId) {
    return new PostgresAuditSettings(
        jdbcUrl,
        user,
        password,
        4,
        logId,
        DEFAULT_BOUNDED_WINDOW,
        100_000,
        1000,
        Duration.ofSeconds(1),
        Duration.ofSeconds(1),
        Duration.ofSeconds(5),
        Optional.empty());
  }

  public PostgresAuditSettings withLogId(String logId) {
    return new PostgresAuditSettings(
        jdbcUrl,
        user,
        password,
        poolSize,
        logId,
        boundedWindow,
        maxQueued,
        checkpointEvery,
        checkpointInterval,
        probeInterval,
        timeout,
        witness);
  }

  public PostgresAuditSettings withPoolSize(int poolSize) {
    return new PostgresAuditSettings(
        jdbcUrl,
        user,
        password,
        poolSize,
        logId,
        boundedWindow,
        maxQueued,
        checkpointEvery,
        checkpointInterval,
        probeInterval,
        timeout,
        witness);
  }

  public PostgresAuditSettings withBoundedWindow(Duration boundedWindow) {
    return new PostgresAuditSettings(
        jdbcUrl,
        user,
        password,
        poolSize,
        logId,
        boundedWindow,
        maxQueued,
        checkpointEvery,
        checkpointInterval,
        probeInterval,
        timeout,
        witness);
  }

  public PostgresAuditSettings withMaxQueued(int maxQueued) {
    return new PostgresAuditSettings(
        jdbcUrl,
        user,
        password,
        poolSize,
        logId,
        boundedWindow,
        maxQueued,
        checkpointEvery,
        checkpointInterval,
        probeInterval,
        timeout,
        witness);
  }

  public PostgresAuditSettings withCheckpoints(int every, Duration interval) {
    return new PostgresAuditSettings(
        jdbcUrl,
        user,
        password,
        poolSize,
        logId,
        boundedWindow,
        maxQueued,
        every,
        interval,
        probeInterval,
        timeout,
        witness);
  }

  public PostgresAuditSettings withProbeInterval(Duration probeInterval) {
    return new PostgresAuditSettings(
        jdbcUrl,
        user,
        password,
        poolSize,
        logId,
        boundedWindow,
        maxQueued,
        checkpointEvery,
        checkpointInterval,
        probeInterval,
        timeout,
        witness);
  }

  public PostgresAuditSettings withTimeout(Duration timeout) {
    return new PostgresAuditSettings(
        jdbcUrl,
        user,
        password,
        poolSize,
        logId,
        boundedWindow,
        maxQueued,
        checkpointEvery,
        checkpointInterval,
        probeInterval,
        timeout,
        witness);
  }

  public PostgresAuditSettings withWitness(Path witness) {
    return new PostgresAuditSettings(
        jdbcUrl,
        user,
        password,
        poolSize,
        logId,
        boundedWindow,
        maxQueued,
        checkpointEvery,
        checkpointInterval,
        probeInterval,
        timeout,
        Optional.of(witness));
  }

  /** Where the store is, for messages: the URL without its parameters. */
  public String location() {
    return describe(jdbcUrl);
  }

  @Override
  public String toString() {
    return "PostgresAuditSettings[" + location() + " as " + user + ", log " + logId + "]";
  }

  private static String describe(String url) {
    int query = url.indexOf('?');
    String base = query < 0 ? url : url.substring(0, query);
    int at = base.indexOf('@');
    if (at >= 0) {
      int scheme = base.indexOf("//");
      base = base.substring(0, scheme + 2) + base.substring(at + 1);
    }
    return base.length() > 200 ? base.substring(0, 200) + "…" : base;
  }

  private static void positive(Duration d, String name) {
    Objects.requireNonNull(d, name);
    if (d.isNegative() || d.isZero()) {
      throw new IllegalArgumentException(name + " must be positive, got " + d);
    }
  }
}
