package dev.warden.store.audit.index;

import dev.warden.core.audit.ChainedRecord;
import dev.warden.core.audit.search.AuditHit;
import dev.warden.core.audit.search.AuditQuery;
import dev.warden.core.audit.search.AuditResults;
import dev.warden.core.audit.search.AuditSearch;
import dev.warden.core.audit.search.AuditSearchException;
import dev.warden.core.audit.search.AuditTerms;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sqlite.Function;

/**
 * The embedded search index of the audit trail: a SQLite file of its own (e.g. {@code
 * auditDir/index.db}, never the users store), built from the log by {@link #accept} and searched
 * through the {@link AuditSearch} port.
 *
 * <p>The log is the source of truth; this file is derived from it and can be deleted and rebuilt at
 * any time ({@link #lastSeq} says where catching up starts). So it runs with {@code synchronous =
 * NORMAL}: a power cut may lose its last transactions, never its consistency, and {@code last_seq}
 * is written in the same transaction as the entries it covers.
 *
 * <p>A statement is one entry: its intent, with its outcome merged in when the outcome arrives.
 * Intents and outcomes are paired by log, session id and statement number: an outcome belongs to
 * the record with the same key just before it in the log if that record is an intent, and an
 * intent's outcome is the record with its key just after it if that is an outcome (session ids can
 * repeat after a restart, so only neighbours pair). Any other outcome becomes an entry of its own,
 * so that nothing in the log is invisible to search. Searches pick a plan per query ({@link
 * IndexQuery}).
 *
 * <p>Thread-safe: one writer at a time ({@link AuditIndexer} is the usual one), and searches on a
 * small pool of read connections, which WAL lets run alongside the writer.
 */
