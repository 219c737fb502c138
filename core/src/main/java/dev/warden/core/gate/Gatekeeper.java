package dev.warden.core.gate;

import dev.warden.core.statement.Analysis;
import dev.warden.core.statement.PreparedStatements;
import dev.warden.core.statement.Relations;
import java.util.List;
import java.util.OptionalLong;
import java.util.function.Function;

/**
 * The one decision point every statement passes through, whatever the protocol: the proxy engines
 * ask it before a statement's bytes go upstream, and obey the decision.
 *
 * <p>Implementations are called on an event loop and must not block.
 */
public interface Gatekeeper {
  /** Analyses and judges a statement arriving as text (or as a function call). */
  Decision decide(StatementRequest request);

  /**
   * Whether {@code session}'s identity may use its environment at all (policy's access rules),
   * asked once when the session is authenticated and before the upstream connection is opened. The
   * default lets everyone in.
   */
  default Admission admit(SessionContext session) {
    return Admission.OPEN;
  }

  /**
   * Judges a prepared statement again when it is executed. {@code earlier} is the decision made
   * when it was prepared; an implementation returns it unchanged when it still holds (see {@link
   * Decision#reusable()}), so a repeated execution costs nothing. {@code prepared} is the session's
   * SQL-level prepared statements, for a prepared {@code EXECUTE name} judged again; {@code
   * relations} the session's current catalogue snapshot, which may resolve names differently from
   * the one the statement was prepared with.
   */
  default Decision recheck(
      SessionContext session, PreparedStatements prepared, Relations relations, Decision earlier) {
    return earlier;
  }

  /**
   * A decision point that judges by {@code verdicts} alone, without analysing the statement: for
   * tests and embedders with a policy of their own. Its decisions are not reusable: {@code
   * verdicts} is asked every time.
   */
  static Gatekeeper judging(Function<StatementRequest, Verdict> verdicts) {
    Analysis none = new Analysis(List.of(), "");
    return request ->
        new Decision(
            verdicts.apply(request), none, "", false, OptionalLong.empty(), null, 0, false);
  }

  /**
   * The decision point with no policy behind it: every statement is allowed, unanalysed. Statement
   * analysis and policy replace it; the proxy does not know which it has.
   */
  static Gatekeeper allowAll() {
    Analysis none = new Analysis(List.of(), "");
    Decision allow = Decision.allow(none);
    return request -> allow;
  }
}
