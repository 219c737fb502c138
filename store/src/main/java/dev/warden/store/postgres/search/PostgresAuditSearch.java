package dev.warden.store.postgres.search;

import dev.warden.core.audit.search.AuditHit;
import dev.warden.core.audit.search.AuditQuery;
import dev.warden.core.audit.search.AuditResults;
import dev.warden.core.audit.search.AuditSearch;
import dev.warden.core.audit.search.AuditSearchException;
import dev.warden.store.audit.index.Payloads;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import javax.sql.DataSource;
import org.postgresql.PGStatement;

/**
 * Searches the audit records every Warden instance writes to the shared PostgreSQL table {@code
 * warden_audit}, with the meaning of the embedded index ({@link AuditQuery#matches}; the two pass
 * the same contract test), so that one search finds every instance's records.
 *
 * <p>Nothing is stored for the search beyond indexes and one SQL function ({@link #prepare}):
 * statements are paired with their outcomes when searched, a record with the next record of the
 * same log, session and statement number, through an index on exactly that.
 */
public final class PostgresAuditSearch implements AuditSearch {
  /** How long one search may run before the server cancels it. */
  static final int TIMEOUT_SECONDS = 30;

  private final DataSource dataSource;
  private final Clock clock;

  /** Whether {@code warden_audit_names_v1} exists; assumed until {@link #prepare} finds out. */
  private volatile boolean namesFunction = true;

  /**
   * @param dataSource connections to the database holding {@code warden_audit}
   * @param clock what relative times ({@code since:24h}) count back from
   */
  public PostgresAuditSearch(DataSource dataSource, Clock clock) {
    this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  /** A search with the system clock. */
  public PostgresAuditSearch(DataSource dataSource) {
    this(dataSource, Clock.systemUTC());
  }

  /**
   * Creates the search's function and indexes where missing and the role may (the table must exist:
   * the audit store creates it). What the role may not create is logged with the statement an
   * administrator can run, and searches work without it, more slowly. Creating an index on a large
   * table takes a while and holds off writes.
   *
   * @return whether statement text has a trigram index ({@code pg_trgm} was there or could be
   *     created)
   * @throws AuditSearchException when the table is missing or the database fails
   */
  public boolean prepare() {
    try (Connection c = dataSource.getConnection()) {
      SearchSchema.Prepared prepared = SearchSchema.create(c);
      namesFunction = prepared.namesFunction();
      return prepared.trigrams();
    } catch (SQLException e) {
      throw new AuditSearchException(
          "preparing the audit search in PostgreSQL failed: " + e.getMessage(), e);
    }
  }

  @Override
  public AuditResults search(AuditQuery query, int limit) {
    AuditSearch.checkLimit(limit);
    SearchSql.Sql sql = SearchSql.of(query, clock.instant(), limit + 1, namesFunction);
    List<AuditHit> hits = new ArrayList<>();
    try (Connection c = dataSource.getConnection();
        PreparedStatement p = c.prepareStatement(sql.sql())) {
      p.setQueryTimeout(TIMEOUT_SECONDS);
      // Planned for these values every time: a generic plan, which the driver would switch to
      // after a few executions, cannot know whether a filter is selective.
      p.unwrap(PGStatement.class).setPrepareThreshold(0);
      int i = 1;
      for (Object o : sql.parameters()) {
        switch (o) {
          case String[] strings -> {
            Array a = c.createArrayOf("text", strings);
            p.setArray(i, a);
          }
          case OffsetDateTime t -> p.setObject(i, t);
          case Long n -> p.setLong(i, n);
          case Integer n -> p.setInt(i, n);
          case String s -> p.setString(i, s);
          case SearchSql.Json json -> p.setString(i, json.text());
          default -> throw new IllegalArgumentException("cannot bind " + o.getClass());
        }
        i++;
      }
      try (ResultSet r = p.executeQuery()) {
        while (r.next()) {
          hits.add(hit(r));
        }
      }
    } catch (SQLException e) {
      throw new AuditSearchException(
          "searching the audit records in PostgreSQL failed: " + e.getMessage(), e);
    }
    boolean more = hits.size() > limit;
    return new AuditResults(more ? hits.subList(0, limit) : hits, more);
  }

  private static AuditHit hit(ResultSet r) throws SQLException {
    Map<String, Object> record = Payloads.fields(r.getBytes(4));
    long outcomeSeq = r.getLong(5);
    boolean hasOutcome = !r.wasNull();
    byte[] outcome = r.getBytes(6);
    return new AuditHit(
        r.getString(1),
        r.getLong(2),
        r.getObject(3, OffsetDateTime.class).toInstant(),
        hasOutcome ? OptionalLong.of(outcomeSeq) : OptionalLong.empty(),
        Payloads.hitFields(
            record, outcome == null ? Optional.empty() : Optional.of(Payloads.fields(outcome))));
  }
}
