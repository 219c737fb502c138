package dev.warden.core.statement;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The SQL-level prepared statements ({@code PREPARE name AS ...}) of one session, so that {@code
 * EXECUTE name} is judged as what it runs.
 *
 * <p>Warden learns of a PREPARE when it is sent, not when the server accepts it, and a PREPARE the
 * server refuses leaves the older statement of that name in place. So a name keeps every statement
 * it may stand for, and an EXECUTE is judged against all of them. Names are forgotten only when the
 * server confirms it dropped them all ({@link #clear}, after DEALLOCATE ALL or DISCARD ALL):
 * forgetting one the server still holds could let a later EXECUTE of it be judged by the wrong
 * statement. Confined to the session's thread.
 */
public final class PreparedStatements {
  /** Names a session may define; past it every EXECUTE is unknown (a flood would cost memory). */
  public static final int MAX_NAMES = 10_000;

  private final Map<String, List<Statement>> byName = new HashMap<>();

  /** Records that {@code name} may now stand for {@code statement}. */
  public void prepared(String name, Statement statement) {
    if (byName.size() >= MAX_NAMES && !byName.containsKey(name)) {
      return; // lookup() then reports the name as unknown, which policy treats as unknown
    }
    List<Statement> candidates = byName.computeIfAbsent(name, n -> new ArrayList<>(1));
    if (!candidates.contains(statement)) {
      candidates.add(statement);
    }
  }

  /** Every statement {@code name} may stand for; empty if Warden knows of none. */
  public List<Statement> lookup(String name) {
    return byName.getOrDefault(name, List.of());
  }

  /** The server confirmed {@code DEALLOCATE ALL} or {@code DISCARD ALL}. */
  public void clear() {
    byName.clear();
  }
}
