package dev.warden.store.embedded;

import dev.warden.core.identity.ScramCredential;
import dev.warden.core.identity.ServiceToken;
import dev.warden.core.identity.ServiceTokenStore;
import dev.warden.core.identity.UserNames;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Service tokens in the {@code service_tokens} table, beside the users of the same file so that
 * creating a token can check the users' names in the same transaction. Only the SCRAM verifier of a
 * token is stored. Revoked tokens stay (listed, and their names are not reused), so that the audit
 * trail's mentions of a name always mean one token.
 *
 * <p>{@link #recordUse} is called on an event loop after each successful login, so it only notes
 * the time in memory; one background thread writes it. Uses of a token within {@link #PRECISION} of
 * the last time written for it are dropped, so a token that logs in a thousand times a minute costs
 * one write a minute, and last use is precise to about a minute.
 */
final class SqliteServiceTokenStore implements ServiceTokenStore, AutoCloseable {
  /** How stale a token's recorded last use may be. */
  static final Duration PRECISION = Duration.ofMinutes(1);

  /** Names remembered as recently written; beyond this the memory is cleared, not grown. */
  private static final int MAX_REMEMBERED = 10_000;

  private static final int KEY_LENGTH = 32;
  private static final String COLUMNS =
      "name, groups, on_behalf_of, created, expires, revoked, last_used, created_by, description,"
          + " salt, iterations, stored_key, server_key";
  private static final Logger log = LoggerFactory.getLogger(SqliteServiceTokenStore.class);

  private final SqliteDatabase db;
  private final String actor;
  private final Clock clock;

  private final Map<String, Instant> pending = new ConcurrentHashMap<>();
  private final Map<String, Instant> written = new ConcurrentHashMap<>();
  private final AtomicBoolean flushScheduled = new AtomicBoolean();
  private final Object writerLock = new Object();
  private ExecutorService writer;
  private boolean closed;

  /**
   * @param actor who makes the changes through this store, as the audit trail names them
   */
  SqliteServiceTokenStore(SqliteDatabase db, String actor, Clock clock) {
    this.db = db;
    this.actor = actor;
    this.clock = clock;
  }

  @Override
  public void create(ServiceToken token, NameCheck check) {
    String groups = groups(token.groups());
    ScramCredential credential = token.credential();
    byte[] storedKey = credential.storedKey();
    byte[] serverKey = credential.serverKey();
    if (storedKey.length != KEY_LENGTH || serverKey.length != KEY_LENGTH) {
      throw new IllegalArgumentException("SCRAM-SHA-256 keys must be 32 bytes");
    }
    db.write(
        c -> {
          Optional<ServiceToken> existing = find(c, token.name());
          if (existing.isPresent()) {
            throw new NameTakenException(
                "a service token named "
                    + token.name()
                    + " already exists"
                    + (existing.get().revoked().isPresent()
                        ? " (revoked; the names of revoked tokens are not reused)"
                        : ""));
          }
          // Inside the write transaction, which holds the file's write lock: no user of the
          // same name can be added by another process between this check and the insert.
          Optional<String> refusal = check.refusal(token.name());
          if (refusal.isPresent()) {
            throw new NameTakenException(refusal.get());
          }
          try (PreparedStatement ps =
              c.prepareStatement(
                  "INSERT INTO service_tokens ("
                      + COLUMNS
                      + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
            ps.setString(1, token.name());
            ps.setString(2, groups);
            ps.setString(3, token.onBehalfOf().orElse(null));
            ps.setString(4, token.created().toString());
            ps.setString(5, token.expires().map(Instant::toString).orElse(null));
            ps.setString(6, token.revoked().map(Instant::toString).orElse(null));
            ps.setString(7, token.lastUsed().map(Instant::toString).orElse(null));
            ps.setString(8, token.createdBy());
            ps.setString(9, token.description());
            ps.setBytes(10, credential.salt());
            ps.setInt(11, credential.iterations());
            ps.setBytes(12, storedKey);
            ps.setBytes(13, serverKey);
            ps.executeUpdate();
          }
          Map<String, String> details = new LinkedHashMap<>();
          details.put("name", token.name());
          details.put("groups", groups);
          details.put("on_behalf_of", token.onBehalfOf().orElse(""));
          details.put("expires", token.expires().map(Instant::toString).orElse("never"));
          details.put("description", token.description());
          AuditOutbox.add(c, clock, "token-create", actor, details);
          return null;
        });
  }

  @Override
  public Optional<ServiceToken> find(String name) {
    // An invalid name cannot be stored; a login with one takes the unknown-user path.
    if (!UserNames.isValid(name)) {
      return Optional.empty();
    }
    return db.read(c -> find(c, name));
  }

  private static Optional<ServiceToken> find(Connection c, String name) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement("SELECT " + COLUMNS + " FROM service_tokens WHERE name = ?")) {
      ps.setString(1, name);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? Optional.of(token(rs)) : Optional.empty();
      }
    }
  }

  @Override
  public List<ServiceToken> list() {
    return db.read(
        c -> {
          try (PreparedStatement ps =
                  c.prepareStatement("SELECT " + COLUMNS + " FROM service_tokens ORDER BY name");
              ResultSet rs = ps.executeQuery()) {
            List<ServiceToken> tokens = new ArrayList<>();
            while (rs.next()) {
              tokens.add(token(rs));
            }
            return List.copyOf(tokens);
          }
        });
  }

  @Override
  public boolean revoke(String name, Instant at) {
    if (!UserNames.isValid(name)) {
      return false;
    }
    return db.write(
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "UPDATE service_tokens SET revoked = ? WHERE name = ? AND revoked IS NULL")) {
            ps.setString(1, at.toString());
            ps.setString(2, name);
            if (ps.executeUpdate() != 1) {
              return false;
            }
          }
          AuditOutbox.add(c, clock, "token-revoke", actor, Map.of("name", name));
          return true;
        });
  }

  @Override
  public void recordUse(String name, Instant at) {
    if (!UserNames.isValid(name)) {
      return;
    }
    Instant last = written.get(name);
    if (last != null && at.isBefore(last.plus(PRECISION))) {
      return;
    }
    pending.merge(name, at, (a, b) -> a.isAfter(b) ? a : b);
    if (flushScheduled.compareAndSet(false, true)) {
      synchronized (writerLock) {
        if (closed) {
          return;
        }
        if (writer == null) {
          writer =
              Executors.newSingleThreadExecutor(
                  Thread.ofPlatform().daemon().name("warden-token-use").factory());
        }
        try {
          writer.execute(this::flush);
        } catch (RejectedExecutionException e) {
          flushScheduled.set(false);
        }
      }
    }
  }

  /** Writes the noted uses; runs on the writer thread. */
  private void flush() {
    flushScheduled.set(false);
    Map<String, Instant> batch = new LinkedHashMap<>();
    for (String name : List.copyOf(pending.keySet())) {
      Instant at = pending.remove(name);
      if (at != null) {
        batch.put(name, at);
      }
    }
    if (batch.isEmpty()) {
      return;
    }
    try {
      db.write(
          c -> {
            for (Map.Entry<String, Instant> use : batch.entrySet()) {
              writeUse(c, use.getKey(), use.getValue());
            }
            return null;
          });
      if (written.size() + batch.size() > MAX_REMEMBERED) {
        written.clear();
      }
      batch.forEach((name, at) -> written.merge(name, at, (a, b) -> a.isAfter(b) ? a : b));
    } catch (RuntimeException e) {
      // Last use is informational; a failed write must not fail logins. Names only, no secrets.
      log.warn(
          "recording the last use of service tokens {} failed: {}", batch.keySet(), e.getMessage());
    }
  }

  /** Moves a token's last use forward, never back (two servers, or uses out of order). */
  private static void writeUse(Connection c, String name, Instant at) throws SQLException {
    Optional<Instant> stored;
    try (PreparedStatement ps =
        c.prepareStatement("SELECT last_used FROM service_tokens WHERE name = ?")) {
      ps.setString(1, name);
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          return;
        }
        stored = instant(rs.getString(1));
      }
    }
    if (stored.isPresent() && !stored.get().isBefore(at)) {
      return;
    }
    try (PreparedStatement ps =
        c.prepareStatement("UPDATE service_tokens SET last_used = ? WHERE name = ?")) {
      ps.setString(1, at.toString());
      ps.setString(2, name);
      ps.executeUpdate();
    }
  }

  /**
   * Writes the uses noted so far and waits for them, up to {@code timeout}; then later uses are
   * dropped. Called by {@link EmbeddedStore#close()} before the file is closed.
   */
  @Override
  public void close() {
    ExecutorService w;
    synchronized (writerLock) {
      closed = true;
      w = writer;
    }
    if (w == null) {
      return;
    }
    w.shutdown();
    try {
      if (!w.awaitTermination(SqliteDatabase.BUSY_TIMEOUT_MILLIS * 2L, TimeUnit.MILLISECONDS)) {
        log.warn("the last use of some service tokens was not recorded before closing the store");
        w.shutdownNow();
      }
    } catch (InterruptedException e) {
      w.shutdownNow();
      Thread.currentThread().interrupt();
    }
  }

  private static String groups(Set<String> groups) {
    TreeSet<String> sorted = new TreeSet<>();
    for (String g : groups) {
      sorted.add(UserNames.requireValid(g, "group name"));
    }
    return String.join(",", sorted);
  }

  private static Optional<Instant> instant(String text) {
    return text == null ? Optional.empty() : Optional.of(Instant.parse(text));
  }

  /** Reads a row, refusing anything Warden could not have written. */
  private static ServiceToken token(ResultSet rs) throws SQLException {
    String name = rs.getString("name");
    if (!UserNames.isValid(name)) {
      throw new StoreException("the service_tokens table holds an invalid name");
    }
    try {
      String groupText = rs.getString("groups");
      Set<String> groups =
          groupText.isEmpty() ? Set.of() : Set.copyOf(Arrays.asList(groupText.split(",", -1)));
      ScramCredential credential =
          new ScramCredential(
              rs.getBytes("salt"),
              rs.getInt("iterations"),
              rs.getBytes("stored_key"),
              rs.getBytes("server_key"));
      return new ServiceToken(
          name,
          groups,
          Optional.ofNullable(rs.getString("on_behalf_of")),
          Instant.parse(rs.getString("created")),
          instant(rs.getString("expires")),
          instant(rs.getString("revoked")),
          instant(rs.getString("last_used")),
          rs.getString("created_by"),
          credential,
          rs.getString("description"));
    } catch (IllegalArgumentException | DateTimeParseException | NullPointerException e) {
      throw new StoreException("the service_tokens table holds a corrupt row for " + name, e);
    }
  }
}
