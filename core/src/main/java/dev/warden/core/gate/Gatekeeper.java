package dev.warden.core.gate;

/**
 * The one decision point every statement passes through, whatever the protocol: the proxy engines
 * ask it before a statement's bytes go upstream, and obey the verdict.
 *
 * <p>Implementations are called on an event loop and must not block.
 */
@FunctionalInterface
public interface Gatekeeper {
  Verdict decide(StatementRequest request);

  /**
   * The decision point with no policy behind it: every statement is allowed. Statement analysis and
   * policy replace it; the proxy does not know which it has.
   */
  static Gatekeeper allowAll() {
    return request -> Verdict.ALLOW;
  }
}
