package dev.warden.server.api;

import dev.warden.core.identity.LocalUser;
import dev.warden.core.identity.ScramCredentials;
import dev.warden.core.identity.Secret;
import dev.warden.core.identity.UserDirectory;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentSkipListMap;

/** Local users in memory, with verifiers derived as {@code warden users add} derives them. */
public final class MemoryUsers implements UserDirectory {
  private final Map<String, LocalUser> users = new ConcurrentSkipListMap<>();

  public MemoryUsers add(String name, String password, String... groups) {
    put(
        new LocalUser(
            name,
            Set.of(groups),
            ScramCredentials.derive(
                Secret.of(password),
                ("salt-of-" + name).getBytes(StandardCharsets.UTF_8),
                ScramCredentials.DEFAULT_ITERATIONS),
            Instant.parse("2026-01-01T00:00:00Z")));
    return this;
  }

  @Override
  public Optional<LocalUser> find(String name) {
    return Optional.ofNullable(users.get(name));
  }

  @Override
  public List<LocalUser> list() {
    return List.copyOf(users.values());
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
