package dev.warden.core.session;

import dev.warden.core.gate.SessionContext;
import dev.warden.core.statement.LexicalSettings;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * A session connected through Warden now, as the protocol engine that holds it shows it to the rest
 * of Warden. Its facts are read from other threads while the session runs on its own: they are a
 * moment's picture, which may lag the session by a statement; nothing here is a lock on it.
 */
public interface LiveSession {
  /** Who is connected, from where, to what; its id is the audit records' session id. */
  SessionContext context();

  /** The role the session logged in to the database as. */
  String upstreamRole();

  /** When the session was connected (client authenticated, database logged in). */
  Instant started();

  /** What it is doing now. */
  SessionState state();

  /** The statements recorded for it so far (allowed or refused). */
  long statements();

  /** The last statement recorded for it, as the client sent it (not yet redacted), if any. */
  Optional<LastStatement> lastStatement();

  /**
   * Ends the session on its own thread, soon after this returns: the client is told it was ended by
   * {@code administrator} for {@code reason}, and both of its connections are closed. Does nothing
   * when the session has already ended.
   *
   * @return completes once the session has ended (its client connection is closed), however it
   *     ended
   */
  CompletableFuture<Void> terminate(String administrator, String reason);

  /**
   * A statement as the client sent it, with the lexical settings to redact it by.
   *
   * @param text the statement text, with any secrets it holds
   * @param lexical how the database lexes it, for the redactor
   * @param at when Warden received it
   */
  record LastStatement(String text, LexicalSettings lexical, Instant at) {
    @Override
    public String toString() {
      return "LastStatement[at=" + at + "]"; // the text may hold a secret
    }
  }
}
