package dev.warden.proxy.postgres;

import dev.warden.core.gate.Decision;
import dev.warden.core.gate.Verdict;
import java.util.List;

/**
 * The row-count guardrail for one statement (or one extended-protocol batch): the statement runs so
 * that it can be undone, and is undone when the server reports more changed rows than policy
 * allows.
 *
 * <p>Before the guarded statement Warden sends {@value #BEGIN}. Outside a transaction block that
 * opens one (which Warden ends when the client's own statement or batch ends: COMMIT, or ROLLBACK
 * when it failed or went over the limit); inside the client's block the BEGIN only warns, and the
 * savepoint is what Warden rolls back to. Which of the two happened is read from the transaction
 * status the server reported just before the BEGIN ran, not from the warning (a client may silence
 * warnings). Over the limit, the client sees its CommandComplete replaced by the refusal and
 * nothing more until ReadyForQuery, exactly as if the statement had failed there; inside its own
 * block the block is left failed, as a failed statement leaves it.
 *
 * <p>Each guarded statement has its own {@link Limit}. When a change over it may wait for approval
 * ({@link Decision#rowLimitApproval()}), the backend relay holds the CommandComplete, asks the
 * approval gate with the rows the server reported, and then either refuses the statement with the
 * gate's answer (rolled back as above), or, when the gate approves it (an automatic approval, or an
 * approval made elsewhere), lifts the limit and lets the change stand.
 */
final class RowGuard {
  static final String SAVEPOINT = "warden_row_guard";
  static final String BEGIN = "BEGIN; SAVEPOINT " + SAVEPOINT;

  /** A step of the guard, as the payload of an entry in {@link Exchanges}. */
  enum Step {
    /** Warden's BEGIN and SAVEPOINT. */
    BEGIN,
    /** The guarded statement (a Query, or an Execute). */
    STATEMENT,
    /** The Sync that ends an extended-protocol batch holding guarded statements. */
    SYNC,
    /** Warden's COMMIT, ROLLBACK or RELEASE after it. */
    FINISH
  }

  /**
   * An entry's payload: which guard, and which step of it; for {@link Step#STATEMENT}, the limit of
   * the statement it stands for (null otherwise).
   */
  record Mark(RowGuard guard, Step step, Limit limit) {}

  /** What Warden asks the approval gate about when a statement goes over its limit. */
  record OverLimit(Decision decision, String text, List<byte[]> parameters) {}

  /**
   * One guarded statement's limit: at most {@code rows} changed rows, else {@code denial}, or, with
   * {@code approval}, what the gate is asked. Confined to the session's event loop.
   */
  static final class Limit {
    final long rows;
    final Verdict.Deny denial;
    final OverLimit approval;

    /**
     * The gate approved the change over the limit: the statement's counts are no longer checked.
     */
    boolean lifted;

    Limit(long rows, Verdict.Deny denial, OverLimit approval) {
      this.rows = rows;
      this.denial = denial;
      this.approval = approval;
    }
  }

  /** The BEGIN and SAVEPOINT ran. */
  boolean begun;

  /** The BEGIN opened the transaction block (the session was idle); else it was the client's. */
  boolean openedBlock;

  /** The server reported more changed rows than {@link #limit}. */
  boolean exceeded;

  final Mark begin = new Mark(this, Step.BEGIN, null);
  final Mark sync = new Mark(this, Step.SYNC, null);
  final Mark finish = new Mark(this, Step.FINISH, null);

  /** The mark of a guarded statement (a Query, or one Execute of the batch) with its limit. */
  Mark statement(Limit limit) {
    return new Mark(this, Step.STATEMENT, limit);
  }

  /**
   * Records the BEGIN's outcome. {@code statusBefore} is the transaction status the server reported
   * before it ran.
   */
  void began(byte statusBefore, boolean failed) {
    begun = !failed && statusBefore != 'E';
    openedBlock = statusBefore == 'I';
  }

  /**
   * The rows a CommandComplete tag of a guarded statement reports changed, when that is over the
   * statement's {@code limit} (and the limit was not lifted); else -1. Changes nothing: the caller
   * marks the guard {@link #exceeded} once the statement is refused.
   */
  long overLimit(String tag, Limit limit) {
    if (!begun || limit.lifted) {
      return -1;
    }
    long rows = changedRows(tag);
    return rows > limit.rows ? rows : -1;
  }

  /**
   * What Warden sends when the guarded statement or batch has ended with transaction status {@code
   * status}, or null for nothing (the client's ReadyForQuery then goes through as it is).
   */
  String finish(byte status) {
    if (!begun) {
      return null;
    }
    if (exceeded) {
      return openedBlock ? "ROLLBACK" : "ROLLBACK TO SAVEPOINT " + SAVEPOINT + "; SELECT 1/0";
    }
    if (status == 'T') {
      return openedBlock ? "COMMIT" : "RELEASE SAVEPOINT " + SAVEPOINT;
    }
    if (status == 'E' && openedBlock) {
      return "ROLLBACK";
    }
    return null;
  }

  /** How the responses to {@link #finish}'s statement are treated. */
  byte finishOwner(String sql) {
    return sql.equals("COMMIT") ? Exchanges.WARDEN_READY_AND_ERRORS : Exchanges.WARDEN_READY;
  }

  /**
   * The rows an UPDATE, DELETE or MERGE changed, from its command tag; -1 for any other tag (a tag
   * Warden cannot count is not over any limit: such statements are refused before they run, see
   * {@link FrontendRelay}).
   */
  static long changedRows(String tag) {
    int space = tag.lastIndexOf(' ');
    if (space < 0) {
      return -1;
    }
    String command = tag.substring(0, tag.indexOf(' '));
    if (!command.equals("UPDATE") && !command.equals("DELETE") && !command.equals("MERGE")) {
      return -1;
    }
    try {
      return Long.parseLong(tag, space + 1, tag.length(), 10);
    } catch (NumberFormatException e) {
      return -1;
    }
  }
}
