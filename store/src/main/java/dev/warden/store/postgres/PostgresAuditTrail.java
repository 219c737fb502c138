package dev.warden.store.postgres;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.warden.core.audit.AuditChain;
import dev.warden.core.audit.AuditEncoder;
import dev.warden.core.audit.AuditRecord;
import dev.warden.core.audit.AuditTrail;
import dev.warden.core.audit.AuditUnavailableException;
import dev.warden.core.audit.ChainedRecord;
import dev.warden.core.audit.Checkpoint;
import dev.warden.core.audit.Durability;
import dev.warden.core.audit.DurableBatchListener;
import java.io.IOException;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import javax.sql.DataSource;

/**
 * The audit trail in a shared PostgreSQL database, for several Warden instances behind one load
 * balancer: each instance appends to its own hash chain (its log id) in the one table {@code
 * warden_audit}, so every instance's records can be searched together while each chain verifies on
 * its own.
 *
 * <p>Durability follows the port: an {@link Durability#IMMEDIATE} append completes after the
 * transaction holding it commits (with {@code synchronous_commit} at least {@code on} on the
 * store's connections); a {@link Durability#BOUNDED} one completes when accepted, and its commit
 * starts within the bounded window. Records are chained in the order they are appended, on one
 * writer thread that commits batches (group commit).
 *
 * <p>Fail closed: when a commit fails or PostgreSQL is down, waiting IMMEDIATE records fail, every
 * new record is refused and {@link #unavailable()} says why. Accepted BOUNDED records are kept in
 * memory (at most {@code maxQueued}) and written when a background probe finds PostgreSQL back. The
 * writer then re-reads the log's tail, so a commit whose answer was lost is neither lost nor
 * written twice, and a second process writing with the same log id is detected (it stops the trail
 * for good rather than interleave two chains).
 *
 * <p>Every 1000 records or second (settings) a signed {@link Checkpoint} goes into {@code
 * warden_audit_checkpoint} in the same transaction as the batch, and to the witness directory when
 * one is set; {@link PostgresAuditVerifier} checks a log against both.
 */
public final class PostgresAuditTrail implements AuditTrail, AutoCloseable {
  private final PostgresAuditSettings settings;
  private final HikariDataSource pool;
  private final AuditWriter writer;

  private PostgresAuditTrail(
      PostgresAuditSettings settings, HikariDataSource pool, AuditWriter writer) {
    this.settings = settings;
    this.pool = pool;
    this.writer = writer;
  }

  /**
   * Connects, creates the tables if they do not exist, checks that the log's tail is intact (the
   * records after its last checkpoint chain up to the checkpoint's hash, the checkpoint is signed
   * with {@code checkpointKeys}, and the witness holds nothing the table lacks), and continues the
   * log from there.
   *
   * @param checkpointKeys the Ed25519 key pair that signs this log's checkpoints
   * @throws AuditUnavailableException when PostgreSQL cannot be reached or the log cannot be
   *     continued, with the reason
   */
  public static PostgresAuditTrail open(
      PostgresAuditSettings settings, KeyPair checkpointKeys, AuditEncoder encoder, Clock clock) {
    Objects.requireNonNull(settings, "settings");
    Objects.requireNonNull(checkpointKeys, "checkpointKeys");
    Objects.requireNonNull(encoder, "encoder");
    Objects.requireNonNull(clock, "clock");
    checkKeys(checkpointKeys, settings.logId());
    HikariDataSource pool;
    try {
      pool = new HikariDataSource(poolConfig(settings));
    } catch (RuntimeException e) {
      throw new AuditUnavailableException(
          "cannot connect to the PostgreSQL audit store at "
              + settings.location()
              + " as "
              + settings.user()
              + ": "
              + rootMessage(e),
          e);
    }
    try {
      AuditWriter.Tail tail = continueFrom(pool, settings, checkpointKeys);
      AuditWriter writer =
          new AuditWriter(settings, pool, encoder, clock, checkpointKeys.getPrivate(), tail);
      writer.start();
      return new PostgresAuditTrail(settings, pool, writer);
    } catch (RuntimeException e) {
      pool.close();
      throw e;
    }
  }

