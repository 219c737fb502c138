package dev.warden.core.identity;

import java.util.List;
import java.util.Optional;

/**
 * The store of local users. Implementations are the embedded store and, later, the shared
 * PostgreSQL store; both pass the same contract tests.
 */
public interface UserDirectory {
  /** The user with this exact name, if there is one. */
  Optional<LocalUser> find(String name);

  /** All users, ordered by name. */
  List<LocalUser> list();

  /**
   * Adds a user, or replaces the credential and groups of an existing one.
   *
   * @return true if the user was created, false if an existing one was updated
   */
  boolean put(LocalUser user);

  /** Removes a user; returns false if there was none. */
  boolean remove(String name);
}
