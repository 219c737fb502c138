package dev.warden.core.identity;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Where {@link ScramServer} looks up who may log in with a password: local users and service tokens
 * share one name space. Lookups may block (an embedded database).
 */
@FunctionalInterface
public interface ScramAccounts {
  /** The account named {@code name}, if there is one. */
  Optional<ScramAccount> find(String name);

  /** The local users of {@code users}. */
  static ScramAccounts of(UserDirectory users) {
    Objects.requireNonNull(users, "users");
    return name -> users.find(name).map(ScramAccount::of);
  }

  /** The first of {@code sources} that knows the name. */
  static ScramAccounts firstOf(List<ScramAccounts> sources) {
    List<ScramAccounts> copy = List.copyOf(sources);
    return name -> {
      for (ScramAccounts source : copy) {
        Optional<ScramAccount> found = source.find(name);
        if (found.isPresent()) {
          return found;
        }
      }
      return Optional.empty();
    };
  }
}
