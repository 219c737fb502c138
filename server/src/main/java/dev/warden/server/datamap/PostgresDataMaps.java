package dev.warden.server.datamap;

import dev.warden.core.environment.Environment;
import dev.warden.core.environment.Upstream;
import dev.warden.core.masking.ContentDetector;
import dev.warden.core.masking.DataMap;
import dev.warden.core.masking.DataMaps;
import dev.warden.core.masking.Detectors;
import dev.warden.core.statement.SqlAnalyzer;
import dev.warden.server.config.DataMapConfig;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The data maps of PostgreSQL environments: one per environment and client database, built over
 * pgjdbc on a dedicated executor (callers are event loops and never wait here), shared by every
 * session, and rebuilt when the schema changes: when told ({@link #schemaChanged}), when a result
 * names a relation the map lacks ({@link #unknownRelation}, at most once a second per database),
 * and when a cheap catalogue signature polled every {@link DataMapConfig#refresh()} differs from
 * the one the map was built from (changes made around Warden).
 *
 * <p>A build reads the catalogue, classifies columns by name, type and comment, samples the text
 * columns of at most {@link DataMapConfig#maxSampledRelations()} relations (at most {@link
 * DataMapConfig#sampleRows()} rows each, every query under {@link
 * DataMapConfig#statementTimeout()}) and follows views to the columns they show. Relations whose
 * columns did not change keep their sampled results across rebuilds.
 */
public final class PostgresDataMaps implements DataMaps, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(PostgresDataMaps.class);

  /** Threads building maps: builds wait on the database, not the CPU; two overlap two databases. */
  private static final int BUILD_THREADS = 2;

  /** The shortest time between rebuilds triggered by results naming unknown relations. */
  private static final long UNKNOWN_RELATION_NANOS = TimeUnit.SECONDS.toNanos(1);

  private final Map<String, Environment> environments;
  private final DataMapConfig settings;
  private final Supplier<? extends List<? extends ContentDetector>> detectors;
  private final Optional<SqlAnalyzer> analyzer;
  private final Clock clock;
  private final Connector connector;
  private final ExecutorService builds;
  private final ScheduledExecutorService poller;

  /** How long a database whose map could not be built is not tried again by {@link #ready}. */
  static final java.time.Duration RETRY_AFTER = java.time.Duration.ofSeconds(5);

  /** Slots by environment, then client database. */
  private final ConcurrentHashMap<String, ConcurrentHashMap<String, Slot>> slots =
      new ConcurrentHashMap<>();

  private volatile boolean closed;

  /**
   * Starts the poll; maps are built when first asked for.
   *
   * @param environments the environments whose databases may be mapped
   * @param detectors the content detectors sampling uses, asked at each build (the current
   *     policy's, so that detectors policy adds take part)
   * @param analyzer the decision point's SQL analyser: with it, a computed view column is sensitive
   *     only when a sensitive column reaches it by the same reading of the view's definition the
   *     decision point applies to statements; without it, when its view depends on any sensitive
   *     column
   */
  public PostgresDataMaps(
      List<Environment> environments,
      DataMapConfig settings,
      Supplier<? extends List<? extends ContentDetector>> detectors,
      Optional<SqlAnalyzer> analyzer,
      Clock clock) {
    Map<String, Environment> byName = new LinkedHashMap<>();
    for (Environment e : environments) {
      byName.put(e.name(), e);
    }
    this.environments = Map.copyOf(byName);
    this.settings = Objects.requireNonNull(settings, "settings");
    this.detectors = Objects.requireNonNull(detectors, "detectors");
    this.analyzer = Objects.requireNonNull(analyzer, "analyzer");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.connector = new Connector(settings.statementTimeout());
    this.builds = Executors.newFixedThreadPool(BUILD_THREADS, threads("warden-datamap-build"));
    this.poller = Executors.newSingleThreadScheduledExecutor(threads("warden-datamap-poll"));
    long refresh = settings.refresh().toMillis();
    poller.scheduleWithFixedDelay(this::poll, refresh, refresh, TimeUnit.MILLISECONDS);
  }

  /** Without an analyser: computed view columns are judged by their views' dependencies. */
  public PostgresDataMaps(
      List<Environment> environments,
      DataMapConfig settings,
      Supplier<? extends List<? extends ContentDetector>> detectors,
      Clock clock) {
    this(environments, settings, detectors, Optional.empty(), clock);
  }

  /** The standard detectors only, and no analyser: for tools and tests without a policy. */
  public PostgresDataMaps(List<Environment> environments, DataMapConfig settings, Clock clock) {
    this(environments, settings, Detectors::standard, clock);
  }

  /** The state of one database's map; every field is guarded by the slot's monitor. */
  private static final class Slot {
    final Environment environment;
    final String database;
    // Written under the slot's lock, read without it on the hot path (every statement asks).
    volatile DataMap current;
    volatile Optional<DataMap> currentOptional = Optional.empty();
    volatile CompletableFuture<DataMap> currentFuture;
    BuildReport report;
    long version;
    String signature;
    Map<Long, Build.Cached> cache = Map.of();
    List<? extends ContentDetector> cacheDetectors = List.of();

    /** The build on the executor, if any. */
    CompletableFuture<DataMap> running;

    /** A build wanted after the running one (the schema changed while it ran). */
    CompletableFuture<DataMap> queued;

    /**
     * The last build's failure while there is no map, handed out by {@link #ready} without a new
     * attempt until {@link #failedUntil}: otherwise every statement of every session would start a
     * build and wait for it to fail again.
     */
    CompletableFuture<DataMap> failed;

    java.time.Instant failedUntil = java.time.Instant.MIN;

    /** What {@link #ready} waits for instead of {@link #current}. */
    volatile CompletableFuture<DataMap> awaited;

    long lastUnknown;
    boolean unknownSeen;
    boolean polling;

    Slot(Environment environment, String database) {
      this.environment = environment;
      this.database = database;
    }
  }

  @Override
  public CompletableFuture<DataMap> ready(String environment, String database) {
    Slot slot;
    try {
      slot = slot(environment, database);
    } catch (DataMapException e) {
      return CompletableFuture.failedFuture(e);
    }
    CompletableFuture<DataMap> current = slot.currentFuture;
    if (current != null && slot.awaited == null) {
      // The common case, asked before every statement: no lock, no allocation. A rebuild that is
      // being requested right now is waited for from the next call on.
      return current;
    }
    synchronized (slot) {
      if (slot.awaited == null) {
        if (slot.current != null) {
          return slot.currentFuture;
        }
        if (slot.failed != null && clock.instant().isBefore(slot.failedUntil)) {
          return slot.failed; // failed a moment ago: callers mask everything meanwhile
        }
        slot.awaited = slot.running != null ? slot.running : request(slot);
      }
      // A copy: a caller completing or cancelling its future must not touch other sessions'.
      return slot.awaited.copy();
    }
  }

  @Override
  public Optional<DataMap> current(String environment, String database) {
    Slot slot = find(environment, database);
    return slot == null ? Optional.empty() : slot.currentOptional;
  }

  @Override
  public void schemaChanged(String environment, String database) {
    Slot slot = find(environment, database);
    if (slot == null) {
      return; // never mapped: the first ready() builds it from the changed schema
    }
    changed(slot);
  }

  @Override
  public void unknownRelation(String environment, String database, long id) {
    Slot slot = find(environment, database);
    if (slot == null) {
      return;
    }
    synchronized (slot) {
      long now = System.nanoTime();
      if (slot.unknownSeen && now - slot.lastUnknown < UNKNOWN_RELATION_NANOS) {
        return;
      }
      slot.unknownSeen = true;
      slot.lastUnknown = now;
      request(slot);
    }
  }

  /**
   * The maps built so far, by environment and then database name: the databases clients (or {@link
   * #ready}) have asked for.
   */
  public java.util.List<DataMap> built() {
    java.util.List<DataMap> out = new java.util.ArrayList<>();
    for (Map.Entry<String, ConcurrentHashMap<String, Slot>> env :
        new java.util.TreeMap<>(slots).entrySet()) {
      for (Slot slot : new java.util.TreeMap<>(env.getValue()).values()) {
        DataMap map = slot.current;
        if (map != null) {
          out.add(map);
        }
      }
    }
    return out;
  }

  /** What the last successful build of the database did and cost; empty before one. */
  public Optional<BuildReport> report(String environment, String database) {
    Slot slot = find(environment, database);
    if (slot == null) {
      return Optional.empty();
    }
    synchronized (slot) {
      return Optional.ofNullable(slot.report);
    }
  }

  /** Stops polling and building; maps being waited for fail. */
  @Override
  public void close() {
    closed = true;
    poller.shutdownNow();
    builds.shutdownNow();
    List<CompletableFuture<DataMap>> pending = new ArrayList<>();
    for (Slot slot : allSlots()) {
      synchronized (slot) {
        for (CompletableFuture<DataMap> f :
            java.util.Arrays.asList(slot.running, slot.queued, slot.awaited)) {
          if (f != null) {
            pending.add(f);
          }
        }
      }
    }
    DataMapException closing = new DataMapException("Warden's data maps are shutting down");
    pending.forEach(f -> f.completeExceptionally(closing));
    try {
      if (!builds.awaitTermination(5, TimeUnit.SECONDS)) {
        LOG.warn("data map builds did not stop within 5 s");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * The databases of {@code upstream} its user may connect to, templates aside: what an environment
   * serving every database name ({@code *}) may be asked for. Read from the {@code postgres}
   * database, else {@code template1}.
   *
   * @throws DataMapException when neither can be read, with the reason
   */
  public static List<String> connectableDatabases(Upstream upstream, DataMapConfig settings) {
    Connector connector = new Connector(settings.statementTimeout());
    SQLException last = null;
    for (String database : List.of("postgres", "template1")) {
      try (Connection c = connector.open(upstream, database);
          java.sql.Statement s = c.createStatement();
          java.sql.ResultSet rs =
              s.executeQuery(
                  "SELECT datname FROM pg_catalog.pg_database WHERE datallowconn AND NOT"
                      + " datistemplate AND pg_catalog.has_database_privilege(oid, 'CONNECT')"
                      + " ORDER BY datname")) {
        List<String> names = new ArrayList<>();
        while (rs.next()) {
          names.add(rs.getString(1));
        }
        return names;
      } catch (SQLException e) {
        last = e;
      }
    }
    throw new DataMapException(
        "cannot list the databases of "
            + Connector.describe(upstream, "postgres")
            + ": "
            + Build.reason(last),
        last);
  }

  private List<Slot> allSlots() {
    List<Slot> all = new java.util.ArrayList<>();
    for (ConcurrentHashMap<String, Slot> byDatabase : slots.values()) {
      all.addAll(byDatabase.values());
    }
    return all;
  }

  /** The slot of a database, or null; no allocation. */
  private Slot find(String environment, String database) {
    ConcurrentHashMap<String, Slot> byDatabase = slots.get(environment);
    return byDatabase == null ? null : byDatabase.get(database);
  }

  private Slot slot(String environment, String database) {
    Slot slot = find(environment, database);
    if (slot != null) {
      return slot;
    }
    Environment env = environments.get(environment);
    if (env == null) {
      throw new DataMapException(
          "no data map for database '"
              + database
              + "': Warden has no environment named '"
              + environment
              + "'");
    }
    return slots
        .computeIfAbsent(environment, e -> new ConcurrentHashMap<>())
        .computeIfAbsent(database, d -> new Slot(env, database));
  }

  /** The schema changed: {@link #ready} waits for a build that starts after now. */
  private void changed(Slot slot) {
    synchronized (slot) {
      slot.awaited = request(slot);
    }
  }

  /** A build that starts after now: at once, or queued after the one running. Caller holds slot. */
  private CompletableFuture<DataMap> request(Slot slot) {
    if (slot.running == null) {
      CompletableFuture<DataMap> future = new CompletableFuture<>();
      start(slot, future);
      return future;
    }
    if (slot.queued == null) {
      slot.queued = new CompletableFuture<>();
    }
    return slot.queued;
  }

  /** Caller holds the slot's monitor. */
  private void start(Slot slot, CompletableFuture<DataMap> future) {
    if (closed) {
      future.completeExceptionally(new DataMapException("Warden's data maps are shutting down"));
      return;
    }
    slot.running = future;
    try {
      builds.execute(() -> build(slot, future));
    } catch (RejectedExecutionException e) {
      slot.running = null;
      future.completeExceptionally(new DataMapException("Warden's data maps are shutting down"));
    }
  }

  /** Runs on a build thread. */
  private void build(Slot slot, CompletableFuture<DataMap> future) {
    List<? extends ContentDetector> using;
    try {
      using = List.copyOf(detectors.get());
    } catch (RuntimeException e) {
      LOG.warn(
          "the policy's content detectors are unavailable; sampling with the standard ones", e);
      using = Detectors.standard();
    }
    Map<Long, Build.Cached> previous;
    long version;
    synchronized (slot) {
      previous = using.equals(slot.cacheDetectors) ? slot.cache : Map.of();
      version = slot.version + 1;
    }
    Upstream upstream = slot.environment.upstream();
    String upstreamDatabase = upstream.databaseFor(slot.database);
    Build.Result result = null;
    RuntimeException failure = null;
    try (Connection c = connector.open(upstream, upstreamDatabase)) {
      result =
          new Build(
                  slot.environment.name(),
                  slot.database,
                  settings.sampleRows(),
                  settings.maxSampledRelations(),
                  using,
                  previous,
                  analyzer,
                  clock)
              .run(c, version);
    } catch (SQLException e) {
      failure = new DataMapException(failureMessage(slot, upstream, upstreamDatabase, e), e);
    } catch (RuntimeException | Error e) {
      // Whatever went wrong, the slot must leave the running state and its waiters must hear of
      // it: a future never completed would hold every session of the database forever.
      failure =
          new DataMapException(
              failurePrefix(slot, upstream, upstreamDatabase) + "unexpected error: " + e, e);
    }
    synchronized (slot) {
      if (result != null) {
        slot.current = result.map();
        slot.currentOptional = Optional.of(result.map());
        slot.currentFuture = CompletableFuture.completedFuture(result.map());
        slot.report = result.report();
        slot.version = version;
        slot.signature = result.signature();
        slot.cache = result.cache();
        slot.cacheDetectors = using;
      }
      if (result == null && slot.current == null) {
        slot.failed = CompletableFuture.failedFuture(failure);
        slot.failedUntil = clock.instant().plus(RETRY_AFTER);
      } else if (result != null) {
        slot.failed = null;
      }
      if (slot.awaited == future) {
        slot.awaited = null;
      }
      slot.running = null;
      if (slot.queued != null) {
        CompletableFuture<DataMap> next = slot.queued;
        slot.queued = null;
        start(slot, next);
      }
    }
    if (result != null) {
      BuildReport r = result.report();
      LOG.info(
          "data map of {}/{} v{}: {} relations, {} sensitive columns, {} sampled, {} reused, {}"
              + " skipped, {} left to hints, in {} ms",
          r.environment(),
          r.database(),
          r.version(),
          r.relations(),
          r.sensitiveColumns(),
          r.sampledRelations(),
          r.reusedRelations(),
          r.skippedRelations(),
          r.unsampledRelations(),
          r.took().toMillis());
      future.complete(result.map());
    } else {
      LOG.warn(failure.getMessage());
      future.completeExceptionally(failure);
    }
  }

  /** Every refresh interval: compares each mapped database's signature with its map's. */
  private void poll() {
    for (Slot slot : allSlots()) {
      synchronized (slot) {
        if (closed || slot.current == null || slot.running != null || slot.polling) {
          continue;
        }
        slot.polling = true;
      }
      try {
        builds.execute(() -> pollOne(slot));
      } catch (RejectedExecutionException e) {
        return;
      }
    }
  }

  private void pollOne(Slot slot) {
    String signature = null;
    Upstream upstream = slot.environment.upstream();
    try (Connection c = connector.open(upstream, upstream.databaseFor(slot.database))) {
      signature = Catalogue.signature(c);
    } catch (SQLException | RuntimeException e) {
      LOG.debug("data map poll of {}/{} failed", slot.environment.name(), slot.database, e);
    }
    boolean rebuild;
    synchronized (slot) {
      slot.polling = false;
      rebuild = signature != null && slot.running == null && !signature.equals(slot.signature);
    }
    if (rebuild) {
      LOG.info(
          "the schema of {}/{} changed; rebuilding its data map",
          slot.environment.name(),
          slot.database);
      changed(slot);
    }
  }

  private static String failurePrefix(Slot slot, Upstream upstream, String upstreamDatabase) {
    return "cannot build the data map of database '"
        + slot.database
        + "' in environment '"
        + slot.environment.name()
        + "' (upstream "
        + Connector.describe(upstream, upstreamDatabase)
        + "): ";
  }

  private static String failureMessage(
      Slot slot, Upstream upstream, String upstreamDatabase, SQLException e) {
    String state = e.getSQLState() == null ? "" : e.getSQLState();
    String why;
    if (state.startsWith("28")) {
      why = "the upstream refused Warden's credentials: ";
    } else if (state.startsWith("08")) {
      why = "the upstream cannot be reached: ";
    } else if (state.equals("3D000")) {
      why = "no such database upstream: ";
    } else if (state.equals("57014")) {
      why = "reading the catalogue took longer than the statement timeout: ";
    } else {
      why = "";
    }
    return failurePrefix(slot, upstream, upstreamDatabase) + why + Build.reason(e);
  }

  private static ThreadFactory threads(String name) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, name + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }
}