  private static HikariConfig poolConfig(PostgresAuditSettings s) {
    HikariConfig c = new HikariConfig();
    c.setPoolName("warden-audit-" + s.logId());
    c.setJdbcUrl(s.jdbcUrl());
    c.setUsername(s.user());
    if (!s.password().isEmpty()) {
      c.setPassword(s.password().reveal());
    }
    c.setMaximumPoolSize(s.poolSize());
    c.setMinimumIdle(Math.min(2, s.poolSize()));
    long timeoutMillis = Math.max(250, s.timeout().toMillis());
    c.setConnectionTimeout(timeoutMillis);
    c.setValidationTimeout(Math.max(250, timeoutMillis / 2));
    // pgjdbc reads its properties as strings. No socketTimeout here: the writer bounds its own
    // statements (AuditWriter.connection), and searches sharing the pool may take longer.
    long seconds = Math.max(1, (s.timeout().toMillis() + 999) / 1000);
    c.addDataSourceProperty("connectTimeout", Long.toString(seconds));
    c.addDataSourceProperty("tcpKeepAlive", "true");
    c.addDataSourceProperty("ApplicationName", "warden-audit " + s.logId());
    // An IMMEDIATE record is durable when its commit is flushed: a role or server configured with
    // synchronous_commit = off would acknowledge commits that a crash can still lose. A stronger
    // setting (remote_write, remote_apply, with replicas) is kept.
    c.setConnectionInitSql(
        "SELECT CASE WHEN current_setting('synchronous_commit') = 'off'"
            + " THEN set_config('synchronous_commit', 'on', false) END");
    return c;
  }

  private static void checkKeys(KeyPair keys, String logId) {
    Checkpoint probe;
    try {
      probe = Checkpoint.sign(keys.getPrivate(), logId, 0, new byte[32], 0, new byte[0]);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException(
          "the checkpoint key must be an Ed25519 private key: " + e.getMessage(), e);
    }
    if (!probe.verifies(keys.getPublic())) {
      throw new IllegalArgumentException(
          "the checkpoint key pair does not match: its public key does not verify what its private"
              + " key signs");
    }
  }

  /** Reads and checks the log's tail: what the writer continues from. */
  private static AuditWriter.Tail continueFrom(
      DataSource pool, PostgresAuditSettings settings, KeyPair keys) {
    String logId = settings.logId();
    String where = "audit log " + logId + " in PostgreSQL (" + settings.location() + ")";
    try (Connection c = AuditWriter.connection(pool, settings.timeout())) {
      String encoding = AuditTables.serverEncoding(c);
      if (!"UTF8".equalsIgnoreCase(encoding)) {
        throw new AuditUnavailableException(
            "the audit store's database must use the UTF8 encoding (it uses "
                + encoding
                + "): create it with ENCODING 'UTF8'");
      }
      AuditTables.create(c);
      Optional<Checkpoint> checkpoint = AuditTables.lastCheckpoint(c, logId);
      if (checkpoint.isPresent() && !checkpoint.get().verifies(keys.getPublic())) {
        throw cannotContinue(
            where,
            "its last checkpoint (record "
                + checkpoint.get().seq()
                + ") is not signed with this instance's checkpoint key");
      }
      if (settings.witness().isPresent()) {
        catchUpWitness(c, settings, checkpoint, where);
      }
      long from = 0;
      byte[] start = AuditChain.genesis(logId);
      if (checkpoint.isPresent()) {
        // Start one record before the checkpoint, so that the checkpointed record's payload is
        // checked against the signed hash too. Its predecessor's hash is only an input: forging it
        // to fit another payload would take a SHA-256 preimage.
        from = checkpoint.get().seq() - 1;
        if (from > 0) {
          Optional<ChainedRecord> before = AuditTables.at(c, logId, from);
          if (before.isEmpty()) {
            throw cannotContinue(where, "record " + from + " is missing");
          }
          start = before.get().hash();
        }
      }
      TailCheck check = new TailCheck(from, start, checkpoint);
      AuditTables.forEachAfter(c, logId, from, Long.MAX_VALUE, check);
      if (check.problem != null) {
        throw cannotContinue(where, check.problem);
      }
      if (checkpoint.isPresent() && check.last < checkpoint.get().seq()) {
        throw cannotContinue(
            where,
            "the log ends at record "
                + check.last
                + " but its last signed checkpoint covers record "
                + checkpoint.get().seq());
      }
      return new AuditWriter.Tail(check.last, check.hash, checkpoint);
    } catch (SQLException e) {
      throw new AuditUnavailableException(
          "cannot open the "
              + where
              + ": "
              + rootMessage(e)
              + " (SQLSTATE "
              + e.getSQLState()
              + ")",
          e);
    }
  }

