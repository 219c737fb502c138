package dev.warden.server.api;

import dev.warden.core.audit.ChainedRecord;
import dev.warden.core.audit.search.AuditHit;
import dev.warden.core.audit.search.AuditQuery;
import dev.warden.server.audit.AuditFeed;
import dev.warden.server.audit.AuditJson;
import java.time.Clock;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The live tail: fans the trail's durable batches out to the clients following it, each with its
 * own query.
 *
 * <p>The feed's listener runs on the store's writer thread, so it only enqueues (and only while
 * someone follows); one dispatcher thread decodes each record once, evaluates every client's query
 * ({@link AuditQuery#matches}, the reference meaning of a search) and puts matches on the client's
 * bounded queue. A statement's outcome is shown merged with its intent ({@link AuditHit#merge}),
 * which the hub remembers for a while, so that {@code user:alice rows>100} matches outcomes too.
 *
 * <p>A client that cannot keep up is told so and disconnected rather than slowing anyone down; the
 * trail itself loses nothing, and a search shows what the tail skipped.
 */
final class TailHub implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(TailHub.class);
  private static final int MAX_PENDING_BATCHES = 10_000;
  private static final int REMEMBERED_INTENTS = 10_000;

  private final AuditJson json;
  private final Clock clock;
  private final BlockingQueue<Batch> batches = new ArrayBlockingQueue<>(MAX_PENDING_BATCHES);
  private final Set<Subscription> subscriptions = ConcurrentHashMap.newKeySet();
  private final Map<String, Map<String, Object>> intents =
      new LinkedHashMap<>(16, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Map<String, Object>> eldest) {
          return size() > REMEMBERED_INTENTS;
        }
      };
  private final Thread dispatcher;
  private volatile boolean closed;

  private record Batch(String logId, List<ChainedRecord> records) {}

  TailHub(AuditFeed feed, AuditJson json, Clock clock) {
    this.json = Objects.requireNonNull(json, "json");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.dispatcher =
        Thread.ofPlatform().daemon().name("warden-api-tail").unstarted(this::dispatch);
    feed.subscribe(this::written);
    dispatcher.start();
  }

  /** The feed's listener: enqueue only. */
  private void written(String logId, List<ChainedRecord> batch) {
    if (subscriptions.isEmpty() || closed) {
      return;
    }
    if (!batches.offer(new Batch(logId, List.copyOf(batch)))) {
      // The dispatcher is far behind: every follower would miss records, so all are told.
      for (Subscription s : subscriptions) {
        s.overflow();
      }
    }
  }

  /** Follows the trail with {@code query}; the caller takes events and closes it when done. */
  Subscription subscribe(AuditQuery query, int capacity) {
    Subscription s = new Subscription(query, capacity);
    subscriptions.add(s);
    return s;
  }

  private void dispatch() {
    try {
      while (!closed) {
        Batch batch = batches.poll(1, TimeUnit.SECONDS);
        if (batch == null) {
          continue;
        }
        for (ChainedRecord record : batch.records()) {
          try {
            publish(batch.logId(), record);
          } catch (RuntimeException e) {
            LOG.warn(
                "live tail: cannot show record {} of log {}: {}",
                record.seq(),
                batch.logId(),
                e.toString());
          }
        }
      }
    } catch (InterruptedException e) {
      // closing
    }
  }

  private void publish(String logId, ChainedRecord record) {
    Map<String, Object> fields = json.fields(record.payload());
    Map<String, Object> row = fields;
    String key = logId + "\u0000" + fields.get("session") + "\u0000" + fields.get("stmt");
    Object type = fields.get("type");
    if ("intent".equals(type)) {
      intents.put(key, fields);
    } else if ("outcome".equals(type)) {
      Map<String, Object> intent = intents.remove(key);
      if (intent != null) {
        row = AuditHit.merge(intent, fields);
      }
    }
    if (subscriptions.isEmpty()) {
      return;
    }
    Instant time = time(row);
    Instant now = clock.instant();
    Map<String, Object> shown = null;
    for (Subscription s : subscriptions) {
      if (s.query.matches(row, time, now)) {
        if (shown == null) {
          shown = AuditJson.exported(logId, record.seq(), record.hash(), row);
        }
        s.offer(new TailEvent(logId, record.seq(), json.write(shown)));
      }
    }
  }

  private static Instant time(Map<String, Object> fields) {
    if (fields.get("time") instanceof String text) {
      try {
        return Instant.parse(text);
      } catch (DateTimeParseException e) {
        // fall through
      }
    }
    return Instant.EPOCH;
  }

  @Override
  public void close() {
    closed = true;
    dispatcher.interrupt();
    for (Subscription s : subscriptions) {
      s.close();
    }
  }

  /** One record as a tail client gets it: its position and its JSON. */
  record TailEvent(String logId, long seq, String json) {}

  /** One client following the trail. */
  final class Subscription implements AutoCloseable {
    private final AuditQuery query;
    private final BlockingQueue<TailEvent> events;
    private volatile boolean overflowed;
    private volatile boolean ended;

    private Subscription(AuditQuery query, int capacity) {
      this.query = Objects.requireNonNull(query, "query");
      this.events = new ArrayBlockingQueue<>(capacity);
    }

    private void offer(TailEvent event) {
      if (!ended && !events.offer(event)) {
        overflow();
      }
    }

    private void overflow() {
      overflowed = true;
      subscriptions.remove(this);
    }

    /** The next event, or null after {@code timeout} without one. */
    TailEvent poll(long timeout, TimeUnit unit) throws InterruptedException {
      return events.poll(timeout, unit);
    }

    /**
     * True once the client fell too far behind and has taken what it was given before: it has
     * missed records and must stop.
     */
    boolean overflowed() {
      return overflowed && events.isEmpty();
    }

    /** True as soon as a record could not be queued for this client. */
    boolean fellBehind() {
      return overflowed;
    }

    /** True once the hub closed. */
    boolean ended() {
      return ended;
    }

    @Override
    public void close() {
      ended = true;
      subscriptions.remove(this);
    }
  }
}
