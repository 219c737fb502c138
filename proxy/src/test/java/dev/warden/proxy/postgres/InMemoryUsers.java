package dev.warden.proxy.postgres;

import dev.warden.core.identity.LocalUser;
import dev.warden.core.identity.ScramCredentials;
import dev.warden.core.identity.Secret;
import dev.warden.core.identity.UserDirectory;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/** A user directory held in memory, for proxy tests that do not need the embedded store. */
final class InMemoryUsers implements UserDirectory {
  private final Map<String, LocalUser> users = new ConcurrentHashMap<>();

  InMemoryUsers add(String name, String password, String... groups) {
    put(
        new LocalUser(
            name,
            Set.of(groups),
            ScramCredentials.derive(
                Secret.of(password), new SecureRandom(), ScramCredentials.DEFAULT_ITERATIONS),
            Instant.now()));
    return this;
  }

  @Override
  public Optional<LocalUser> find(String name) {
    return Optional.ofNullable(users.get(name));
  }

  @Override
  public List<LocalUser> list() {
    return users.values().stream().sorted(Comparator.comparing(LocalUser::name)).toList();
  }

  @Override
  public boolean put(LocalUser user) {
    return users.put(user.name(), user) == null;
  }

  @Override
  public boolean remove(String name) {
    return users.remove(name) != null;
  }
}
