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
 * is written in the same transaction as the entries it covers. ({@code synchronous = OFF} would
 * save little once the indexer writes a transaction per tenth of a second, and a power cut could
 * then corrupt the file, which nothing would notice: {@code last_seq} would be trusted over entries
 * that were lost.)
 *
 * <p>Keeping it up to date is meant to cost less than the proxy's own work per statement (see
 * {@code AuditIndexIngestBenchmark}): a statement text is stored and trigram-indexed once however
 * often it runs; terms are numbered, and only those that could start a search get postings (not the
 * dominant values of a few fields, {@link Terms#indexed}, and no more once a term has {@link
 * #DRIVE_CAP} of them); an intent whose outcome arrives in the same transaction is written once,
 * merged; and the writer remembers recent terms, texts and awaiting intents instead of reading them
 * back.
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

  /**
   * What the writer remembers between batches, under {@link #writeLock}: numbers of terms and texts
   * already in the file, and the intents still awaiting their outcome, so that the usual outcome
   * (arriving a few records after its intent) is merged without reading the intent back. Every
   * entry is a cache of what the file holds: emptied when a transaction fails, since what it added
   * is then gone.
   */
  private final Lru<String, TermState> termIds = new Lru<>(TERM_CACHE);

  private final Lru<String, Long> textIds = new Lru<>(TEXT_CACHE);
  private final Lru<Key, Pending> awaiting = new Lru<>(AWAITING_CACHE);

  private static final int TERM_CACHE = 65_536;
  private static final int TEXT_CACHE = 8_192;
  private static final int AWAITING_CACHE = 16_384;

  /**
   * A term's number and how many postings it has, up to {@link #driveCap}: a term with that many
   * can never start a search (the planner drives only from fewer), so it is marked {@code
   * saturated} and gets no more. Under a steady workload most terms (the application, the tables,
   * the users) saturate early, and an entry then costs no posting at all.
   */
  private static final class TermState {
    final long id;
    int postings;
    boolean saturated;

    TermState(long id, int postings, boolean saturated) {
      this.id = id;
      this.postings = postings;
      this.saturated = saturated;
    }
  }

  /** A statement's key: intents and outcomes pair by it. */
  private record Key(String logId, String session, long stmt) {}

  /** An intent awaiting its outcome: its entry, fields and terms. */
  private record Pending(long id, Map<String, Object> fields, Set<String> terms) {}

  /** An entry to be written: its record's number, time (µs), key, text number and terms. */
  private record Row(
      long id,
      long seq,
      long time,
      String session,
      Long stmt,
      Long textId,
      Map<String, Object> fields,
      Set<String> terms,
      byte[] payload) {}

  /** An outcome merged into its intent: its record, and the merged fields and terms. */
  private record Outcome(
      long seq,
      byte[] payload,
      Map<String, Object> own,
      Map<String, Object> fields,
      Set<String> terms) {}

  /** A term's posting of an entry. */
  private record Posting(long term, long entry) {
    static final java.util.Comparator<Posting> ORDER =
        java.util.Comparator.comparingLong(Posting::term).thenComparingLong(Posting::entry);
  }

  /** A map forgetting its least recently used entry beyond {@code capacity}. */
  private static final class Lru<K, V> extends java.util.LinkedHashMap<K, V> {
    private final int capacity;

    Lru(int capacity) {
      super(16, 0.75f, true);
      this.capacity = capacity;
    }

    @Override
    protected boolean removeEldestEntry(Map.Entry<K, V> eldest) {
      return size() > capacity;
    }
  }

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
          ingest.flush();
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
          termIds.clear();
          textIds.clear();
          awaiting.clear();
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
    private final Connection c;
    private final PreparedStatement insert;
    private final PreparedStatement posting;
    private final PreparedStatement previous;
    private final PreparedStatement complete;
    private PreparedStatement termLookup;
    private PreparedStatement termInsert;
    private PreparedStatement termCount;
    private PreparedStatement saturate;
    private PreparedStatement textLookup;
    private PreparedStatement textInsert;
    private PreparedStatement ftsInsert;

    /**
     * Ids are assigned here rather than read back after each insert: one writer, one query less.
     */
    private long nextId;

    /** Postings of this transaction, written at its end. */
    private final List<Posting> postings = new ArrayList<>();

    /** Intents of this transaction not yet written, by key, in log order. */
    private final Map<Key, Row> open = new java.util.LinkedHashMap<>();

    Ingest(Connection c, String logId) throws SQLException {
      this.logId = logId;
      this.c = c;
      try (Statement s = c.createStatement();
          ResultSet r = s.executeQuery("SELECT coalesce(max(id), 0) + 1 FROM entries")) {
        r.next();
        nextId = r.getLong(1);
      }
      insert =
          c.prepareStatement(
              "INSERT INTO entries (log_id, seq, time, session, stmt, awaiting, rows, duration_us,"
                  + " text_id, terms, doc, id, outcome_seq, outcome)"
                  + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
      posting = c.prepareStatement("INSERT OR IGNORE INTO postings (term, entry) VALUES (?, ?)");
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
      Object type = fields.get("type");
      if ("outcome".equals(type) && merge(r.seq(), payload, fields)) {
        return;
      }
      boolean intent = "intent".equals(type);
      String session = fields.get("session") instanceof String s ? s : null;
      Long stmt = fields.get("stmt") instanceof Long n ? n : null;
      boolean keyed = (intent || "outcome".equals(type)) && session != null && stmt != null;
      String statementText = fields.get("text") instanceof String s ? s : null;
      Row row =
          new Row(
              nextId++,
              r.seq(),
              Payloads.micros(Payloads.time(fields).orElseGet(clock::instant)),
              keyed ? session : null,
              keyed ? stmt : null,
              statementText == null ? null : textId(statementText),
              fields,
              AuditTerms.of(fields),
              payload);
      if (!keyed) {
        insert(row, false, null);
        return;
      }
      Key key = new Key(logId, session, stmt);
      Row superseded = open.remove(key);
      if (superseded != null) {
        insert(superseded, true, null); // Its outcome can no longer pair with it.
      }
      awaiting.remove(key);
      if (intent) {
        // Held until its outcome arrives in this transaction (then written once, merged) or the
        // transaction ends (then written awaiting it).
        open.put(key, row);
      } else {
        insert(row, false, null);
      }
    }

    /**
     * Writes the intents still awaiting their outcome at the end of the transaction, and the
     * postings.
     */
    void flush() throws SQLException {
      for (Map.Entry<Key, Row> e : open.entrySet()) {
        Row row = e.getValue();
        insert(row, true, null);
        awaiting.put(e.getKey(), new Pending(row.id(), row.fields(), row.terms()));
      }
      open.clear();
      writePostings();
    }

    /** Inserts {@code row}, an intent awaiting its outcome or not, with {@code outcome} merged. */
    private void insert(Row row, boolean awaitingOutcome, Outcome outcome) throws SQLException {
      Set<String> terms = outcome == null ? row.terms() : outcome.terms();
      Map<String, Object> measured = outcome == null ? row.fields() : outcome.own();
      insert.setString(1, logId);
      insert.setLong(2, row.seq());
      insert.setLong(3, row.time());
      setString(insert, 4, row.session());
      setLong(insert, 5, row.stmt());
      insert.setInt(6, awaitingOutcome ? 1 : 0);
      setLong(insert, 7, measured.get("rows") instanceof Long n ? n : null);
      setLong(insert, 8, measured.get("duration_us") instanceof Long n ? n : null);
      setLong(insert, 9, row.textId());
      insert.setString(10, Terms.join(terms));
      insert.setBytes(11, row.payload());
      insert.setLong(12, row.id());
      if (outcome == null) {
        insert.setNull(13, Types.BIGINT);
        insert.setNull(14, Types.BLOB);
      } else {
        insert.setLong(13, outcome.seq());
        insert.setBytes(14, outcome.payload());
      }
      insert.executeUpdate();
      addTerms(row.id(), terms);
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
      Key key = new Key(logId, session, stmt);
      Row held = open.remove(key);
      if (held != null) {
        Map<String, Object> merged = AuditHit.merge(held.fields(), outcome);
        insert(held, false, new Outcome(seq, payload, outcome, merged, AuditTerms.of(merged)));
        return true;
      }
      Pending intent = awaiting.remove(key);
      if (intent == null) {
        intent = previous(session, stmt);
        if (intent == null) {
          return false;
        }
      }
      Set<String> after = AuditTerms.of(AuditHit.merge(intent.fields(), outcome));
      setLong(complete, 1, outcome.get("rows") instanceof Long n ? n : null);
      setLong(complete, 2, outcome.get("duration_us") instanceof Long n ? n : null);
      complete.setLong(3, seq);
      complete.setBytes(4, payload);
      complete.setString(5, Terms.join(after));
      complete.setLong(6, intent.id());
      complete.executeUpdate();
      Set<String> added = new HashSet<>(after);
      added.removeAll(intent.terms());
      addTerms(intent.id(), added);
      return true;
    }

    /** The intent awaiting an outcome of this key, read from the file; null when there is none. */
    private Pending previous(String session, long stmt) throws SQLException {
      previous.setString(1, logId);
      previous.setString(2, session);
      previous.setLong(3, stmt);
      try (ResultSet r = previous.executeQuery()) {
        if (!r.next() || r.getInt(2) != 1) {
          return null;
        }
        Map<String, Object> fields = Payloads.fields(r.getBytes(3));
        return new Pending(r.getLong(1), fields, AuditTerms.of(fields));
      }
    }

    private void addTerms(long id, Set<String> terms) throws SQLException {
      for (String t : terms) {
        if (!Terms.indexed(t)) {
          continue;
        }
        TermState state = term(t);
        if (state.saturated) {
          continue;
        }
        postings.add(new Posting(state.id, id));
        if (++state.postings >= driveCap) {
          if (saturate == null) {
            saturate = c.prepareStatement("UPDATE term_ids SET saturated = 1 WHERE id = ?");
          }
          saturate.setLong(1, state.id);
          saturate.executeUpdate();
          state.saturated = true;
        }
      }
    }

    /**
     * Writes the transaction's postings, sorted by term then entry: each term's new postings then
     * land together at the end of its range instead of one B-tree descent to a different page per
     * posting.
     */
    private void writePostings() throws SQLException {
      postings.sort(Posting.ORDER);
      for (Posting p : postings) {
        posting.setLong(1, p.term());
        posting.setLong(2, p.entry());
        posting.addBatch();
      }
      if (!postings.isEmpty()) {
        posting.executeBatch();
      }
      postings.clear();
    }

    private TermState term(String term) throws SQLException {
      TermState known = termIds.get(term);
      if (known != null) {
        return known;
      }
      if (termLookup == null) {
        termLookup = c.prepareStatement("SELECT id, saturated FROM term_ids WHERE term = ?");
        termInsert = c.prepareStatement("INSERT INTO term_ids (term) VALUES (?)");
        termCount =
            c.prepareStatement(
                "SELECT count(*) FROM (SELECT 1 FROM postings WHERE term = ? LIMIT ?)");
      }
      TermState state = null;
      termLookup.setString(1, term);
      try (ResultSet r = termLookup.executeQuery()) {
        if (r.next()) {
          state = new TermState(r.getLong(1), 0, r.getInt(2) != 0);
        }
      }
      if (state == null) {
        termInsert.setString(1, term);
        termInsert.executeUpdate();
        state = new TermState(lastRowId(), 0, false);
      } else if (!state.saturated) {
        termCount.setLong(1, state.id);
        termCount.setInt(2, driveCap);
        try (ResultSet r = termCount.executeQuery()) {
          r.next();
          state.postings = r.getInt(1);
        }
      }
      termIds.put(term, state);
      return state;
    }

    /** The number of {@code text} in {@code texts}, adding it (and its trigrams) when new. */
    private long textId(String text) throws SQLException {
      Long known = textIds.get(text);
      if (known != null) {
        return known;
      }
      if (textLookup == null) {
        textLookup = c.prepareStatement("SELECT id, text FROM texts WHERE hash = ?");
        textInsert = c.prepareStatement("INSERT INTO texts (hash, text) VALUES (?, ?)");
        ftsInsert = c.prepareStatement("INSERT INTO texts_fts (rowid, text) VALUES (?, ?)");
      }
      long hash = hash(text);
      long id = -1;
      textLookup.setLong(1, hash);
      try (ResultSet r = textLookup.executeQuery()) {
        while (id < 0 && r.next()) {
          if (text.equals(r.getString(2))) {
            id = r.getLong(1);
          }
        }
      }
      if (id < 0) {
        textInsert.setLong(1, hash);
        textInsert.setString(2, text);
        textInsert.executeUpdate();
        id = lastRowId();
        ftsInsert.setLong(1, id);
        ftsInsert.setString(2, text);
        ftsInsert.executeUpdate();
      }
      textIds.put(text, id);
      return id;
    }

    private long lastRowId() throws SQLException {
      try (Statement s = c.createStatement();
          ResultSet r = s.executeQuery("SELECT last_insert_rowid()")) {
        r.next();
        return r.getLong(1);
      }
    }

    @Override
    public void close() throws SQLException {
      for (PreparedStatement p :
          new PreparedStatement[] {
            insert,
            posting,
            previous,
            complete,
            termLookup,
            termInsert,
            textLookup,
            textInsert,
            ftsInsert
          }) {
        if (p != null) {
          p.close();
        }
      }
    }
  }

  /** FNV-1a over the UTF-16 code units: finds a text's row; equal hashes are told apart by text. */
  static long hash(String text) {
    long h = 0xcbf29ce484222325L;
    for (int i = 0; i < text.length(); i++) {
      h = (h ^ text.charAt(i)) * 0x100000001b3L;
    }
    return h;
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
      if (d.saturated().isPresent() && count(c, d.saturated().get()) > 0) {
        continue; // Too common to narrow the search, and its postings are incomplete.
      }
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
