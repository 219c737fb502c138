package dev.warden.server;

import dev.warden.core.audit.AuditEncoder;
import dev.warden.core.audit.AuditEvent;
import dev.warden.core.audit.AuditTrail;
import dev.warden.core.audit.AuditUnavailableException;
import dev.warden.core.audit.ChainedRecord;
import dev.warden.core.audit.Durability;
import dev.warden.core.audit.Redactor;
import dev.warden.core.audit.search.AuditSearch;
import dev.warden.server.audit.AuditFeed;
import dev.warden.server.audit.RecordSource;
import dev.warden.server.config.AuditConfig;
import dev.warden.store.audit.AuditKeys;
import dev.warden.store.audit.AuditLogReader;
import dev.warden.store.audit.AuditLogSettings;
import dev.warden.store.audit.EmbeddedAuditTrail;
import dev.warden.store.audit.index.AuditIndex;
import dev.warden.store.audit.index.AuditIndexer;
import dev.warden.store.embedded.AuditOutbox;
import dev.warden.store.embedded.EmbeddedStore;
import dev.warden.store.postgres.PostgresAuditReader;
import dev.warden.store.postgres.PostgresAuditSettings;
import dev.warden.store.postgres.PostgresAuditTrail;
import dev.warden.store.postgres.search.PostgresAuditSearch;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The audit trail as the server runs it: the store chosen by configuration, with the parts that
 * hang off it (the administrative outbox moved into it). Built and closed by {@link WardenServer}.
 */
