package dev.warden.server.audit;

import dev.warden.core.audit.ChainedRecord;
import dev.warden.server.config.AuditConfig;
import java.io.IOException;
import java.io.PrintStream;
import java.net.http.HttpClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Delivers the audit trail to SIEM sinks, at least once and without loss while a sink is down.
 *
 * <p>Each sink has its own thread and its own cursor file under the cursor directory. The thread
 * reads the log from its cursor ({@link RecordSource#readAfter}), delivers a batch, and only then
 * moves the cursor on (fsynced). A failed delivery is retried with the same batch after a backoff
 * that doubles up to {@link ExportSettings#maxBackoff()}, for as long as it takes: the log is the
 * buffer, so a sink that is down for an hour catches up from where it stopped, and nothing is held
 * in memory meanwhile. A crash between delivery and cursor gives a duplicate, never a gap. The feed
 * wakes the threads after each durable batch, so exports follow the trail within milliseconds.
 *
 * <p>Sinks never slow the trail down: the feed listener only signals, and a sink that falls behind
 * only lags.
 */
public final class ExportService implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ExportService.class);

  /** The subdirectory of the data directory that holds the cursor files. */
  public static final Path CURSOR_DIRECTORY = Path.of("export");

  private final List<Worker> workers;

  private ExportService(List<Worker> workers) {
    this.workers = List.copyOf(workers);
  }

  /**
   * Starts one thread per configured sink.
   *
   * @param exports the sinks, from {@link AuditConfig#exports()}; none starts nothing
   * @param cursorDirectory where the cursor files are kept ({@code dataDir/export})
   * @param source the log to read
   * @param feed wakes the sinks after each durable batch
   * @param settings batch size, backoff, timeouts
   * @param stdout where {@code jsonl: "-"} writes
   */
  public static ExportService start(
      List<AuditConfig.Export> exports,
      Path cursorDirectory,
      RecordSource source,
      AuditFeed feed,
      ExportSettings settings,
      PrintStream stdout) {
    AuditJson json = new AuditJson();
    HttpClient client = null;
    List<Sink> sinks = new ArrayList<>();
    for (AuditConfig.Export export : exports) {
      switch (export) {
        case AuditConfig.Export.JsonLines lines ->
            sinks.add(
                new JsonLinesSink(export.name(), lines.file(), stdout, json, settings.fileBatch()));
        case AuditConfig.Export.Webhook hook -> {
          if (client == null) {
            client =
                HttpClient.newBuilder()
                    .connectTimeout(settings.requestTimeout())
                    .followRedirects(HttpClient.Redirect.NEVER)
                    .build();
          }
          sinks.add(
              new WebhookSink(
                  export.name(),
                  hook.url(),
                  hook.secret(),
                  client,
                  settings.requestTimeout(),
                  json,
                  settings.webhookBatch()));
        }
      }
    }
    return start(sinks, cursorDirectory, source, feed, settings);
  }

  /** Starts the given sinks (tests pass their own). */
  static ExportService start(
      List<Sink> sinks,
      Path cursorDirectory,
      RecordSource source,
      AuditFeed feed,
      ExportSettings settings) {
    Objects.requireNonNull(cursorDirectory, "cursorDirectory");
    Objects.requireNonNull(source, "source");
    Objects.requireNonNull(settings, "settings");
    List<Worker> workers = new ArrayList<>();
    for (Sink sink : sinks) {
      workers.add(
          new Worker(sink, ExportCursor.file(cursorDirectory, sink.name()), source, settings));
    }
    ExportService service = new ExportService(workers);
    if (!workers.isEmpty()) {
      feed.subscribe((logId, batch) -> service.wake());
    }
    for (Worker worker : workers) {
      worker.thread.start();
    }
    return service;
  }

  /** Tells every sink that new records may be there; never blocks. */
  public void wake() {
    for (Worker worker : workers) {
      worker.wake();
    }
  }

  /** Where each sink stands. */
  public List<SinkStatus> status() {
    return workers.stream().map(Worker::status).toList();
  }

  /** Stops the threads; a batch being delivered is abandoned and delivered again next time. */
  @Override
  public void close() {
    for (Worker worker : workers) {
      worker.stop();
    }
    for (Worker worker : workers) {
      try {
        worker.thread.join(Duration.ofSeconds(5));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  /** One sink's loop: read from the cursor, deliver, advance; retry with backoff. */
  private static final class Worker implements Runnable {
    private final Sink sink;
    private final Path cursorFile;
    private final RecordSource source;
    private final ExportSettings settings;
    private final BlockingQueue<Boolean> wakeUps = new ArrayBlockingQueue<>(1);
    private final Thread thread;
    private volatile boolean stopped;
    private volatile long delivered;
    private volatile int failures;
    private volatile Optional<String> lastError = Optional.empty();

    Worker(Sink sink, Path cursorFile, RecordSource source, ExportSettings settings) {
      this.sink = sink;
      this.cursorFile = cursorFile;
      this.source = source;
      this.settings = settings;
      this.thread = Thread.ofPlatform().daemon().name("warden-export").unstarted(this);
    }

    void wake() {
      wakeUps.offer(Boolean.TRUE);
    }

    void stop() {
      stopped = true;
      thread.interrupt();
    }

    SinkStatus status() {
      return new SinkStatus(sink.name(), source.logId(), delivered, failures, lastError);
    }

    @Override
    public void run() {
      try {
        ExportCursor cursor = attempt("read its cursor", this::loadCursor);
        delivered = cursor.seq();
        while (!stopped) {
          long after = cursor.seq();
          List<ChainedRecord> batch =
              attempt("read the audit log", () -> source.readAfter(after, sink.batchSize()));
          if (batch.isEmpty()) {
            wakeUps.poll(settings.pollInterval().toNanos(), TimeUnit.NANOSECONDS);
            continue;
          }
          String logId = cursor.logId();
          attempt(
              "deliver records " + batch.getFirst().seq() + " to " + batch.getLast().seq(),
              () -> {
                sink.deliver(logId, batch);
                return null;
              });
          ExportCursor next = new ExportCursor(logId, batch.getLast().seq());
          attempt(
              "save its cursor",
              () -> {
                next.write(cursorFile);
                return null;
              });
          cursor = next;
          delivered = next.seq();
        }
      } catch (InterruptedException e) {
        // Stopping: the cursor says where to resume.
      }
    }

    private ExportCursor loadCursor() throws IOException {
      String logId = source.logId();
      Optional<ExportCursor> saved = ExportCursor.read(cursorFile);
      if (saved.isPresent() && !saved.get().logId().equals(logId)) {
        LOG.warn(
            "export to {}: its cursor belongs to log {}, the trail is now log {}; delivering log {}"
                + " from its first record",
            sink.name(),
            saved.get().logId(),
            logId,
            logId);
        return new ExportCursor(logId, 0);
      }
      return saved.orElse(new ExportCursor(logId, 0));
    }

    /** Runs {@code step} until it succeeds, waiting longer after each failure. */
    private <T> T attempt(String what, Step<T> step) throws InterruptedException {
      long backoff = settings.initialBackoff().toNanos();
      while (true) {
        if (stopped) {
          throw new InterruptedException();
        }
        try {
          T result = step.run();
          if (failures > 0) {
            LOG.info("export to {}: working again after {} failures", sink.name(), failures);
          }
          failures = 0;
          lastError = Optional.empty();
          return result;
        } catch (IOException | RuntimeException e) {
          failures++;
          String message = e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
          lastError = Optional.of(message);
          // The first failure and then every tenth, so a long outage does not flood the log.
          if (failures == 1 || failures % 10 == 0) {
            LOG.warn(
                "export to {}: cannot {} ({} failures so far, retrying): {}",
                sink.name(),
                what,
                failures,
                message);
          }
        }
        TimeUnit.NANOSECONDS.sleep(backoff);
        backoff = Math.min(backoff * 2, settings.maxBackoff().toNanos());
      }
    }
  }

  @FunctionalInterface
  private interface Step<T> {
    T run() throws IOException, InterruptedException;
  }
}
