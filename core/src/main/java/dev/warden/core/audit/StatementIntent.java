package dev.warden.core.audit;

import dev.warden.core.gate.Decision;
import dev.warden.core.gate.SessionContext;
import dev.warden.core.gate.StatementPath;
import dev.warden.core.statement.LexicalSettings;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

/**
 * What a session is about to run (or was refused), recorded before any byte of it reaches the
 * database.
 *
 * @param time when Warden received it
 * @param session who, from where, to what
 * @param number the statement's number within its session, from 1; its {@link StatementOutcome}
 *     carries the same number
 * @param path how it arrived: a simple query, an Execute of a prepared statement, a function call
 * @param text the statement text as the client sent it; {@link AuditEncoder} redacts it before it
 *     is stored
 * @param lexical the session's lexical settings, for redacting the text as the server lexes it
 * @param preparedName the prepared statement (or portal) it runs, or empty
 * @param decision the decision point's verdict and the statement facts
 * @param durability how soon the intent must be durable
 * @param parameters the values of the statement's bind parameters, shortened, when the
 *     configuration records them; empty otherwise (and for statements without parameters)
 */
public record StatementIntent(
    Instant time,
    SessionContext session,
    long number,
    StatementPath path,
    String text,
    LexicalSettings lexical,
    String preparedName,
    Decision decision,
    Durability durability,
    List<String> parameters)
    implements AuditRecord {
  public StatementIntent {
    Objects.requireNonNull(time, "time");
    Objects.requireNonNull(session, "session");
    Objects.requireNonNull(path, "path");
    Objects.requireNonNull(text, "text");
    Objects.requireNonNull(lexical, "lexical");
    Objects.requireNonNull(preparedName, "preparedName");
    Objects.requireNonNull(decision, "decision");
    Objects.requireNonNull(durability, "durability");
    parameters = Collections.unmodifiableList(new ArrayList<>(parameters)); // NULL values stay
  }

  /** An intent without recorded parameters. */
  public StatementIntent(
      Instant time,
      SessionContext session,
      long number,
      StatementPath path,
      String text,
      LexicalSettings lexical,
      String preparedName,
      Decision decision,
      Durability durability) {
    this(time, session, number, path, text, lexical, preparedName, decision, durability, List.of());
  }
}
