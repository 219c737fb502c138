package dev.warden.core.identity;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * Where service tokens are kept: the embedded store now, the shared PostgreSQL store later; both
 * pass the same contract tests. Lookups may block (an embedded database); {@link #recordUse} never
 * does.
 */
public interface ServiceTokenStore {
  /**
   * Why a name may not be used for a new token although no token has it, typically because a local
   * user has it (users and tokens share one name space). The store calls it inside the transaction
   * that creates the token.
   */
  @FunctionalInterface
  interface NameCheck {
    /** Accepts every name. */
    NameCheck NONE = name -> Optional.empty();

    /** Why {@code name} is taken, e.g. "a local user has that name", or empty if it is free. */
    Optional<String> refusal(String name);
  }

  /** A token could not be created because its name is taken; the message says by what. */
  final class NameTakenException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public NameTakenException(String message) {
      super(message);
    }
  }

  /**
   * Stores a new token.
   *
   * @param check consulted for names taken outside this store (local users)
   * @throws NameTakenException if a token (revoked or not) already has the name, or {@code check}
   *     refuses it; nothing is stored then
   */
  void create(ServiceToken token, NameCheck check);

  /** The token with this exact name, revoked and expired ones included. */
  Optional<ServiceToken> find(String name);

  /** All tokens, revoked and expired ones included, ordered by name. */
  List<ServiceToken> list();

  /**
   * Revokes a token: logins with it fail from now on. Sessions already open are not ended.
   *
   * @return true if this call revoked it, false if there is no such token or it was already revoked
   *     (its first revocation time is kept)
   */
  boolean revoke(String name, Instant at);

  /**
   * Notes a successful login at {@code at}. Cheap and non-blocking, so that an event loop may call
   * it: the write happens later on another thread and may be coalesced with others (a precision of
   * about a minute). A name that is not a token is ignored. A failure to write is logged, not
   * thrown: last use is informational.
   */
  void recordUse(String name, Instant at);
}
