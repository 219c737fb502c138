package dev.warden.store.embedded;

import dev.warden.core.audit.AuditEvent;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Administrative changes made in the embedded store (users added, changed, removed), written in the
 * same transaction as the change itself, so that a change is never made without its record and a
 * record never claims a change that was rolled back (the transactional outbox pattern). The running
 * server moves them into the audit trail, which one process writes at a time, and removes them once
 * they are durable there; a change made while no server runs is recorded when one next starts.
 * Delivery is at least once: a server stopped between the two steps records it again.
 */
public final class AuditOutbox {
  private final SqliteDatabase db;

  AuditOutbox(SqliteDatabase db) {
    this.db = db;
  }

  /**
   * An event waiting in the outbox.
   *
   * @param id its position; {@link #delivered} takes the last one moved
   */
  public record Entry(long id, AuditEvent event) {}

  /** Adds an event inside the caller's transaction {@code c}. */
  static void add(
      Connection c, Clock clock, String event, String actor, Map<String, String> details)
      throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "INSERT INTO audit_outbox (time, event, actor, details) VALUES (?, ?, ?, ?)")) {
      ps.setString(1, clock.instant().toString());
      ps.setString(2, event);
      ps.setString(3, actor);
      ps.setString(4, encode(details));
      ps.executeUpdate();
    }
  }

  /** The oldest waiting events, at most {@code max}. */
  public List<Entry> pending(int max) {
    return db.read(
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT id, time, event, actor, details FROM audit_outbox ORDER BY id LIMIT ?")) {
            ps.setInt(1, max);
            try (ResultSet rs = ps.executeQuery()) {
              List<Entry> out = new ArrayList<>();
              while (rs.next()) {
                out.add(
                    new Entry(
                        rs.getLong(1),
                        new AuditEvent(
                            Instant.parse(rs.getString(2)),
                            rs.getString(3),
                            true,
                            rs.getString(4),
                            Optional.empty(),
                            decode(rs.getString(5)))));
              }
              return List.copyOf(out);
            }
          }
        });
  }

  /** Removes the events up to and including {@code id}: they are durable in the trail. */
  public void delivered(long id) {
    db.write(
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement("DELETE FROM audit_outbox WHERE id <= ?")) {
            ps.setLong(1, id);
            return ps.executeUpdate();
          }
        });
  }

  /**
   * Details as {@code key=value} lines, each part percent-escaped for {@code %}, {@code =} and
   * newlines: simple, unambiguous, and readable in the file.
   */
  static String encode(Map<String, String> details) {
    StringBuilder out = new StringBuilder();
    for (Map.Entry<String, String> e : new TreeMap<>(details).entrySet()) {
      out.append(escape(e.getKey())).append('=').append(escape(e.getValue())).append('\n');
    }
    return out.toString();
  }

  static Map<String, String> decode(String text) {
    Map<String, String> out = new TreeMap<>();
    for (String line : text.split("\n")) {
      if (line.isEmpty()) {
        continue;
      }
      int eq = line.indexOf('=');
      if (eq < 0) {
        throw new StoreException("the audit outbox holds a corrupt entry");
      }
      out.put(unescape(line.substring(0, eq)), unescape(line.substring(eq + 1)));
    }
    return out;
  }

  private static String escape(String s) {
    return s.replace("%", "%25").replace("=", "%3D").replace("\n", "%0A").replace("\r", "%0D");
  }

  private static String unescape(String s) {
    return s.replace("%0D", "\r").replace("%0A", "\n").replace("%3D", "=").replace("%25", "%");
  }
}
