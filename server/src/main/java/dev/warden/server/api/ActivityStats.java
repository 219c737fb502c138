package dev.warden.server.api;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.warden.core.audit.ChainedRecord;
import dev.warden.server.audit.AuditFeed;
import java.io.IOException;
import java.time.Clock;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the console's overview shows over time, kept from the audit trail as it is written: per
 * environment and minute for the last hour, how many statements there were, how many were refused
 * and how many had values masked, and which tables they touched. It follows this instance's trail
 * from when Warden started. (Who is connected now comes from the live sessions, not from here.)
 *
 * <p>The store's writer thread only hands batches over; a thread of its own reads each record's few
 * top-level fields with a streaming parser (nested values are skipped unread). Should it fall more
 * than {@link #BACKLOG} batches behind, batches are dropped and the overview says its counts are
 * incomplete.
 */
final class ActivityStats implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ActivityStats.class);

  /** Minutes kept. */
  static final int MINUTES = 60;

  /** Batches the reader may fall behind by. */
  static final int BACKLOG = 4096;

  private static final JsonFactory JSON = new JsonFactory();

  private record Batch(List<ChainedRecord> records) {}

  /** One environment's counts in one minute. */
  static final class Minute {
    final long epochMinute;
    long statements;
    long denied;
    long masked;
    final Map<String, Long> tables = new HashMap<>();

    Minute(long epochMinute) {
      this.epochMinute = epochMinute;
    }
  }

  private final Clock clock;
  private final BlockingQueue<Batch> batches = new ArrayBlockingQueue<>(BACKLOG);
  private final Thread reader;
  private final AtomicLong dropped = new AtomicLong();
  private volatile boolean closed;

  // Guarded by this.
  /** The environment of each session that is connected or has statements, for its outcomes. */
  private final Map<String, String> sessionEnvironments = new HashMap<>();

  private final Map<String, ArrayListDeque> minutes = new HashMap<>();

  /** An environment's minutes, oldest first. */
  private static final class ArrayListDeque extends java.util.ArrayDeque<Minute> {
    private static final long serialVersionUID = 1L;
  }

  ActivityStats(AuditFeed feed, Clock clock) {
    this.clock = Objects.requireNonNull(clock, "clock");
    this.reader = Thread.ofPlatform().daemon().name("warden-activity").unstarted(this::read);
    feed.subscribe(this::written);
    reader.start();
  }

  /** The feed's listener: hand over only. */
  private void written(String logId, List<ChainedRecord> batch) {
    if (closed) {
      return;
    }
    if (!batches.offer(new Batch(batch))) {
      dropped.incrementAndGet();
    }
  }

  private void read() {
    try {
      while (!closed) {
        Batch batch = batches.poll(1, TimeUnit.SECONDS);
        if (batch == null) {
          continue;
        }
        for (ChainedRecord record : batch.records()) {
          try {
            add(record.payload());
          } catch (IOException | RuntimeException e) {
            LOG.debug("activity: record {} not counted: {}", record.seq(), e.toString());
          }
        }
      }
    } catch (InterruptedException e) {
      // closing
    }
  }

  /** Counts one record (its canonical JSON). */
  void add(byte[] payload) throws IOException {
    String type = null;
    String time = null;
    String env = null;
    String user = null;
    String session = null;
    String event = null;
    boolean success = false;
    String verdict = null;
    long maskedValues = 0;
    List<String> tables = null;
    try (JsonParser p = JSON.createParser(payload)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        return;
      }
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String field = p.currentName();
        JsonToken value = p.nextToken();
        switch (field) {
          case "type" -> type = p.getValueAsString();
          case "time" -> time = p.getValueAsString();
          case "env" -> env = p.getValueAsString();
          case "user" -> user = p.getValueAsString();
          case "session" -> session = p.getValueAsString();
          case "event" -> event = p.getValueAsString();
          case "success" -> success = value == JsonToken.VALUE_TRUE;
          case "verdict" -> verdict = p.getValueAsString();
          case "masked_values" -> maskedValues = p.getValueAsLong();
          case "tables" -> {
            if (value == JsonToken.START_ARRAY) {
              tables = new ArrayList<>(2);
              while (p.nextToken() == JsonToken.VALUE_STRING) {
                tables.add(p.getText());
              }
            }
          }
          default -> p.skipChildren();
        }
      }
    }
    if (type == null || time == null) {
      return;
    }
    long minute;
    try {
      minute = Instant.parse(time).getEpochSecond() / 60;
    } catch (DateTimeParseException e) {
      return;
    }
    synchronized (this) {
      switch (type) {
        case "event" -> {
          if ("connect".equals(event) && success && session != null && env != null) {
            sessionEnvironments.put(session, env);
          } else if ("disconnect".equals(event) && session != null) {
            sessionEnvironments.remove(session);
          }
        }
        case "intent" -> {
          if (env == null) {
            return;
          }
          Minute m = minute(env, minute);
          m.statements++;
          if ("denied".equals(verdict)) {
            m.denied++;
          }
          if (tables != null) {
            for (String t : tables) {
              m.tables.merge(t, 1L, Long::sum);
            }
          }
          if (session != null) {
            sessionEnvironments.putIfAbsent(session, env); // for its outcomes
          }
        }
        case "outcome" -> {
          String of = session == null ? null : sessionEnvironments.get(session);
          if (maskedValues > 0 && of != null) {
            minute(of, minute).masked++;
          }
        }
        default -> {}
      }
    }
  }

  /** The bucket of {@code env} for {@code epochMinute}, dropping buckets older than the hour. */
  private Minute minute(String env, long epochMinute) {
    ArrayListDeque ring = minutes.computeIfAbsent(env, e -> new ArrayListDeque());
    Minute last = ring.peekLast();
    if (last != null && last.epochMinute == epochMinute) {
      return last;
    }
    if (last != null && last.epochMinute > epochMinute) {
      // a late record (a batch written out of order across instances): find its minute
      for (Minute m : ring) {
        if (m.epochMinute == epochMinute) {
          return m;
        }
      }
      return new Minute(epochMinute); // older than the hour kept: counted nowhere
    }
    Minute m = new Minute(epochMinute);
    ring.addLast(m);
    while (!ring.isEmpty() && ring.peekFirst().epochMinute <= epochMinute - MINUTES) {
      ring.removeFirst();
    }
    return m;
  }

  /**
   * The overview of {@code environment} (null: all), over the last {@link #MINUTES} minutes up to
   * now.
   */
  synchronized Map<String, Object> overview(String environment) {
    Instant now = clock.instant();
    long current = now.getEpochSecond() / 60;
    long first = current - MINUTES + 1;
    long[] statements = new long[MINUTES];
    long[] denied = new long[MINUTES];
    long[] masked = new long[MINUTES];
    Map<String, Long> tables = new HashMap<>();
    for (Map.Entry<String, ArrayListDeque> e : minutes.entrySet()) {
      if (environment != null && !e.getKey().equals(environment)) {
        continue;
      }
      for (Minute m : e.getValue()) {
        int i = (int) (m.epochMinute - first);
        if (i < 0 || i >= MINUTES) {
          continue;
        }
        statements[i] += m.statements;
        denied[i] += m.denied;
        masked[i] += m.masked;
        m.tables.forEach((t, n) -> tables.merge(t, n, Long::sum));
      }
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("environment", environment);
    out.put("since", Instant.ofEpochSecond(first * 60).toString());
    out.put("now", now.toString());
    List<Object> series = new ArrayList<>(MINUTES);
    long totalStatements = 0;
    long totalDenied = 0;
    long totalMasked = 0;
    for (int i = 0; i < MINUTES; i++) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("minute", Instant.ofEpochSecond((first + i) * 60).toString());
      m.put("statements", statements[i]);
      m.put("denied", denied[i]);
      m.put("masked", masked[i]);
      series.add(m);
      totalStatements += statements[i];
      totalDenied += denied[i];
      totalMasked += masked[i];
    }
    out.put("minutes", series);
    out.put("statements", totalStatements);
    out.put("denied", totalDenied);
    out.put("masked", totalMasked);
    List<Map.Entry<String, Long>> top = new ArrayList<>(tables.entrySet());
    top.sort(
        Map.Entry.<String, Long>comparingByValue()
            .reversed()
            .thenComparing(Map.Entry.comparingByKey()));
    List<Object> touched = new ArrayList<>();
    for (Map.Entry<String, Long> t : top.subList(0, Math.min(10, top.size()))) {
      touched.add(Map.of("table", t.getKey(), "statements", t.getValue()));
    }
    out.put("tables", touched);
    out.put("complete", dropped.get() == 0);
    return out;
  }

  @Override
  public void close() {
    closed = true;
    reader.interrupt();
  }
}
