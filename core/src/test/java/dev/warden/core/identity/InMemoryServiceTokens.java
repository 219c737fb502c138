package dev.warden.core.identity;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/** A service token store in a map, for unit tests of what is built on the port. */
final class InMemoryServiceTokens implements ServiceTokenStore {
  private final Map<String, ServiceToken> tokens = new TreeMap<>();

  @Override
  public synchronized void create(ServiceToken token, NameCheck check) {
    if (tokens.containsKey(token.name())) {
      throw new NameTakenException("a service token named " + token.name() + " exists");
    }
    check
        .refusal(token.name())
        .ifPresent(
            why -> {
              throw new NameTakenException(why);
            });
    tokens.put(token.name(), token);
  }

  @Override
  public synchronized Optional<ServiceToken> find(String name) {
    return Optional.ofNullable(tokens.get(name));
  }

  @Override
  public synchronized List<ServiceToken> list() {
    return List.copyOf(new ArrayList<>(tokens.values()));
  }

  @Override
  public synchronized boolean revoke(String name, Instant at) {
    ServiceToken t = tokens.get(name);
    if (t == null || t.revoked().isPresent()) {
      return false;
    }
    tokens.put(name, with(t, Optional.of(at), t.lastUsed()));
    return true;
  }

  @Override
  public synchronized void recordUse(String name, Instant at) {
    ServiceToken t = tokens.get(name);
    if (t != null) {
      tokens.put(name, with(t, t.revoked(), Optional.of(at)));
    }
  }

  private static ServiceToken with(
      ServiceToken t, Optional<Instant> revoked, Optional<Instant> lastUsed) {
    return new ServiceToken(
        t.name(),
        t.groups(),
        t.onBehalfOf(),
        t.created(),
        t.expires(),
        revoked,
        lastUsed,
        t.createdBy(),
        t.credential(),
        t.description());
  }
}
