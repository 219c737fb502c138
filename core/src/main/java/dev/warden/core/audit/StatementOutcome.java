package dev.warden.core.audit;

import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.OptionalLong;

/**
 * How a statement whose {@link StatementIntent} was recorded ended.
 *
 * @param time when the database's answer reached Warden
 * @param sessionId the session
 * @param number the statement's number within the session, as in its intent
 * @param status how it ended
 * @param rows rows returned or affected, where the database said
 * @param commandTag the database's command tag (e.g. {@code DELETE 3}), or empty
 * @param durationNanos from receiving the statement to its answer
 * @param sqlState the SQLSTATE of an error, or empty
 * @param maskedColumns the result columns Warden masked (their names as the result gave them)
 * @param maskedValues how many values Warden masked in them
 */
public record StatementOutcome(
    Instant time,
    String sessionId,
    long number,
    Status status,
    OptionalLong rows,
    String commandTag,
    long durationNanos,
    String sqlState,
    List<String> maskedColumns,
    long maskedValues)
    implements AuditRecord {
  public StatementOutcome {
    Objects.requireNonNull(time, "time");
    Objects.requireNonNull(sessionId, "sessionId");
    Objects.requireNonNull(status, "status");
    Objects.requireNonNull(rows, "rows");
    Objects.requireNonNull(commandTag, "commandTag");
    Objects.requireNonNull(sqlState, "sqlState");
    maskedColumns = List.copyOf(maskedColumns);
    if (maskedValues < 0) {
      throw new IllegalArgumentException("maskedValues must not be negative");
    }
  }

  /** An outcome with nothing masked. */
  public StatementOutcome(
      Instant time,
      String sessionId,
      long number,
      Status status,
      OptionalLong rows,
      String commandTag,
      long durationNanos,
      String sqlState,
      List<String> maskedColumns) {
    this(
        time,
        sessionId,
        number,
        status,
        rows,
        commandTag,
        durationNanos,
        sqlState,
        maskedColumns,
        0);
  }

  /** How a statement ended. */
  public enum Status {
    /** The database ran it. */
    OK,
    /** The database answered with an error. */
    ERROR,
    /** Warden rolled it back and refused it (a row limit was exceeded). */
    REFUSED,
    /**
     * The database skipped it: an earlier message of the same extended-protocol batch failed, or
     * the session ended before it was sent.
     */
    NOT_RUN,
    /** The session ended before the database answered; whether it ran is not known. */
    UNKNOWN
  }
}
