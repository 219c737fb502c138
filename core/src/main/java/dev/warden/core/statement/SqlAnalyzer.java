package dev.warden.core.statement;

/**
 * Turns SQL text of one dialect into statement facts. Implementations use the database's own
 * grammar; text they cannot follow is {@link StatementKind#UNKNOWN} with a reason, never a guess.
 *
 * <p>Called on event loops: must not block, and must be safe to call from several threads.
 */
public interface SqlAnalyzer {
  Analysis analyze(String sql, LexicalSettings settings);
}
