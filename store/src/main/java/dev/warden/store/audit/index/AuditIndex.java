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
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
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
 * back. Payloads are read by {@link RecordScan}, not a JSON parser, and the fields terms are made
 * of (and their terms) once per session and statement shape; a record is stored as a {@link
 * DocDelta} from an earlier one of its session and shape when that saves a quarter of it. The
 * writer's statements are prepared once.
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

  /** Base records searches have read, by column and entry (a base never changes once written). */
  private final Lru<String, BaseDoc> readBases = new Lru<>(1024);

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

  /** Records stored whole, by what later records stored as deltas from them share. */
  private final Lru<BaseKey, Base> docBases = new Lru<>(BASE_CACHE);

  /** Outcomes stored whole in their intent's entry, by session. */
  private final Lru<String, Base> outcomeBases = new Lru<>(BASE_CACHE);

  /** Shapes of records recently indexed, and terms of intents merged with outcomes. */
  private final RecordScan.Shapes shapes = new RecordScan.Shapes(SHAPE_CACHE);

  private final Lru<ShapePair, RecordScan.TermSet> mergedTerms = new Lru<>(SHAPE_CACHE);

  /** The writer's statements; null until the first write and after a failed one. */
  private Ingest ingest;

  private static final int TERM_CACHE = 65_536;
  private static final int TEXT_CACHE = 8_192;
  private static final int AWAITING_CACHE = 16_384;
  private static final int BASE_CACHE = 8_192;
  private static final int SHAPE_CACHE = 4_096;

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
  private record Pending(long id, RecordScan.Shape shape, RecordScan.TermSet terms) {}

  /** An entry to be written: its record's number, time (µs), key, text number and terms. */
  private record Row(
      long id,
      long seq,
      long time,
      String session,
      Long stmt,
      Long textId,
      RecordScan.Scan scan,
      RecordScan.TermSet terms,
      byte[] payload,
      int[] ranges) {}

  /** An outcome merged into its intent: its record, its own fields and the merged terms. */
  private record Outcome(
      long seq, byte[] payload, int[] ranges, RecordScan.Scan own, RecordScan.TermSet terms) {}

  /** An intent's shape and its outcome's: their merged terms are those of any such pair. */
  private record ShapePair(RecordScan.Shape intent, RecordScan.Shape outcome) {}

  /**
   * A record as a column holds it: whole ({@code base} null) or a delta from entry {@code base}.
   */
  private record Stored(Long base, byte[] bytes) {}

  /** A record stored whole in entry {@code id}, that later ones are stored as deltas from. */
  private record Base(long id, byte[] doc, int[] ranges) {}

  /** What records sharing a base have in common: their type, session, and shape. */
  private record BaseKey(String type, String session, String fingerprint, String event) {}

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
    java.util.Properties p = new java.util.Properties();
    // Without it the driver reads last_insert_rowid() back after every insert; the index numbers
    // its rows itself.
    p.setProperty("jdbc.get_generated_keys", "false");
    Connection c = DriverManager.getConnection("jdbc:sqlite:" + file.toAbsolutePath(), p);
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
      if (ingest == null) {
        ingest = new Ingest(writer);
      }
      ingest.begin.executeUpdate();
      boolean committed = false;
      try {
        long last = ingest.lastSeq(logId);
        long before = last;
        ingest.start(logId);
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
        if (last != before) {
          ingest.setLastSeq.setString(1, logId);
          ingest.setLastSeq.setLong(2, last);
          ingest.setLastSeq.executeUpdate();
        }
        ingest.commit.executeUpdate();
        committed = true;
        return last;
      } finally {
        if (!committed) {
          termIds.clear();
          textIds.clear();
          awaiting.clear();
          docBases.clear();
          outcomeBases.clear();
          shapes.clear();
          mergedTerms.clear();
          Ingest failed = ingest;
          ingest = null; // Its numbering may count rows the rollback removes: read afresh.
          try (Statement s = writer.createStatement()) {
            s.execute("ROLLBACK");
          } catch (SQLException ignored) {
            // SQLite may have rolled back already; the first error is the one reported.
          }
          failed.closeQuietly();
        }
      }
    } catch (SQLException e) {
      throw new AuditIndexException(
          "writing the audit index " + file + " failed: " + e.getMessage(), e);
    } finally {
      writeLock.unlock();
    }
  }

  /**
   * The writer's statements, prepared once and kept while the index is open (preparing them per
   * transaction cost more than a small transaction's rows), and the numbers it gives the next
   * entry, term and text (one writer: no row is read back to learn its number).
   */
  private final class Ingest {
    private final Connection c;
    final PreparedStatement begin;
    final PreparedStatement commit;
    final PreparedStatement setLastSeq;
    private final PreparedStatement readLastSeq;
    private final PreparedStatement insert;
    private final PreparedStatement posting;
    private final PreparedStatement previous;
    private final PreparedStatement complete;
    private final PreparedStatement termLookup;
    private final PreparedStatement termInsert;
    private final PreparedStatement termCount;
    private final PreparedStatement saturate;
    private final PreparedStatement textLookup;
    private final PreparedStatement textInsert;
    private final PreparedStatement ftsInsert;
    private final PreparedStatement baseDoc;
    private final List<PreparedStatement> all = new ArrayList<>();

    private long nextId;
    private long nextTermId;
    private long nextTextId;

    /** The log of the current transaction. */
    private String logId;

    /** Postings of this transaction, written at its end. */
    private final List<Posting> postings = new ArrayList<>();

    /** Intents of this transaction not yet written, by key, in log order. */
    private final Map<Key, Row> open = new java.util.LinkedHashMap<>();

    Ingest(Connection c) throws SQLException {
      this.c = c;
      try {
        begin = prepare("BEGIN IMMEDIATE");
        commit = prepare("COMMIT");
        readLastSeq = prepare("SELECT last_seq FROM logs WHERE log_id = ?");
        setLastSeq =
            prepare(
                "INSERT INTO logs (log_id, last_seq) VALUES (?, ?)"
                    + " ON CONFLICT (log_id) DO UPDATE SET last_seq = excluded.last_seq");
        insert =
            prepare(
                "INSERT INTO entries (log_id, seq, time, session, stmt, awaiting, rows,"
                    + " duration_us, text_id, terms, doc, id, outcome_seq, outcome, base,"
                    + " outcome_base) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
        posting = prepare("INSERT OR IGNORE INTO postings (term, entry) VALUES (?, ?)");
        previous =
            prepare(
                "SELECT id, awaiting, doc, base FROM entries WHERE log_id = ? AND session = ?"
                    + " AND stmt = ? AND session IS NOT NULL ORDER BY id DESC LIMIT 1");
        complete =
            prepare(
                "UPDATE entries SET awaiting = 0, rows = ?, duration_us = ?, outcome_seq = ?,"
                    + " outcome = ?, outcome_base = ?, terms = ? WHERE id = ?");
        termLookup = prepare("SELECT id, saturated FROM term_ids WHERE term = ?");
        termInsert = prepare("INSERT INTO term_ids (id, term) VALUES (?, ?)");
        termCount = prepare("SELECT count(*) FROM (SELECT 1 FROM postings WHERE term = ? LIMIT ?)");
        saturate = prepare("UPDATE term_ids SET saturated = 1 WHERE id = ?");
        textLookup = prepare("SELECT id, text FROM texts WHERE hash = ?");
        textInsert = prepare("INSERT INTO texts (id, hash, text) VALUES (?, ?, ?)");
        ftsInsert = prepare("INSERT INTO texts_fts (rowid, text) VALUES (?, ?)");
        baseDoc = prepare("SELECT doc FROM entries WHERE id = ?");
        nextId = next("entries");
        nextTermId = next("term_ids");
        nextTextId = next("texts");
      } catch (SQLException e) {
        closeQuietly();
        throw e;
      }
    }

    private PreparedStatement prepare(String sql) throws SQLException {
      PreparedStatement p = c.prepareStatement(sql);
      all.add(p);
      return p;
    }

    private long next(String table) throws SQLException {
      try (Statement s = c.createStatement();
          ResultSet r = s.executeQuery("SELECT coalesce(max(id), 0) + 1 FROM " + table)) {
        r.next();
        return r.getLong(1);
      }
    }

    long lastSeq(String logId) throws SQLException {
      readLastSeq.setString(1, logId);
      try (ResultSet r = readLastSeq.executeQuery()) {
        return r.next() ? r.getLong(1) : 0;
      }
    }

    void start(String logId) {
      this.logId = logId;
      open.clear();
      postings.clear();
    }

    void record(ChainedRecord r) throws SQLException {
      byte[] payload = r.payload();
      RecordScan.Scan scan = RecordScan.read(payload, shapes);
      RecordScan.Shape shape = scan.shape();
      Object type = shape.fields.get("type");
      if ("outcome".equals(type) && merge(r.seq(), payload, scan)) {
        return;
      }
      boolean intent = "intent".equals(type);
      String session = shape.string("session");
      Long stmt = scan.stmt() instanceof Long n ? n : null;
      boolean keyed = (intent || "outcome".equals(type)) && session != null && stmt != null;
      String statementText = scan.text() instanceof String s ? s : null;
      Row row =
          new Row(
              nextId++,
              r.seq(),
              Payloads.micros(Payloads.timeOf(scan.time()).orElseGet(clock::instant)),
              keyed ? session : null,
              keyed ? stmt : null,
              statementText == null ? null : textId(statementText),
              scan,
              shape.terms,
              payload,
              scan.ranges());
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
        awaiting.put(e.getKey(), new Pending(row.id(), row.scan().shape(), row.terms()));
      }
      open.clear();
      writePostings();
    }

    /** Inserts {@code row}, an intent awaiting its outcome or not, with {@code outcome} merged. */
    private void insert(Row row, boolean awaitingOutcome, Outcome outcome) throws SQLException {
      RecordScan.TermSet terms = outcome == null ? row.terms() : outcome.terms();
      RecordScan.Scan measured = outcome == null ? row.scan() : outcome.own();
      Stored doc = storedDoc(row);
      insert.setString(1, logId);
      insert.setLong(2, row.seq());
      insert.setLong(3, row.time());
      setString(insert, 4, row.session());
      setLong(insert, 5, row.stmt());
      insert.setInt(6, awaitingOutcome ? 1 : 0);
      setLong(insert, 7, measured.rows() instanceof Long n ? n : null);
      setLong(insert, 8, measured.durationMicros() instanceof Long n ? n : null);
      setLong(insert, 9, row.textId());
      insert.setString(10, terms.joined);
      insert.setBytes(11, doc.bytes());
      insert.setLong(12, row.id());
      setLong(insert, 15, doc.base());
      if (outcome == null) {
        insert.setNull(13, Types.BIGINT);
        insert.setNull(14, Types.BLOB);
        insert.setNull(16, Types.BIGINT);
      } else {
        Stored stored = storedOutcome(row.id(), outcome);
        insert.setLong(13, outcome.seq());
        insert.setBytes(14, stored.bytes());
        setLong(insert, 16, stored.base());
      }
      insert.executeUpdate();
      addTerms(row.id(), terms.indexed);
    }

    /**
     * The entry's record as stored: as a delta from an earlier record of the same session and shape
     * when that saves a quarter of it, else whole (and then the base of later ones).
     */
    private Stored storedDoc(Row row) {
      if (row.ranges() == null) {
        return new Stored(null, row.payload());
      }
      RecordScan.Shape f = row.scan().shape();
      BaseKey session = new BaseKey(f.string("type"), f.string("session"), null, null);
      BaseKey shape =
          new BaseKey(
              session.type(), session.session(), f.string("fingerprint"), f.string("event"));
      Base base = docBases.get(shape);
      if (base == null) {
        base = docBases.get(session);
      }
      if (base != null) {
        byte[] delta = DocDelta.encode(row.payload(), row.ranges(), base.doc(), base.ranges());
        if (delta != null) {
          return new Stored(base.id(), delta);
        }
      }
      Base mine = new Base(row.id(), row.payload(), row.ranges());
      docBases.put(shape, mine);
      docBases.put(session, mine);
      return new Stored(null, row.payload());
    }

    /** An outcome as stored in its intent's entry {@code id}: as {@link #storedDoc} does. */
    private Stored storedOutcome(long id, Outcome outcome) {
      if (outcome.ranges() == null) {
        return new Stored(null, outcome.payload());
      }
      String session = outcome.own().shape().string("session");
      Base base = outcomeBases.get(session);
      if (base != null) {
        byte[] delta =
            DocDelta.encode(outcome.payload(), outcome.ranges(), base.doc(), base.ranges());
        if (delta != null) {
          return new Stored(base.id(), delta);
        }
      }
      outcomeBases.put(session, new Base(id, outcome.payload(), outcome.ranges()));
      return new Stored(null, outcome.payload());
    }

    /**
     * Merges an outcome into its intent: the entry with the same key just before it, if that is an
     * intent still awaiting its outcome. False when there is none.
     */
    private boolean merge(long seq, byte[] payload, RecordScan.Scan scan) throws SQLException {
      if (!(scan.shape().fields.get("session") instanceof String session)
          || !(scan.stmt() instanceof Long stmt)) {
        return false;
      }
      Key key = new Key(logId, session, stmt);
      Row held = open.remove(key);
      if (held != null) {
        RecordScan.TermSet merged = merged(held.scan().shape(), scan.shape());
        insert(held, false, new Outcome(seq, payload, scan.ranges(), scan, merged));
        return true;
      }
      Pending intent = awaiting.remove(key);
      if (intent == null) {
        intent = previous(session, stmt);
        if (intent == null) {
          return false;
        }
      }
      RecordScan.TermSet after = merged(intent.shape(), scan.shape());
      Stored stored =
          storedOutcome(intent.id(), new Outcome(seq, payload, scan.ranges(), scan, after));
      setLong(complete, 1, scan.rows() instanceof Long n ? n : null);
      setLong(complete, 2, scan.durationMicros() instanceof Long n ? n : null);
      complete.setLong(3, seq);
      complete.setBytes(4, stored.bytes());
      setLong(complete, 5, stored.base());
      complete.setString(6, after.joined);
      complete.setLong(7, intent.id());
      complete.executeUpdate();
      List<String> added = new ArrayList<>(after.indexed);
      added.removeAll(intent.terms().indexed);
      addTerms(intent.id(), added);
      return true;
    }

    /**
     * The terms of an intent of shape {@code intent} with an outcome of shape {@code outcome}
     * merged in: {@code AuditTerms.of(AuditHit.merge(intent, outcome))}, which only the two shapes
     * decide (the outcome's time only by being there).
     */
    private RecordScan.TermSet merged(RecordScan.Shape intent, RecordScan.Shape outcome) {
      ShapePair pair = new ShapePair(intent, outcome);
      RecordScan.TermSet known = mergedTerms.get(pair);
      if (known == null) {
        Map<String, Object> merged = AuditHit.merge(intent.fields, outcome.fields);
        if (outcome.hasTime) {
          merged.put(AuditHit.OUTCOME_TIME, Boolean.TRUE); // its value makes no term
        }
        known = new RecordScan.TermSet(AuditTerms.of(merged));
        mergedTerms.put(pair, known);
      }
      return known;
    }

    /** The intent awaiting an outcome of this key, read from the file; null when there is none. */
    private Pending previous(String session, long stmt) throws SQLException {
      previous.setString(1, logId);
      previous.setString(2, session);
      previous.setLong(3, stmt);
      long id;
      byte[] doc;
      long base;
      try (ResultSet r = previous.executeQuery()) {
        if (!r.next() || r.getInt(2) != 1) {
          return null;
        }
        id = r.getLong(1);
        doc = r.getBytes(3);
        base = r.getLong(4);
        if (r.wasNull()) {
          base = -1;
        }
      }
      if (base >= 0) {
        byte[] whole;
        baseDoc.setLong(1, base);
        try (ResultSet r = baseDoc.executeQuery()) {
          if (!r.next()) {
            throw new SQLException("entry " + id + " refers to a missing entry " + base);
          }
          whole = r.getBytes(1);
        }
        doc = DocDelta.decode(doc, whole, RecordScan.ranges(whole));
      }
      RecordScan.Shape shape = RecordScan.read(doc, shapes).shape();
      return new Pending(id, shape, shape.terms);
    }

    /** Adds postings of entry {@code id} for {@code terms}, all {@link Terms#indexed}. */
    private void addTerms(long id, List<String> terms) throws SQLException {
      for (String t : terms) {
        TermState state = term(t);
        if (state.saturated) {
          continue;
        }
        postings.add(new Posting(state.id, id));
        if (++state.postings >= driveCap) {
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
      TermState state = null;
      termLookup.setString(1, term);
      try (ResultSet r = termLookup.executeQuery()) {
        if (r.next()) {
          state = new TermState(r.getLong(1), 0, r.getInt(2) != 0);
        }
      }
      if (state == null) {
        long id = nextTermId++;
        termInsert.setLong(1, id);
        termInsert.setString(2, term);
        termInsert.executeUpdate();
        state = new TermState(id, 0, false);
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
        id = nextTextId++;
        textInsert.setLong(1, id);
        textInsert.setLong(2, hash);
        textInsert.setString(3, text);
        textInsert.executeUpdate();
        ftsInsert.setLong(1, id);
        ftsInsert.setString(2, text);
        ftsInsert.executeUpdate();
      }
      textIds.put(text, id);
      return id;
    }

    void closeQuietly() {
      for (PreparedStatement p : all) {
        try {
          p.close();
        } catch (SQLException e) {
          log.debug("closing an audit index statement failed", e);
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
      List<Found> found = new ArrayList<>();
      try (PreparedStatement p = prepare(c, sql);
          ResultSet r = p.executeQuery()) {
        while (r.next()) {
          found.add(
              new Found(
                  r.getString(1),
                  r.getLong(2),
                  r.getLong(3),
                  r.getBytes(4),
                  nullableLong(r, 5),
                  r.getBytes(6),
                  nullableLong(r, 7),
                  nullableLong(r, 8)));
        }
      }
      Map<Long, BaseDoc> docBases = bases(c, "doc", found, Found::base);
      Map<Long, BaseDoc> outcomeBases = bases(c, "outcome", found, Found::outcomeBase);
      List<AuditHit> hits = new ArrayList<>();
      for (Found f : found) {
        hits.add(hit(f, docBases, outcomeBases));
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

  private static Long nullableLong(ResultSet r, int column) throws SQLException {
    long v = r.getLong(column);
    return r.wasNull() ? null : v;
  }

  /** A row of a search's result, as read. */
  private record Found(
      String logId,
      long seq,
      long time,
      byte[] doc,
      Long outcomeSeq,
      byte[] outcome,
      Long base,
      Long outcomeBase) {}

  private AuditHit hit(Found f, Map<Long, BaseDoc> docBases, Map<Long, BaseDoc> outcomeBases) {
    byte[] doc = f.base() == null ? f.doc() : whole(docBases.get(f.base()), f.doc());
    byte[] outcome =
        f.outcome() == null || f.outcomeBase() == null
            ? f.outcome()
            : whole(outcomeBases.get(f.outcomeBase()), f.outcome());
    Map<String, Object> record = Payloads.fields(doc);
    Map<String, Object> fields =
        Payloads.hitFields(
            record, outcome == null ? Optional.empty() : Optional.of(Payloads.fields(outcome)));
    return new AuditHit(
        f.logId(),
        f.seq(),
        Payloads.instant(f.time()),
        f.outcomeSeq() == null ? OptionalLong.empty() : OptionalLong.of(f.outcomeSeq()),
        fields);
  }

  /**
   * The base records (of column {@code column}) that the rows' {@code base} name, whole: from the
   * cache, the others read in one query. Bases are kept in memory: a search's hits share a few of
   * them, and a base never changes once written.
   */
  private Map<Long, BaseDoc> bases(
      Connection c, String column, List<Found> rows, java.util.function.Function<Found, Long> base)
      throws SQLException {
    Map<Long, BaseDoc> out = new java.util.HashMap<>();
    StringBuilder missing = new StringBuilder();
    synchronized (readBases) {
      for (Found f : rows) {
        Long id = base.apply(f);
        if (id != null && !out.containsKey(id)) {
          BaseDoc known = readBases.get(column + ":" + id);
          out.put(id, known);
          if (known == null) {
            missing.append(missing.isEmpty() ? "[" : ",").append(id);
          }
        }
      }
    }
    if (missing.isEmpty()) {
      return out;
    }
    try (PreparedStatement p =
        c.prepareStatement(
            "SELECT id, "
                + column
                + " FROM entries WHERE id IN (SELECT value FROM json_each(?))")) {
      p.setString(1, missing.append(']').toString());
      try (ResultSet r = p.executeQuery()) {
        while (r.next()) {
          byte[] bytes = r.getBytes(2);
          int[] ranges = bytes == null ? null : RecordScan.ranges(bytes);
          if (ranges != null) {
            BaseDoc doc = new BaseDoc(bytes, ranges);
            out.put(r.getLong(1), doc);
            synchronized (readBases) {
              readBases.put(column + ":" + r.getLong(1), doc);
            }
          }
        }
      }
    }
    return out;
  }

  /** The record {@code delta} stands for, given its base (null when the base is missing). */
  private byte[] whole(BaseDoc base, byte[] delta) {
    try {
      if (base == null) {
        throw new IllegalStateException("a base record is missing");
      }
      return DocDelta.decode(delta, base.bytes(), base.ranges());
    } catch (IllegalStateException e) {
      throw new AuditSearchException(
          "the audit index " + file + " is damaged; delete it to rebuild it from the log", e);
    }
  }

  /** A base record, for searches. */
  private record BaseDoc(byte[] bytes, int[] ranges) {}

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
      if (ingest != null) {
        ingest.closeQuietly();
        ingest = null;
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
