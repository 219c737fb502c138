package dev.warden.proxy.postgres;

import dev.warden.core.audit.Durability;
import dev.warden.core.audit.StatementOutcome;
import dev.warden.core.audit.StatementOutcome.Status;
import dev.warden.core.masking.ResultMasking;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;

/**
 * One forwarded statement whose intent is recorded, collecting what the server answers (command
 * tags, rows, an error) until the answer is complete; then it records the outcome. It rides on the
 * statement's entry in {@link Exchanges}, so it finishes when that entry is answered, and a session
 * that ends first finishes it as {@link Status#UNKNOWN}. Confined to the session's event loop.
 */
final class StatementAudit {

  private final ProxySession session;
  final long number;
  private final long started;
  private long tagRows = -1;
  private long dataRows;
  private String tag = "";
  private String sqlState = "";
  private Status status = Status.OK;
  private boolean done;
  private List<String> maskedColumns = List.of();
  private long maskedValues;

  /** What to mask in the statement's results. */
  final ResultMasking masking;

  StatementAudit(ProxySession session, long number, long started, ResultMasking masking) {
    this.session = session;
    this.number = number;
    this.started = started;
    this.masking = masking;
  }

  /** The rows of one of its results went by, with what {@code plan} masked in them. */
  void masked(MaskedValues plan) {
    long values = plan.maskedValues();
    if (values == 0) {
      return;
    }
    maskedValues += values;
    session.counters.masked(values);
    List<String> columns = new ArrayList<>(maskedColumns);
    for (String c : plan.maskedColumns()) {
      if (!columns.contains(c)) {
        columns.add(c);
      }
    }
    maskedColumns = columns;
  }

  /** A DataRow of its result went by. */
  void row() {
    dataRows++;
  }

  /** One of its statements completed with {@code commandTag}. */
  void completed(String commandTag) {
    tag = tag.isEmpty() ? commandTag : tag + "; " + commandTag;
    long n = rowsOf(commandTag);
    if (n >= 0) {
      tagRows = Math.max(tagRows, 0) + n;
    }
  }

  /** The server answered it with an error. */
  void failed(String state) {
    status = Status.ERROR;
    sqlState = state;
  }

  /** Warden rolled it back and refused it. */
  void refused(String state) {
    status = Status.REFUSED;
    sqlState = state;
  }

  /** The server skipped it (an earlier error in its batch); only when nothing was heard of it. */
  void notRun() {
    if (status == Status.OK && tag.isEmpty() && dataRows == 0) {
      status = Status.NOT_RUN;
    }
  }

  /** The session ended before the answer was complete. */
  void abandoned() {
    if (!done && status == Status.OK) {
      status = Status.UNKNOWN;
    }
    finish();
  }

  /** Records the outcome, once. */
  void finish() {
    if (done) {
      return;
    }
    done = true;
    OptionalLong rows =
        tagRows >= 0
            ? OptionalLong.of(tagRows)
            : dataRows > 0 ? OptionalLong.of(dataRows) : OptionalLong.empty();
    StatementOutcome outcome =
        new StatementOutcome(
            session.audit.clock().instant(),
            session.context.id(),
            number,
            status,
            rows,
            tag,
            System.nanoTime() - started,
            sqlState,
            maskedColumns,
            maskedValues);
    session.audit.append(outcome, Durability.BOUNDED);
  }

  /** The row count at the end of a command tag ({@code UPDATE 3}, {@code INSERT 0 1}), or -1. */
  static long rowsOf(String commandTag) {
    int space = commandTag.lastIndexOf(' ');
    if (space < 0 || space == commandTag.length() - 1) {
      return -1;
    }
    long n = 0;
    for (int i = space + 1; i < commandTag.length(); i++) {
      char c = commandTag.charAt(i);
      if (c < '0' || c > '9' || n > Long.MAX_VALUE / 10 - 10) {
        return -1;
      }
      n = n * 10 + (c - '0');
    }
    return n;
  }
}
