package dev.warden.sql.postgres;

/**
 * libpg_query, PostgreSQL's parser as a library, cannot be loaded. Without it Warden cannot know
 * what a statement does, so it must not start: the message says how to install it.
 */
public final class PgQueryUnavailableException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public PgQueryUnavailableException(String message) {
    super(message);
  }
}