  /** Follows the chain from a known hash to the log's end, stopping at the first problem. */
  private static final class TailCheck implements Consumer<ChainedRecord> {
    private final Optional<Checkpoint> checkpoint;
    long last;
    byte[] hash;
    String problem;

    TailCheck(long from, byte[] hash, Optional<Checkpoint> checkpoint) {
      this.last = from;
      this.hash = hash;
      this.checkpoint = checkpoint;
    }

    @Override
    public void accept(ChainedRecord r) {
      if (problem != null) {
        return;
      }
      if (r.seq() != last + 1) {
        problem = "record " + (last + 1) + " is missing (the next one is " + r.seq() + ")";
        return;
      }
      byte[] next = AuditChain.next(hash, r.seq(), r.payload());
      if (!MessageDigest.isEqual(next, r.hash())) {
        problem = "record " + r.seq() + " was altered: its hash does not match";
        return;
      }
      if (checkpoint.isPresent()
          && checkpoint.get().seq() == r.seq()
          && !MessageDigest.isEqual(next, checkpoint.get().hash())) {
        problem =
            "record "
                + r.seq()
                + " differs from what its signed checkpoint says: the chain was recomputed";
        return;
      }
      hash = next;
      last = r.seq();
    }
  }

  /**
   * The witness must hold nothing the table lacks (else the table was rolled back or rewritten);
   * checkpoints the table has beyond the witness (a witness write that failed, a crash just after a
   * commit) are copied to it.
   */
  private static void catchUpWitness(
      Connection c, PostgresAuditSettings settings, Optional<Checkpoint> last, String where)
      throws SQLException {
    Path dir = settings.witness().get();
    try {
      List<Checkpoint> witnessed = Witness.read(dir, settings.logId());
      if (witnessed.isEmpty() && last.isEmpty()) {
        return;
      }
      List<Checkpoint> table = AuditTables.checkpoints(c, settings.logId());
      if (witnessed.size() > table.size()) {
        throw cannotContinue(
            where,
            "the witness "
                + dir
                + " holds a checkpoint at record "
                + witnessed.get(table.size()).seq()
                + " that the table does not: the table was rolled back or rewritten");
      }
      for (int i = 0; i < witnessed.size(); i++) {
        if (!witnessed.get(i).equals(table.get(i))) {
          throw cannotContinue(
              where,
              "the witness "
                  + dir
                  + " and the table disagree on the checkpoint at record "
                  + witnessed.get(i).seq()
                  + ": the table was rewritten");
        }
      }
      Witness.append(dir, table.subList(witnessed.size(), table.size()));
    } catch (IOException e) {
      throw new AuditUnavailableException(
          "cannot use the audit witness " + dir + ": " + e.getMessage(), e);
    }
  }

  private static AuditUnavailableException cannotContinue(String where, String why) {
    return new AuditUnavailableException(
        "the "
            + where
            + " cannot be continued: "
            + why
            + "; run the verifier (warden audit verify) and investigate before recording again");
  }

  private static String rootMessage(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    String m = t.getMessage() != null ? t.getMessage() : t.toString();
    return e == t || e.getMessage() == null ? m : e.getMessage() + ": " + m;
  }

  @Override
  public CompletableFuture<Void> append(AuditRecord record, Durability durability) {
    Objects.requireNonNull(record, "record");
    Objects.requireNonNull(durability, "durability");
    return writer.append(record, durability);
  }

  @Override
  public Optional<String> unavailable() {
    return writer.unavailable();
  }

  /** Adds a listener told of every batch committed from now on. */
  public void addListener(DurableBatchListener listener) {
    writer.addListener(Objects.requireNonNull(listener, "listener"));
  }

  /** This instance's log id. */
  public String logId() {
    return settings.logId();
  }

  /** The store's connection pool, for searching and reading the same database. */
  public DataSource dataSource() {
    return pool;
  }

  /**
   * Writes what was accepted (waiting for PostgreSQL at most twice the timeout), a last checkpoint,
   * and closes the pool.
   */
  @Override
  public void close() {
    writer.close(settings.timeout().multipliedBy(2).plus(Duration.ofSeconds(1)));
    pool.close();
  }
}
