package dev.warden.core.session;

import dev.warden.core.gate.Decision;
import dev.warden.core.gate.Verdict;
import java.util.concurrent.atomic.LongAdder;

/**
 * What happened in one environment since Warden started, counted where the proxy already knows it:
 * logins, statements by verdict, masked values. A session looks its environment's counters up once
 * and then only adds to them ({@link LongAdder}: no lock, no allocation, little contention between
 * event loops), so counting costs a statement next to nothing.
 */
public final class EnvironmentCounters {
  private final String environment;
  private final LongAdder accepted = new LongAdder();
  private final LongAdder refused = new LongAdder();
  private final LongAdder failed = new LongAdder();
  private final LongAdder allowed = new LongAdder();
  private final LongAdder denied = new LongAdder();
  private final LongAdder observed = new LongAdder();
  private final LongAdder masked = new LongAdder();

  EnvironmentCounters(String environment) {
    this.environment = environment;
  }

  /** The environment's name; empty for logins that named no environment. */
  public String environment() {
    return environment;
  }

  /** A client logged in and its session began. */
  public void connectionAccepted() {
    accepted.increment();
  }

  /** A login was refused: failed authentication, not admitted, no role, an unknown database. */
  public void connectionRefused() {
    refused.increment();
  }

  /** A verified client's session could not begin: the database could not be logged in to. */
  public void connectionFailed() {
    failed.increment();
  }

  /** A statement was recorded with {@code decision}: counted as the audit records its verdict. */
  public void statement(Decision decision) {
    if (decision.verdict() instanceof Verdict.Deny) {
      denied.increment();
    } else if (decision.observed()) {
      observed.increment();
    } else {
      allowed.increment();
    }
  }

  /** {@code values} values were masked in a statement's results. */
  public void masked(long values) {
    masked.add(values);
  }

  public long connectionsAccepted() {
    return accepted.sum();
  }

  public long connectionsRefused() {
    return refused.sum();
  }

  public long connectionsFailed() {
    return failed.sum();
  }

  public long statementsAllowed() {
    return allowed.sum();
  }

  public long statementsDenied() {
    return denied.sum();
  }

  public long statementsObserved() {
    return observed.sum();
  }

  public long maskedValues() {
    return masked.sum();
  }
}
