package dev.warden.core.session;

import java.util.Locale;

/** What a live session is doing, as its last exchange with the database says. */
public enum SessionState {
  /** Waiting for the client, outside a transaction. */
  IDLE,
  /** A statement is on its way to the database or being answered. */
  ACTIVE,
  /** Waiting for the client inside an open transaction. */
  IN_TRANSACTION,
  /** Inside a transaction that failed; the client must roll it back. */
  FAILED_TRANSACTION;

  /** The state's name as the API shows it ({@code in_transaction}). */
  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }
}