final class AuditRuntime implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(AuditRuntime.class);

  /** The log's directory inside the data directory. */
  static final Path AUDIT_DIRECTORY = Path.of("audit");

  /** The secrets directory inside the data directory (signing and HMAC keys). */
  static final Path SECRETS_DIRECTORY = Path.of("secrets");

  private static final int OUTBOX_BATCH = 100;

  /** The embedded search index's file inside the audit directory. */
  static final String INDEX_FILE = "index.db";

  private final AuditTrail trail;
  private final AuditSearch search;
  private final AuditFeed feed;
  private final RecordSource source;
  private final Clock clock;
  private final List<AutoCloseable> resources;
  private final ScheduledExecutorService outboxMover;

  private AuditRuntime(
      Opened opened,
      Clock clock,
      List<AutoCloseable> resources,
      ScheduledExecutorService outboxMover) {
    this.trail = opened.trail();
    this.search = opened.search();
    this.feed = opened.feed();
    this.source = opened.source();
    this.clock = clock;
    this.resources = resources;
    this.outboxMover = outboxMover;
  }

  /** A store as opened: the trail and the views of it the rest of the server uses. */
  private record Opened(
      AuditTrail trail, AuditSearch search, AuditFeed feed, RecordSource source) {}

  /** Opens the configured store and starts moving the outbox of {@code store} into it. */
  static AuditRuntime start(
      AuditConfig config, Path dataDir, EmbeddedStore store, Redactor redactor, Clock clock)
      throws StartupException {
    List<AutoCloseable> resources = new ArrayList<>();
    try {
      AuditKeys keys = AuditKeys.loadOrCreate(dataDir.resolve(SECRETS_DIRECTORY));
      AuditLogSettings settings =
          AuditLogSettings.defaults(keys).withBoundedWindow(config.boundedWindow());
      if (config.witness().isPresent()) {
        settings = settings.withWitness(config.witness().get());
      }
      String instance = config.instance().orElse(InstanceId.loadOrCreate(dataDir));
      settings = settings.withLogId(instance);
      AuditEncoder encoder = new AuditEncoder(instance, redactor, keys.textHmacKey());
      Opened opened;
      switch (config.store()) {
        case AuditConfig.Store.Embedded embedded -> {
          Path auditDir = dataDir.resolve(AUDIT_DIRECTORY);
          EmbeddedAuditTrail log = EmbeddedAuditTrail.open(auditDir, settings, encoder, clock);
          resources.add(log);
          // The search index follows the log: it catches up from the log at start and is fed
          // each durable batch after that, on a thread of its own.
          AuditIndex index = AuditIndex.open(auditDir.resolve(INDEX_FILE), clock);
          resources.add(index);
          AuditIndexer indexer = AuditIndexer.start(index, log.logId(), log::readAfter);
          resources.add(indexer);
          log.addListener(indexer::written);
          opened =
              new Opened(
                  log,
                  index,
                  log::addListener,
                  new RecordSource() {
                    @Override
                    public String logId() {
                      return log.logId();
                    }

                    @Override
                    public List<ChainedRecord> readAfter(long after, int max) throws IOException {
                      List<ChainedRecord> out = new ArrayList<>();
                      try (AuditLogReader.Cursor cursor = log.readAfter(after)) {
                        while (out.size() < max && cursor.hasNext()) {
                          out.add(cursor.next());
                        }
                      } catch (UncheckedIOException e) {
                        throw e.getCause(); // the cursor's Iterator methods cannot throw it
                      }
                      return out;
                    }
                  });
        }
        case AuditConfig.Store.Postgres postgres -> {
          PostgresAuditSettings pg =
              PostgresAuditSettings.defaults(
                      postgres.jdbcUrl(),
                      postgres.connection().user(),
                      postgres.connection().password(),
                      instance)
                  .withBoundedWindow(config.boundedWindow());
          if (config.witness().isPresent()) {
            pg = pg.withWitness(config.witness().get());
          }
          PostgresAuditTrail shared;
          try {
            shared = PostgresAuditTrail.open(pg, keys.signingKeys(), encoder, clock);
          } catch (AuditUnavailableException e) {
            throw new StartupException("cannot open the audit trail: " + e.getMessage(), e);
          }
          resources.add(shared);
          PostgresAuditSearch search = new PostgresAuditSearch(shared.dataSource(), clock);
          search.prepare();
          opened =
              new Opened(
                  shared,
                  search,
                  shared::addListener,
                  new RecordSource() {
                    @Override
                    public String logId() {
                      return instance;
                    }

                    @Override
                    public List<ChainedRecord> readAfter(long after, int max) throws IOException {
                      try {
                        return PostgresAuditReader.readAfter(
                            shared.dataSource(), instance, after, max);
                      } catch (SQLException e) {
                        throw new IOException(e.getMessage(), e);
                      }
                    }
                  });
        }
      }
      ScheduledExecutorService mover =
          Executors.newSingleThreadScheduledExecutor(
              Thread.ofPlatform().daemon().name("warden-audit-outbox").factory());
      AuditRuntime runtime = new AuditRuntime(opened, clock, resources, mover);
      mover.scheduleWithFixedDelay(
          () -> runtime.moveOutbox(store.outbox()), 0, 1, TimeUnit.SECONDS);
      return runtime;
    } catch (IOException e) {
      closeAll(resources);
      throw new StartupException("cannot open the audit trail: " + e.getMessage(), e);
    } catch (StartupException | RuntimeException e) {
      closeAll(resources);
      throw e;
    }
  }

  AuditTrail trail() {
    return trail;
  }

  /** Searches the trail (the embedded index, or the shared PostgreSQL table). */
  AuditSearch search() {
    return search;
  }

  /** Tells of records once they are durable, for live tails and exporters. */
  AuditFeed feed() {
    return feed;
  }

  /** Reads this instance's log from a sequence number, for exporters. */
  RecordSource source() {
    return source;
  }

  /** Records an administrative event, waiting until it is durable; false when it could not be. */
  boolean record(String name, boolean success, String actor, Map<String, String> details) {
    try {
      trail
          .append(
              new AuditEvent(clock.instant(), name, success, actor, Optional.empty(), details),
              Durability.IMMEDIATE)
          .get(10, TimeUnit.SECONDS);
      return true;
    } catch (Exception e) {
      log.error("the {} event could not be recorded: {}", name, e.getMessage());
      return false;
    }
  }

  /**
   * Moves what changed in the store while this or no server ran into the trail, oldest first, and
   * removes it from the outbox once durable there.
   */
  void moveOutbox(AuditOutbox outbox) {
    try {
      List<AuditOutbox.Entry> pending;
      while (!(pending = outbox.pending(OUTBOX_BATCH)).isEmpty()) {
        List<CompletableFuture<Void>> durable = new ArrayList<>(pending.size());
        for (AuditOutbox.Entry e : pending) {
          durable.add(trail.append(e.event(), Durability.IMMEDIATE));
        }
        CompletableFuture.allOf(durable.toArray(CompletableFuture[]::new))
            .get(10, TimeUnit.SECONDS);
        outbox.delivered(pending.getLast().id());
      }
    } catch (Exception e) {
      log.warn("administrative changes wait in the outbox: {}", e.getMessage());
    }
  }

  @Override
  public void close() {
    outboxMover.shutdownNow();
    try {
      outboxMover.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    closeAll(resources);
  }

  private static void closeAll(List<AutoCloseable> resources) {
    for (AutoCloseable r : resources.reversed()) {
      try {
        r.close();
      } catch (Exception e) {
        log.warn("closing {} failed: {}", r, e.getMessage());
      }
    }
  }
}
