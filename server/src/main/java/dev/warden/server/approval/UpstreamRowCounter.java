package dev.warden.server.approval;

import dev.warden.core.environment.Upstream;
import dev.warden.core.gate.Decision;
import dev.warden.core.gate.SessionContext;
import dev.warden.core.identity.IdentitySettings;
import dev.warden.core.statement.Statement;
import dev.warden.core.statement.StatementKind;
import dev.warden.proxy.postgres.StartupOptions;
import dev.warden.server.UpstreamJdbc;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Properties;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Measures how many rows a change would change, for reviewers and automatic approval rules, by
 * running it on a connection of its own inside a transaction that is always rolled back: as the
 * requester's database role (the environment's role mapping) with the requester's {@code warden.*}
 * settings, so row-level security counts what the requester could change, and with statement and
 * lock timeouts so that it cannot wait or run long.
 *
 * <p>Only a single INSERT, UPDATE, DELETE or MERGE sent without parameters is measured; other
 * statements (schema changes, several statements, prepared statements with parameters) are not, and
 * reviewers see no count. What the rolled-back run cannot undo is what the database cannot roll
 * back: sequence values it drew, and effects of functions with side effects outside the database.
 * It sees committed data only, not the requester's own open transaction.
 */
public final class UpstreamRowCounter implements ApprovalGateway.RowCounter {
  private static final Logger log = LoggerFactory.getLogger(UpstreamRowCounter.class);
  private static final Set<String> CHANGES = Set.of("INSERT", "UPDATE", "DELETE", "MERGE");

  private final Duration timeout;

  /**
   * @param timeout the longest the measurement may run (and half of it, wait for a lock)
   */
  public UpstreamRowCounter(Duration timeout) {
    this.timeout = timeout;
  }

  @Override
  public OptionalLong count(
      SessionContext session, Decision decision, String text, List<byte[]> parameters) {
    List<Statement> statements = decision.analysis().statements();
    if (!parameters.isEmpty()
        || statements.size() != 1
        || statements.getFirst().kind() != StatementKind.WRITE
        || !CHANGES.contains(statements.getFirst().command())) {
      return OptionalLong.empty();
    }
    Optional<Upstream> role = session.environment().upstreamFor(session.identity());
    if (role.isEmpty()) {
      return OptionalLong.empty();
    }
    String database = role.get().databaseFor(session.database());
    try (Connection c = open(role.get(), database, session)) {
      c.setAutoCommit(false);
      try (java.sql.Statement s = c.createStatement()) {
        long millis = Math.max(1, timeout.toMillis());
        s.execute("SET LOCAL statement_timeout = " + millis);
        s.execute("SET LOCAL lock_timeout = " + Math.max(1, millis / 2));
        long rows;
        if (s.execute(text)) {
          rows = 0;
          try (ResultSet rs = s.getResultSet()) {
            while (rs.next()) {
              rows++;
            }
          }
        } else {
          rows = Math.max(0, s.getLargeUpdateCount());
        }
        return OptionalLong.of(rows);
      } finally {
        c.rollback();
      }
    } catch (SQLException e) {
      log.info(
          "session {}: the rows of a statement that needs approval could not be measured: {}",
          session.id(),
          e.getMessage());
      return OptionalLong.empty();
    }
  }

  private Connection open(Upstream upstream, String database, SessionContext session)
      throws SQLException {
    Properties extra = new Properties();
    extra.setProperty("options", StartupOptions.of(IdentitySettings.of(session.identity())));
    return UpstreamJdbc.open(
        upstream, database, "warden approval measurement", timeout.toSeconds() + 30, extra);
  }
}
