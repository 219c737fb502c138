package dev.warden.store.embedded;

import dev.warden.core.identity.LocalUser;
import dev.warden.core.identity.ScramCredential;
import dev.warden.core.identity.UserDirectory;
import dev.warden.core.identity.UserNames;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * Local users in the {@code users} table. Groups are stored as a sorted comma-separated list, which
 * is unambiguous because {@link UserNames} allows no comma in a name.
 */
final class SqliteUserDirectory implements UserDirectory {
  private static final int KEY_LENGTH = 32;
  private static final String COLUMNS =
      "name, groups, salt, iterations, stored_key, server_key, created";

  private final SqliteDatabase db;
  private final String actor;
  private final Clock clock;

  /**
   * @param actor who makes the changes through this directory, as the audit trail names them
   */
  SqliteUserDirectory(SqliteDatabase db, String actor, Clock clock) {
    this.db = db;
    this.actor = actor;
    this.clock = clock;
  }

  @Override
  public Optional<LocalUser> find(String name) {
    // An invalid name cannot be stored, so it is simply absent: a login attempt with a strange
    // name takes the unknown-user path like any other.
    if (!UserNames.isValid(name)) {
      return Optional.empty();
    }
    return db.read(
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement("SELECT " + COLUMNS + " FROM users WHERE name = ?")) {
            ps.setString(1, name);
            try (ResultSet rs = ps.executeQuery()) {
              return rs.next() ? Optional.of(user(rs)) : Optional.<LocalUser>empty();
            }
          }
        });
  }

  @Override
  public List<LocalUser> list() {
    return db.read(
        c -> {
          try (PreparedStatement ps =
                  c.prepareStatement("SELECT " + COLUMNS + " FROM users ORDER BY name");
              ResultSet rs = ps.executeQuery()) {
            List<LocalUser> users = new ArrayList<>();
            while (rs.next()) {
              users.add(user(rs));
            }
            return List.copyOf(users);
          }
        });
  }

  @Override
  public boolean put(LocalUser user) {
    UserNames.requireValid(user.name(), "user name");
    String groups = groups(user.groups());
    ScramCredential credential = user.credential();
    byte[] storedKey = credential.storedKey();
    byte[] serverKey = credential.serverKey();
    if (storedKey.length != KEY_LENGTH || serverKey.length != KEY_LENGTH) {
      throw new IllegalArgumentException("SCRAM-SHA-256 keys must be 32 bytes");
    }
    return db.write(
        c -> {
          boolean exists;
          try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM users WHERE name = ?")) {
            ps.setString(1, user.name());
            try (ResultSet rs = ps.executeQuery()) {
              exists = rs.next();
            }
          }
          // An update keeps the original creation time: the contract replaces only the
          // credential and the groups.
          String sql =
              exists
                  ? "UPDATE users SET groups = ?, salt = ?, iterations = ?, stored_key = ?,"
                      + " server_key = ? WHERE name = ?"
                  : "INSERT INTO users (groups, salt, iterations, stored_key, server_key, name,"
                      + " created) VALUES (?, ?, ?, ?, ?, ?, ?)";
          try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, groups);
            ps.setBytes(2, credential.salt());
            ps.setInt(3, credential.iterations());
            ps.setBytes(4, storedKey);
            ps.setBytes(5, serverKey);
            ps.setString(6, user.name());
            if (!exists) {
              ps.setString(7, user.created().toString());
            }
            ps.executeUpdate();
          }
          AuditOutbox.add(
              c,
              clock,
              exists ? "user-update" : "user-add",
              actor,
              Map.of("name", user.name(), "groups", groups));
          return !exists;
        });
  }

  @Override
  public boolean remove(String name) {
    if (!UserNames.isValid(name)) {
      return false;
    }
    return db.write(
        c -> {
          try (PreparedStatement ps = c.prepareStatement("DELETE FROM users WHERE name = ?")) {
            ps.setString(1, name);
            if (ps.executeUpdate() != 1) {
              return false;
            }
          }
          AuditOutbox.add(c, clock, "user-remove", actor, Map.of("name", name));
          return true;
        });
  }

  private static String groups(Set<String> groups) {
    TreeSet<String> sorted = new TreeSet<>();
    for (String g : groups) {
      sorted.add(UserNames.requireValid(g, "group name"));
    }
    return String.join(",", sorted);
  }

  /** Reads a row, refusing anything Warden could not have written. */
  private static LocalUser user(ResultSet rs) throws SQLException {
    String name = rs.getString("name");
    if (!UserNames.isValid(name)) {
      throw new StoreException("the users table holds an invalid name");
    }
    try {
      String groupText = rs.getString("groups");
      Set<String> groups =
          groupText.isEmpty()
              ? Set.of()
              : Set.copyOf(
                  Arrays.stream(groupText.split(",", -1))
                      .map(g -> UserNames.requireValid(g, "group name"))
                      .toList());
      ScramCredential credential =
          new ScramCredential(
              rs.getBytes("salt"),
              rs.getInt("iterations"),
              rs.getBytes("stored_key"),
              rs.getBytes("server_key"));
      return new LocalUser(name, groups, credential, Instant.parse(rs.getString("created")));
    } catch (IllegalArgumentException | DateTimeParseException | NullPointerException e) {
      throw new StoreException("the users table holds a corrupt row for " + name, e);
    }
  }
}
