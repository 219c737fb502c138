package dev.warden.proxy.postgres;

import dev.warden.core.environment.Upstream;
import java.net.InetAddress;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Maps the cancel keys Warden hands to clients onto the upstream backends they stand for.
 *
 * <p>A client's BackendKeyData carries the upstream backend's real process id (so {@code
 * pg_backend_pid()} and notification senders agree with what the client was told) and a secret key
 * Warden drew at random; the upstream's own key never leaves Warden. A CancelRequest is forwarded
 * only when both match a live session, compared in constant time; anything else is dropped and
 * counted against the sender's address, and a sender that keeps guessing is ignored for a while
 * (THREATS P12). Several upstream servers may reuse a process id, so one id can map to several
 * sessions.
 */
final class CancelRegistry {
  /** Unknown keys a source may send per window before it is ignored. */
  static final int MAX_BAD_CANCELS_PER_WINDOW = 20;

  static final long WINDOW_MILLIS = 60_000;

  private static final int MAX_TRACKED_SOURCES = 10_000;

  private final SecureRandom random;
  private final Clock clock;
  private final Map<Integer, List<Entry>> byProcessId = new ConcurrentHashMap<>();
  private final Map<InetAddress, long[]> badCancels =
      new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<InetAddress, long[]> eldest) {
          return size() > MAX_TRACKED_SOURCES;
        }
      };

  CancelRegistry(SecureRandom random, Clock clock) {
    this.random = random;
    this.clock = clock;
  }

  /** Where a cancel for a session must go. */
  record Target(Upstream upstream, int processId, byte[] secretKey) {
    Target {
      secretKey = secretKey.clone();
    }

    @Override
    public byte[] secretKey() {
      return secretKey.clone();
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Target t
          && t.upstream.equals(upstream)
          && t.processId == processId
          && MessageDigest.isEqual(t.secretKey, secretKey);
    }

    @Override
    public int hashCode() {
      return upstream.hashCode() * 31 + processId;
    }

    @Override
    public String toString() {
      return "Target["
          + upstream.host()
          + ":"
          + upstream.port()
          + ", pid "
          + processId
          + ", key redacted]";
    }
  }

  /** A registered session; closing it removes the key. */
  final class Entry implements AutoCloseable {
    private final byte[] clientKey;
    private final Target target;

    private Entry(byte[] clientKey, Target target) {
      this.clientKey = clientKey;
      this.target = target;
    }

    /** The secret key the client is given. */
    byte[] clientKey() {
      return clientKey.clone();
    }

    @Override
    public void close() {
      byProcessId.computeIfPresent(
          target.processId(),
          (pid, list) -> {
            List<Entry> rest = new ArrayList<>(list);
            rest.remove(this);
            return rest.isEmpty() ? null : List.copyOf(rest);
          });
    }
  }

  /** Registers a session and draws the key its client will be given. */
  Entry register(Target target) {
    byte[] key = new byte[4];
    random.nextBytes(key);
    Entry entry = new Entry(key, target);
    byProcessId.merge(
        target.processId(),
        List.of(entry),
        (a, b) -> {
          List<Entry> all = new ArrayList<>(a);
          all.addAll(b);
          return List.copyOf(all);
        });
    return entry;
  }

  /**
   * The upstream target for a client's cancel request, if the key is right and the sender is not
   * being ignored for guessing.
   */
  Optional<Target> resolve(InetAddress source, int processId, byte[] key) {
    synchronized (badCancels) {
      long[] window = badCancels.get(source);
      long now = clock.millis();
      if (window != null
          && now - window[0] < WINDOW_MILLIS
          && window[1] >= MAX_BAD_CANCELS_PER_WINDOW) {
        return Optional.empty();
      }
    }
    for (Entry e : byProcessId.getOrDefault(processId, List.of())) {
      if (MessageDigest.isEqual(e.clientKey, key)) {
        return Optional.of(e.target);
      }
    }
    recordBadCancel(source);
    return Optional.empty();
  }

  private void recordBadCancel(InetAddress source) {
    synchronized (badCancels) {
      long now = clock.millis();
      long[] window = badCancels.get(source);
      if (window == null || now - window[0] >= WINDOW_MILLIS) {
        badCancels.put(source, new long[] {now, 1});
      } else {
        window[1]++;
      }
    }
  }
}
