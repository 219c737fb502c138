package dev.warden.server.approval;

import dev.warden.core.approval.ApprovalRequest;
import dev.warden.core.identity.Secret;
import dev.warden.server.audit.AuditJson;
import dev.warden.server.audit.WebhookSignature;
import dev.warden.server.config.ApprovalNotifications;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import javax.crypto.spec.SecretKeySpec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tells webhooks and Slack-compatible channels about each new approval request and each decision
 * ({@link #changed}, hooked on {@code Approvals.onChange}).
 *
 * <p>Webhooks get {@code {"event", "delivery", "time", "request", "link"}} as JSON, signed as the
 * audit webhook signs its batches: {@code X-Warden-Signature: sha256=<hex HMAC-SHA-256 of the exact
 * body>} with the webhook's secret; {@code X-Warden-Event} names the event and {@code
 * X-Warden-Delivery} (the same on every retry) lets a receiver drop duplicates. Slack channels get
 * {@code {"text", "blocks"}} with Approve and Deny buttons linking to the console's page of the
 * request, where the reviewer must sign in: a link carries no authority of its own.
 *
 * <p>Never blocks the caller: deliveries go on a bounded queue worked by one thread, are retried
 * with backoff on failure (anything but a 2xx), and are dropped with a warning when the queue is
 * full or the retries are spent. A notification is a courtesy; the audit trail is the record.
 */
public final class ApprovalNotifier implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ApprovalNotifier.class);

  /** The signature header, as the audit webhook names it. */
  public static final String SIGNATURE_HEADER = WebhookSignature.HEADER;

  /** The header naming the event, e.g. {@code approval-requested}. */
  public static final String EVENT_HEADER = "X-Warden-Event";

  /** The header naming the delivery, the same on every retry of it. */
  public static final String DELIVERY_HEADER = "X-Warden-Delivery";

  /** Deliveries waiting or being retried, at most. */
  static final int CAPACITY = 1000;

  /** The waits before the second, third, ... attempt. */
  static final List<Duration> BACKOFF =
      List.of(
          Duration.ofSeconds(1),
          Duration.ofSeconds(5),
          Duration.ofSeconds(30),
          Duration.ofMinutes(2),
          Duration.ofMinutes(10));

  /** The longest statement text put in a chat message. */
  static final int MAX_STATEMENT_IN_MESSAGE = 1500;

  private final ApprovalNotifications config;
  private final List<Optional<SecretKeySpec>> keys;
  private final Clock clock;
  private final HttpClient http;
  private final Duration timeout;
  private final List<Duration> backoff;
  private final int capacity;
  private final AuditJson json = new AuditJson();
  private final ScheduledThreadPoolExecutor worker;
  private final AtomicInteger pending = new AtomicInteger();
  private final AtomicLong dropped = new AtomicLong();
  private final AtomicLong delivered = new AtomicLong();

  /** Notifies as {@code config} says, with the default timeout, retries and queue size. */
  public ApprovalNotifier(ApprovalNotifications config, Clock clock) {
    this(
        config,
        clock,
        HttpClient.newBuilder()
            .connectTimeout(Duration.ofSeconds(10))
            .followRedirects(HttpClient.Redirect.NEVER)
            .build(),
        Duration.ofSeconds(10),
        BACKOFF,
        CAPACITY);
  }

  ApprovalNotifier(
      ApprovalNotifications config,
      Clock clock,
      HttpClient http,
      Duration timeout,
      List<Duration> backoff,
      int capacity) {
    this.config = Objects.requireNonNull(config, "config");
    List<Optional<SecretKeySpec>> k = new ArrayList<>();
    for (ApprovalNotifications.Webhook hook : config.webhooks()) {
      k.add(hook.secret().map(ApprovalNotifier::key));
    }
    this.keys = List.copyOf(k);
    this.clock = Objects.requireNonNull(clock, "clock");
    this.http = Objects.requireNonNull(http, "http");
    this.timeout = Objects.requireNonNull(timeout, "timeout");
    this.backoff = List.copyOf(backoff);
    this.capacity = capacity;
    this.worker =
        new ScheduledThreadPoolExecutor(
            1, Thread.ofPlatform().daemon().name("warden-approval-notifier").factory());
    worker.setRemoveOnCancelPolicy(true);
    worker.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
  }

  /**
   * Queues the notifications of a change to {@code request}: a new request, a review, a decision,
   * an expiry or a cancellation (a used approval is not announced). Returns at once.
   */
  public void changed(ApprovalRequest request) {
    if (config.isEmpty()) {
      return;
    }
    Event event = event(request);
    if (event == Event.USED) {
      return;
    }
    // An access request is named as one, so receivers can tell it from a statement's.
    String label = label(request, event);
    String delivery = request.id() + ":" + label + ":" + request.reviews().size();
    Optional<String> link = link(request);
    if (!config.webhooks().isEmpty()) {
      Map<String, Object> payload = new LinkedHashMap<>();
      payload.put("event", label);
      payload.put("delivery", delivery);
      payload.put("time", clock.instant().toString());
      payload.put("request", ApprovalJson.request(request));
      link.ifPresent(l -> payload.put("link", l));
      byte[] body = json.write(payload).getBytes(StandardCharsets.UTF_8);
      for (int i = 0; i < config.webhooks().size(); i++) {
        ApprovalNotifications.Webhook hook = config.webhooks().get(i);
        HttpRequest.Builder builder =
            post(hook.url(), body).header(EVENT_HEADER, label).header(DELIVERY_HEADER, delivery);
        keys.get(i)
            .ifPresent(k -> builder.header(SIGNATURE_HEADER, WebhookSignature.header(k, body)));
        enqueue(
            new Delivery(
                "approval webhook " + ApprovalNotifications.shown(hook.url()),
                request.id(),
                builder.build()));
      }
    }
    if (!config.slack().isEmpty()) {
      byte[] body =
          json.write(SlackMessage.of(request, event, link)).getBytes(StandardCharsets.UTF_8);
      for (URI url : config.slack()) {
        enqueue(
            new Delivery(
                "Slack webhook " + ApprovalNotifications.shown(url),
                request.id(),
                post(url, body).build()));
      }
    }
  }

  /** Notifications dropped because the queue was full or their retries were spent. */
  public long dropped() {
    return dropped.get();
  }

  /** Notifications a receiver accepted. */
  public long delivered() {
    return delivered.get();
  }

  /** Stops; notifications not yet delivered are dropped. */
  @Override
  public void close() {
    int left = worker.shutdownNow().size();
    if (left > 0) {
      LOG.warn("approval notifications: {} not delivered at shutdown", left);
    }
    try {
      worker.awaitTermination(timeout.toMillis() + 1000, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** The console's page of the request, when Warden's public address is configured. */
  Optional<String> link(ApprovalRequest request) {
    return config
        .publicUrl()
        .map(
            u -> {
              String base = u.toString();
              while (base.endsWith("/")) {
                base = base.substring(0, base.length() - 1);
              }
              return base + "/approvals/" + URLEncoder.encode(request.id(), StandardCharsets.UTF_8);
            });
  }

  /** What happened to a request, as its state now shows. */
  enum Event {
    REQUESTED("approval-requested"),
    REVIEWED("approval-reviewed"),
    APPROVED("approval-approved"),
    DENIED("approval-denied"),
    EXPIRED("approval-expired"),
    CANCELLED("approval-cancelled"),
    USED("approval-used");

    final String label;

    Event(String label) {
      this.label = label;
    }
  }

  /**
   * The event's name: {@code approval-requested}, ..., or for an access request {@code
   * access-requested}, {@code access-approved}, ...
   */
  static String label(ApprovalRequest request, Event event) {
    return request.kind() == ApprovalRequest.Kind.ACCESS
        ? "access-" + event.label.substring("approval-".length())
        : event.label;
  }

  static Event event(ApprovalRequest request) {
    return switch (request.status()) {
      case PENDING -> request.reviews().isEmpty() ? Event.REQUESTED : Event.REVIEWED;
      case APPROVED -> Event.APPROVED;
      case DENIED -> Event.DENIED;
      case EXPIRED -> Event.EXPIRED;
      case CANCELLED -> Event.CANCELLED;
      case USED -> Event.USED;
    };
  }

  private HttpRequest.Builder post(URI url, byte[] body) {
    return HttpRequest.newBuilder(url)
        .timeout(timeout)
        .header("Content-Type", "application/json")
        .header("User-Agent", "warden")
        .POST(HttpRequest.BodyPublishers.ofByteArray(body));
  }

  private record Delivery(String target, String requestId, HttpRequest request) {}

  private void enqueue(Delivery delivery) {
    if (pending.incrementAndGet() > capacity) {
      pending.decrementAndGet();
      dropped.incrementAndGet();
      LOG.warn(
          "approval notifications: queue full, {} not told about request {}",
          delivery.target(),
          delivery.requestId());
      return;
    }
    schedule(delivery, 0, Duration.ZERO);
  }

  private void schedule(Delivery delivery, int attempt, Duration delay) {
    try {
      worker.schedule(() -> attempt(delivery, attempt), delay.toMillis(), TimeUnit.MILLISECONDS);
    } catch (RejectedExecutionException e) {
      pending.decrementAndGet(); // closed
    }
  }

  private void attempt(Delivery delivery, int attempt) {
    String failure;
    try {
      HttpResponse<Void> response =
          http.send(delivery.request(), HttpResponse.BodyHandlers.discarding());
      int status = response.statusCode();
      if (status >= 200 && status <= 299) {
        pending.decrementAndGet();
        delivered.incrementAndGet();
        return;
      }
      failure = "HTTP " + status;
    } catch (IOException e) {
      // The JDK's messages name the host at most, never a path or query that may hold a token.
      failure = e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      pending.decrementAndGet();
      return;
    }
    if (attempt < backoff.size()) {
      LOG.debug(
          "approval notifications: {} failed ({}), retrying in {}",
          delivery.target(),
          failure,
          backoff.get(attempt));
      schedule(delivery, attempt + 1, backoff.get(attempt));
      return;
    }
    pending.decrementAndGet();
    dropped.incrementAndGet();
    LOG.warn(
        "approval notifications: gave up telling {} about request {} after {} attempts: {}",
        delivery.target(),
        delivery.requestId(),
        attempt + 1,
        failure);
  }

  private static SecretKeySpec key(Secret secret) {
    byte[] bytes = secret.bytes();
    try {
      return new SecretKeySpec(bytes, "HmacSHA256");
    } finally {
      Arrays.fill(bytes, (byte) 0);
    }
  }
}
