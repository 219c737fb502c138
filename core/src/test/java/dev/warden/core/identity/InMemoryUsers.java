package dev.warden.core.identity;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentSkipListMap;

/** A plain map-backed directory for exercising the SCRAM server without a store. */
final class InMemoryUsers implements UserDirectory {
  private final Map<String, LocalUser> users = new ConcurrentSkipListMap<>();

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