public final class AuditIndex implements AuditSearch, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(AuditIndex.class);

  /** Read connections kept for searches. */
  private static final int READERS = 4;

  /**
   * A condition matching fewer entries than this starts a search; when every condition matches
   * more, the search walks the time index instead (where, with conditions this common, the limit is
   * soon reached).
   */
  static final int DRIVE_CAP = 20_000;

  private final Path file;
  private final Clock clock;
  private final int driveCap;
  private final ReentrantLock writeLock = new ReentrantLock();
  private final Connection writer;
  private final BlockingQueue<Connection> readers = new ArrayBlockingQueue<>(READERS);
  private volatile boolean closed;

  private AuditIndex(Path file, Clock clock, int driveCap, Connection writer) {
    this.file = file;
    this.clock = clock;
    this.driveCap = driveCap;
    this.writer = writer;
  }

  /** Opens (or creates) the index in {@code file}; {@code clock} resolves relative times. */
  public static AuditIndex open(Path file, Clock clock) {
    return open(file, clock, DRIVE_CAP);
  }

  static AuditIndex open(Path file, Clock clock, int driveCap) {
    Connection c = null;
    try {
      Path parent = file.toAbsolutePath().getParent();
      if (parent != null) {
        Files.createDirectories(parent);
      }
      c = connect(file);
      try (Statement s = c.createStatement()) {
        s.execute("PRAGMA journal_mode = WAL");
        s.execute("PRAGMA synchronous = NORMAL");
        s.execute("PRAGMA cache_size = -65536");
      }
      if (IndexSchema.create(c)) {
        log.warn(
            "audit index {} was of another version; emptied, it is rebuilt from the log", file);
      }
      return new AuditIndex(file, clock, driveCap, c);
    } catch (SQLException | java.io.IOException e) {
      if (c != null) {
        try {
          c.close();
        } catch (SQLException ignored) {
          // Already failing.
        }
      }
      throw new AuditIndexException(
          "cannot open the audit index " + file + ": " + e.getMessage(), e);
    }
  }

  private static Connection connect(Path file) throws SQLException {
    Connection c = DriverManager.getConnection("jdbc:sqlite:" + file.toAbsolutePath());
    try (Statement s = c.createStatement()) {
      s.execute("PRAGMA busy_timeout = 5000");
      s.execute("PRAGMA trusted_schema = OFF");
      s.execute("PRAGMA temp_store = MEMORY");
    }
    Function.create(c, "warden_contains", new Contains(), 2, Function.FLAG_DETERMINISTIC);
    return c;
  }

  /** The last sequence number of log {@code logId} in the index, 0 when none is. */
  public long lastSeq(String logId) {
    writeLock.lock();
    try {
      checkOpen();
      return lastSeq(writer, logId);
    } catch (SQLException e) {
      throw new AuditIndexException(
          "reading the audit index " + file + " failed: " + e.getMessage(), e);
    } finally {
      writeLock.unlock();
    }
  }

  private static long lastSeq(Connection c, String logId) throws SQLException {
    try (PreparedStatement p = c.prepareStatement("SELECT last_seq FROM logs WHERE log_id = ?")) {
      p.setString(1, logId);
      try (ResultSet r = p.executeQuery()) {
        return r.next() ? r.getLong(1) : 0;
      }
    }
  }

  /**
   * Indexes {@code batch} of log {@code logId}, in one transaction. Records at or below {@link
   * #lastSeq} are skipped, so catching up may overlap what was already indexed; a gap is indexed
   * anyway and logged (the caller is expected to have caught up first).
   *
   * @return the log's last indexed sequence number afterwards
   */
  public long accept(String logId, List<ChainedRecord> batch) {
    writeLock.lock();
    try {
      checkOpen();
      try (Statement s = writer.createStatement()) {
        s.execute("BEGIN IMMEDIATE");
      }
      boolean committed = false;
      try {
        long last = lastSeq(writer, logId);
        long before = last;
        try (Ingest ingest = new Ingest(writer, logId)) {
          for (ChainedRecord r : batch) {
            if (r.seq() <= last) {
              continue;
            }
            if (r.seq() != last + 1) {
              log.warn(
                  "audit index: log {} jumps from record {} to {}; the records between are not"
                      + " indexed until it is rebuilt",
                  logId,
                  last,
                  r.seq());
            }
            ingest.record(r);
            last = r.seq();
          }
        }
        if (last != before) {
          try (PreparedStatement p =
              writer.prepareStatement(
                  "INSERT INTO logs (log_id, last_seq) VALUES (?, ?)"
                      + " ON CONFLICT (log_id) DO UPDATE SET last_seq = excluded.last_seq")) {
            p.setString(1, logId);
            p.setLong(2, last);
            p.executeUpdate();
          }
        }
        try (Statement s = writer.createStatement()) {
          s.execute("COMMIT");
        }
        committed = true;
        return last;
      } finally {
        if (!committed) {
          try (Statement s = writer.createStatement()) {
            s.execute("ROLLBACK");
          } catch (SQLException ignored) {
            // SQLite may have rolled back already; the first error is the one reported.
          }
        }
      }
    } catch (SQLException e) {
      throw new AuditIndexException(
          "writing the audit index " + file + " failed: " + e.getMessage(), e);
    } finally {
      writeLock.unlock();
    }
  }

  /** The statements of one ingest transaction. */
  private final class Ingest implements AutoCloseable {
    private final String logId;
    private final PreparedStatement insert;
    private final PreparedStatement term;
    private final PreparedStatement text;
    private final PreparedStatement previous;
    private final PreparedStatement complete;

    /**
     * Ids are assigned here rather than read back after each insert: one writer, one query less.
     */
    private long nextId;

    Ingest(Connection c, String logId) throws SQLException {
      this.logId = logId;
      try (Statement s = c.createStatement();
          ResultSet r = s.executeQuery("SELECT coalesce(max(id), 0) + 1 FROM entries")) {
        r.next();
        nextId = r.getLong(1);
      }
      insert =
          c.prepareStatement(
              "INSERT INTO entries (log_id, seq, time, session, stmt, awaiting, rows, duration_us,"
                  + " text, terms, doc, id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
      term = c.prepareStatement("INSERT OR IGNORE INTO terms (term, entry) VALUES (?, ?)");
      text = c.prepareStatement("INSERT INTO texts (rowid, text) VALUES (?, ?)");
      previous =
          c.prepareStatement(
              "SELECT id, awaiting, doc FROM entries WHERE log_id = ? AND session = ? AND stmt = ?"
                  + " AND session IS NOT NULL ORDER BY id DESC LIMIT 1");
      complete =
          c.prepareStatement(
              "UPDATE entries SET awaiting = 0, rows = ?, duration_us = ?, outcome_seq = ?,"
                  + " outcome = ?, terms = ? WHERE id = ?");
    }

    void record(ChainedRecord r) throws SQLException {
      byte[] payload = r.payload();
      Map<String, Object> fields = Payloads.fields(payload);
      Instant time = Payloads.time(fields).orElseGet(clock::instant);
      Object type = fields.get("type");
      if ("outcome".equals(type) && merge(r.seq(), payload, fields)) {
        return;
      }
      boolean intent = "intent".equals(type);
      String session = fields.get("session") instanceof String s ? s : null;
      Long stmt = fields.get("stmt") instanceof Long n ? n : null;
      boolean keyed = (intent || "outcome".equals(type)) && session != null && stmt != null;
      Set<String> terms = AuditTerms.of(fields);
      insert.setString(1, logId);
      insert.setLong(2, r.seq());
      insert.setLong(3, Payloads.micros(time));
      setString(insert, 4, keyed ? session : null);
      setLong(insert, 5, keyed ? stmt : null);
      insert.setInt(6, keyed && intent ? 1 : 0);
      setLong(insert, 7, fields.get("rows") instanceof Long n ? n : null);
      setLong(insert, 8, fields.get("duration_us") instanceof Long n ? n : null);
      String statementText = fields.get("text") instanceof String s ? s : null;
      setString(insert, 9, statementText);
      insert.setString(10, Terms.join(terms));
      insert.setBytes(11, payload);
      long id = nextId++;
      insert.setLong(12, id);
      insert.executeUpdate();
      addTerms(id, terms);
      if (statementText != null) {
        text.setLong(1, id);
        text.setString(2, statementText);
        text.executeUpdate();
      }
    }

    /**
     * Merges an outcome into its intent: the entry with the same key just before it, if that is an
     * intent still awaiting its outcome. False when there is none.
     */
    private boolean merge(long seq, byte[] payload, Map<String, Object> outcome)
        throws SQLException {
      if (!(outcome.get("session") instanceof String session)
          || !(outcome.get("stmt") instanceof Long stmt)) {
        return false;
      }
      previous.setString(1, logId);
      previous.setString(2, session);
      previous.setLong(3, stmt);
      long id;
      Map<String, Object> intent;
      try (ResultSet r = previous.executeQuery()) {
        if (!r.next() || r.getInt(2) != 1) {
          return false;
        }
        id = r.getLong(1);
        intent = Payloads.fields(r.getBytes(3));
      }
      Set<String> before = AuditTerms.of(intent);
      Set<String> after = AuditTerms.of(AuditHit.merge(intent, outcome));
      setLong(complete, 1, outcome.get("rows") instanceof Long n ? n : null);
      setLong(complete, 2, outcome.get("duration_us") instanceof Long n ? n : null);
      complete.setLong(3, seq);
      complete.setBytes(4, payload);
      complete.setString(5, Terms.join(after));
      complete.setLong(6, id);
      complete.executeUpdate();
      Set<String> added = new HashSet<>(after);
      added.removeAll(before);
      addTerms(id, added);
      return true;
    }

    private void addTerms(long id, Set<String> terms) throws SQLException {
      for (String t : terms) {
        term.setString(1, t);
        term.setLong(2, id);
        term.addBatch();
      }
      term.executeBatch();
    }

    @Override
    public void close() throws SQLException {
      insert.close();
      term.close();
      text.close();
      previous.close();
      complete.close();
    }
  }

  @Override
  public AuditResults search(AuditQuery query, int limit) {
    AuditSearch.checkLimit(limit);
    Connection c = reader();
    try {
      IndexQuery q = new IndexQuery(query, clock.instant());
      IndexQuery.Sql sql = plan(c, q, limit + 1);
      if (sql == null) {
        return new AuditResults(List.of(), false);
      }
      List<AuditHit> hits = new ArrayList<>();
      try (PreparedStatement p = prepare(c, sql);
          ResultSet r = p.executeQuery()) {
        while (r.next()) {
          hits.add(hit(r));
        }
      }
      boolean more = hits.size() > limit;
      return new AuditResults(more ? hits.subList(0, limit) : hits, more);
    } catch (SQLException e) {
      throw new AuditSearchException("searching the audit index failed: " + e.getMessage(), e);
    } finally {
      release(c);
    }
  }

  /** The plan for {@code q}, or null when a condition matches nothing at all. */
  private IndexQuery.Sql plan(Connection c, IndexQuery q, int limit) throws SQLException {
    IndexQuery.Driver best = null;
    long bestCount = driveCap;
    for (IndexQuery.Driver d : q.drivers()) {
      long n = count(c, IndexQuery.count(d.ids(), driveCap));
      if (n == 0) {
        return null;
      }
      if (n < bestCount) {
        best = d;
        bestCount = n;
      }
    }
    Optional<IndexQuery.Sql> range = q.countTimeRange(driveCap);
    if (best != null && range.isPresent() && count(c, range.get()) <= bestCount) {
      best = null;
    }
    return best == null ? q.scan(limit) : q.driven(best, limit);
  }

  private static long count(Connection c, IndexQuery.Sql sql) throws SQLException {
    try (PreparedStatement p = prepare(c, sql);
        ResultSet r = p.executeQuery()) {
      return r.next() ? r.getLong(1) : 0;
    }
  }

  private static PreparedStatement prepare(Connection c, IndexQuery.Sql sql) throws SQLException {
    PreparedStatement p = c.prepareStatement(sql.sql());
    int i = 1;
    for (Object o : sql.parameters()) {
      switch (o) {
        case Long l -> p.setLong(i, l);
        case Integer n -> p.setInt(i, n);
        case String s -> p.setString(i, s);
        default -> throw new IllegalArgumentException("cannot bind " + o.getClass());
      }
      i++;
    }
    return p;
  }

  private static AuditHit hit(ResultSet r) throws SQLException {
    Map<String, Object> record = Payloads.fields(r.getBytes(4));
    long outcomeSeq = r.getLong(5);
    boolean hasOutcome = !r.wasNull();
    byte[] outcome = r.getBytes(6);
    Map<String, Object> fields =
        Payloads.hitFields(
            record, outcome == null ? Optional.empty() : Optional.of(Payloads.fields(outcome)));
    return new AuditHit(
        r.getString(1),
        r.getLong(2),
        Payloads.instant(r.getLong(3)),
        hasOutcome ? OptionalLong.of(outcomeSeq) : OptionalLong.empty(),
        fields);
  }

  /** Updates the planner's statistics; worth running after a large catch-up. */
  public void analyze() {
    writeLock.lock();
    try (Statement s = writer.createStatement()) {
      checkOpen();
      s.execute("PRAGMA optimize");
    } catch (SQLException e) {
      throw new AuditIndexException("analysing the audit index failed: " + e.getMessage(), e);
    } finally {
      writeLock.unlock();
    }
  }

  private Connection reader() {
    checkOpen();
    Connection c = readers.poll();
    if (c != null) {
      return c;
    }
    try {
      Connection fresh = connect(file);
      try (Statement s = fresh.createStatement()) {
        s.execute("PRAGMA query_only = ON");
        s.execute("PRAGMA mmap_size = 1073741824");
      }
      return fresh;
    } catch (SQLException e) {
      throw new AuditSearchException(
          "cannot open the audit index " + file + ": " + e.getMessage(), e);
    }
  }

  private void release(Connection c) {
    if (closed || !readers.offer(c)) {
      closeQuietly(c);
    }
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("the audit index " + file + " is closed");
    }
  }

  @Override
  public void close() {
    writeLock.lock();
    try {
      if (closed) {
        return;
      }
      closed = true;
      Connection c;
      while ((c = readers.poll()) != null) {
        closeQuietly(c);
      }
      closeQuietly(writer);
    } finally {
      writeLock.unlock();
    }
  }

  private static void closeQuietly(Connection c) {
    try {
      c.close();
    } catch (SQLException e) {
      log.debug("closing an audit index connection failed", e);
    }
  }

  private static void setString(PreparedStatement p, int i, String v) throws SQLException {
    if (v == null) {
      p.setNull(i, Types.VARCHAR);
    } else {
      p.setString(i, v);
    }
  }

  private static void setLong(PreparedStatement p, int i, Long v) throws SQLException {
    if (v == null) {
      p.setNull(i, Types.BIGINT);
    } else {
      p.setLong(i, v);
    }
  }

  /**
   * {@code warden_contains(text, folded)}: whether {@code text}, case-folded as {@link
   * AuditQuery#fold} does, contains {@code folded}; false for a NULL text (an event).
   */
  private static final class Contains extends Function {
    @Override
    protected void xFunc() throws SQLException {
      String text = value_text(0);
      String word = value_text(1);
      result(text != null && word != null && AuditQuery.fold(text).contains(word) ? 1 : 0);
    }
  }
}
