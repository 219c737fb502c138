package dev.warden.core.gate;

import java.util.Objects;

/** What the decision point says about a statement. */
public sealed interface Verdict {
  /** The statement may run. */
  record Allow() implements Verdict {}

  /**
   * The statement must not reach the database.
   *
   * @param sqlState the SQLSTATE the client receives (SQL-standard, shared by PostgreSQL and MySQL)
   * @param message what was refused
   * @param hint why, and what the person can do about it
   */
  record Deny(String sqlState, String message, String hint) implements Verdict {
    public Deny {
      Objects.requireNonNull(sqlState, "sqlState");
      Objects.requireNonNull(message, "message");
      Objects.requireNonNull(hint, "hint");
      if (sqlState.length() != 5) {
        throw new IllegalArgumentException("SQLSTATE must have five characters: " + sqlState);
      }
    }
  }

  /** The shared allow verdict. */
  Verdict ALLOW = new Allow();
}
