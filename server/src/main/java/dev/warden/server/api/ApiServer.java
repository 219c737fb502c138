package dev.warden.server.api;

import dev.warden.core.audit.AuditEvent;
import dev.warden.core.audit.Durability;
import dev.warden.core.audit.search.AuditHit;
import dev.warden.core.audit.search.AuditQuery;
import dev.warden.core.audit.search.AuditQueryException;
import dev.warden.core.audit.search.AuditResults;
import dev.warden.core.audit.search.AuditSearch;
import dev.warden.core.audit.search.AuditSearchException;
import dev.warden.core.identity.Identity;
import dev.warden.server.StartupException;
import dev.warden.server.audit.AuditJson;
import dev.warden.server.config.HostPort;
import io.javalin.Javalin;
import io.javalin.compression.CompressionStrategy;
import io.javalin.http.Context;
import java.io.IOException;
import java.io.OutputStream;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Warden's REST API (the web console will join it on the same listener): the audit trail for the
 * people allowed to read it.
 *
 * <ul>
 *   <li>{@code GET /api/openapi.json}: unauthenticated; this API's description (OpenAPI 3.1).
 *   <li>{@code GET /api/health}: unauthenticated; {@code 200 {"status":"ok"}}, or {@code 503
 *       {"status":"unavailable","reason":...}} while the audit trail refuses records (and so Warden
 *       refuses statements).
 *   <li>{@code GET /api/audit?q=QUERY&limit=N}: the newest results, {@code {"hits":[...],
 *       "more":bool}}; 400 with the parser's message and position for a bad query.
 *   <li>{@code GET /api/audit/tail?q=QUERY}: server-sent events, one {@code record} event per new
 *       record matching the query, with {@code id: <log id>:<seq>}.
 *   <li>{@code GET /api/audit/export?q=QUERY&limit=N}: the same results as a search (up to {@value
 *       #EXPORT_LIMIT} by default), as a download of JSON lines ({@code application/x-ndjson}), one
 *       hit per line as the search shows it; {@code X-Warden-More: true} when more matched.
 *   <li>{@code /api/approvals...}: approval requests for reviewers and requesters, see {@link
 *       ApprovalRoutes}.
 *   <li>{@code /api/access...}: access windows (just-in-time elevation) for requesters, see {@link
 *       AccessRoutes}.
 * </ul>
 *
 * <p>Authentication is HTTP Basic as a Warden identity ({@link BasicAuthenticator}: a local user's
 * password, a service token, or a token from the identity provider), or the console's session
 * cookie ({@link ConsoleRoutes}), throttled per user and source; reading the trail needs the group
 * {@code auditors} or {@code admins} (403 otherwise). Every search and tail is itself recorded in
 * the trail, durably, before it runs, and refused when it cannot be (who looked at what is part of
 * the record); so is every failed login (the claimed user, the source and why, never the password).
 *
 * <p>Handlers run on virtual threads: a throttled login or a long tail holds no platform thread.
 */
public final class ApiServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ApiServer.class);

  /** Groups whose members may read the audit trail. */
  public static final Set<String> AUDIT_READERS = Set.of("auditors", "admins");

  /** Results per search when the client names no limit. */
  static final int DEFAULT_LIMIT = 50;

  /** Results per export when the client names no limit: as many as a search may give. */
  static final int EXPORT_LIMIT = AuditSearch.MAX_LIMIT;

  /** An export's file name says when it was made, in UTC. */
  private static final DateTimeFormatter EXPORT_STAMP =
      DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);

  /** How long a search waits for its own audit record to be durable. */
  private static final long RECORD_TIMEOUT_SECONDS = 5;

  /** Records a tail client may fall behind by before it is disconnected. */
  private static final int TAIL_BACKLOG = 10_000;

  /** A comment is sent this often on an idle tail, to find closed clients and keep proxies open. */
  private static final long KEEPALIVE_SECONDS = 15;

  private static final String JSON = "application/json; charset=utf-8";

  /** Set on a request whose error answer is written. */
  private static final String ANSWERED = "warden.answered";

  private final Javalin app;
  private final ApiDependencies deps;
  private final BasicAuthenticator authenticator;
  private final ConsoleSessions consoleSessions;

  /** The API's description (OpenAPI 3.1), served at {@code /api/openapi.json}. */
  private final byte[] openApi = openApi();

  private final TailHub tail;
  private final AuditJson json;
  private final InetSocketAddress address;

  private ApiServer(HostPort listen, ApiDependencies deps) throws StartupException {
    this.deps = Objects.requireNonNull(deps, "deps");
    this.json = new AuditJson();
    this.authenticator = new BasicAuthenticator(deps.accounts(), deps.tokens(), deps.throttle());
    this.consoleSessions =
        new ConsoleSessions(deps.users(), deps.clock(), new java.security.SecureRandom());
    // Before the listener: a tail request may arrive as soon as it listens.
    this.tail = new TailHub(deps.feed(), json, deps.clock());
    this.app =
        Javalin.create(
            config -> {
              config.startup.showJavalinBanner = false;
              config.startup.showOldJavalinVersionWarning = false;
              config.concurrency.useVirtualThreads = true;
              config.http.maxRequestSize = 64 * 1024;
              // Answers are small, and a compressing stream would hold back the tail's events.
              config.http.compressionStrategy = CompressionStrategy.NONE;
              config.jetty.host = listen.host();
              config.jetty.port = listen.port();
              config.jetty.modifyServletContextHandler(ApiVersions::install);
              config.routes.before(ApiServer::commonHeaders);
              config.routes.get("/api/health", this::health);
              config.routes.get(
                  "/api/openapi.json", ctx -> ctx.status(200).contentType(JSON).result(openApi));
              new ConsoleRoutes(consoleSessions, authenticator, deps.trail(), deps.clock(), json)
                  .register(config.routes);
              config.routes.get("/api/audit", this::search);
              config.routes.get("/api/audit/tail", this::tail);
              config.routes.get("/api/audit/export", this::export);
              deps.approvals()
                  .ifPresent(
                      a ->
                          new ApprovalRoutes(
                                  a, deps.trail(), deps.clock(), json, this::authenticate)
                              .register(config.routes));
              deps.approvals()
                  .ifPresent(
                      a ->
                          deps.access()
                              .ifPresent(
                                  x ->
                                      new AccessRoutes(
                                              a,
                                              x,
                                              deps.trail(),
                                              deps.clock(),
                                              json,
                                              this::authenticate)
                                          .register(config.routes)));
              for (RouteGroup group : deps.routeGroups()) {
                if (group instanceof ConsoleOidcRoutes oidc) {
                  oidc.register(config.routes, consoleSessions);
                } else {
                  group.register(config.routes, this::authenticate);
                }
              }
              config.routes.exception(ApiError.class, (e, ctx) -> error(ctx, e.status, e));
              config.routes.exception(
                  Exception.class,
                  (e, ctx) -> {
                    LOG.warn("REST API: {} {} failed", ctx.method(), ctx.path(), e);
                    error(ctx, 500, new ApiError(500, "internal error; see Warden's log"));
                  });
              config.routes.error(
                  404,
                  ctx -> {
                    // An endpoint's own 404 (an unknown approval request) keeps its message.
                    if (ctx.attribute(ANSWERED) == null) {
                      error(
                          ctx, 404, new ApiError(404, "no such endpoint: " + shorten(ctx.path())));
                    }
                  });
            });
    try {
      app.start();
    } catch (RuntimeException e) {
      tail.close();
      app.stop();
      if (causedBy(e, BindException.class)) {
        throw new StartupException(
            "cannot listen on "
                + listen
                + " for the REST API: the address is in use (is another Warden running?); set"
                + " another address with console: in the configuration file",
            e);
      }
      throw new StartupException(
          "cannot listen on " + listen + " for the REST API: " + e.getMessage(), e);
    }
    this.address = new InetSocketAddress(listen.host(), app.port());
  }

  /**
   * Starts listening.
   *
   * @throws StartupException when the address is taken or cannot be bound, with a message fit for
   *     the operator
   */
  public static ApiServer start(HostPort listen, ApiDependencies deps) throws StartupException {
    return new ApiServer(listen, deps);
  }

  /** Where the API listens (the real port when the configuration asked for port 0). */
  public InetSocketAddress address() {
    return address;
  }

  /** Ends the live tails, then stops listening. */
  @Override
  public void close() {
    tail.close();
    app.stop();
    for (RouteGroup group : deps.routeGroups()) {
      if (group instanceof AutoCloseable closeable) {
        try {
          closeable.close();
        } catch (Exception e) {
          LOG.warn(
              "REST API: closing {} failed: {}", group.getClass().getSimpleName(), e.toString());
        }
      }
    }
  }

  // ---- endpoints --------------------------------------------------------------------------------

  private void health(Context ctx) {
    Optional<String> unavailable = deps.trail().unavailable();
    Map<String, Object> body = new LinkedHashMap<>();
    if (unavailable.isEmpty()) {
      body.put("status", "ok");
      ctx.status(200);
    } else {
      body.put("status", "unavailable");
      body.put("reason", "audit trail unavailable: " + unavailable.get());
      ctx.status(503);
    }
    ctx.contentType(JSON).result(json.write(body));
  }

  private void search(Context ctx) throws InterruptedException {
    AuditResults results = searched(ctx, "audit-search", DEFAULT_LIMIT);
    List<Object> hits = new ArrayList<>(results.hits().size());
    for (AuditHit hit : results.hits()) {
      hits.add(hit(hit));
    }
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("hits", hits);
    body.put("more", results.more());
    ctx.status(200).contentType(JSON).result(json.write(body));
  }

  /**
   * A search's results as a download, one hit per line, recorded like a search (who exported what
   * is part of the record, and an export that cannot be recorded is refused).
   */
  private void export(Context ctx) throws InterruptedException {
    AuditResults results = searched(ctx, "audit-export", EXPORT_LIMIT);
    StringBuilder lines = new StringBuilder();
    for (AuditHit hit : results.hits()) {
      // The writer puts no line breaks in a document: a line is a hit.
      lines.append(json.write(hit(hit))).append('\n');
    }
    String stamp = EXPORT_STAMP.format(deps.clock().instant());
    ctx.header("Content-Disposition", "attachment; filename=\"warden-audit-" + stamp + ".jsonl\"");
    ctx.header("X-Warden-More", Boolean.toString(results.more()));
    ctx.status(200).contentType("application/x-ndjson; charset=utf-8").result(lines.toString());
  }

  /**
   * The results of the request's search ({@code q}, {@code limit}, up to {@code defaultLimit}): for
   * auditors and administrators only, recorded durably as {@code action} before it runs.
   */
  private AuditResults searched(Context ctx, String action, int defaultLimit)
      throws InterruptedException {
    Identity user = authenticate(ctx);
    String q = Optional.ofNullable(ctx.queryParam("q")).orElse("");
    int limit = limit(ctx.queryParam("limit"), defaultLimit);
    authorize(ctx, user, action, q);
    AuditQuery query = parse(q);
    record(action, user, ctx, Map.of("query", q, "limit", Integer.toString(limit)), true);
    try {
      return deps.search().search(query, limit);
    } catch (AuditSearchException e) {
      LOG.warn("REST API: {} failed: {}", action, e.getMessage());
      throw new ApiError(503, "the audit search is unavailable: " + e.getMessage());
    }
  }

  /** A hit as the API shows it: its position, then its fields. */
  static Map<String, Object> hit(AuditHit hit) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("log_id", hit.logId());
    out.put("seq", hit.seq());
    if (hit.outcomeSeq().isPresent()) {
      out.put("outcome_seq", hit.outcomeSeq().getAsLong());
    }
    for (Map.Entry<String, Object> field : hit.fields().entrySet()) {
      out.putIfAbsent(field.getKey(), field.getValue());
    }
    return out;
  }

  private void tail(Context ctx) throws InterruptedException {
    Identity user = authenticate(ctx);
    String q = Optional.ofNullable(ctx.queryParam("q")).orElse("");
    authorize(ctx, user, "audit-tail", q);
    AuditQuery query = parse(q);
    record("audit-tail", user, ctx, Map.of("query", q), true);
    try (TailHub.Subscription subscription = tail.subscribe(query, TAIL_BACKLOG)) {
      ctx.status(200);
      ctx.header("Content-Type", "text/event-stream; charset=utf-8");
      ctx.header("X-Accel-Buffering", "no");
      // The servlet's own stream: every flush reaches the client.
      OutputStream out = ctx.res().getOutputStream();
      write(out, ": following the audit trail\n\n");
      while (!subscription.ended()) {
        TailHub.TailEvent event = subscription.poll(KEEPALIVE_SECONDS, TimeUnit.SECONDS);
        if (event != null) {
          write(
              out,
              "event: record\nid: "
                  + event.logId()
                  + ":"
                  + event.seq()
                  + "\ndata: "
                  + event.json()
                  + "\n\n");
        } else if (subscription.overflowed()) {
          write(
              out,
              "event: overflow\ndata: "
                  + json.write(
                      Map.of(
                          "error",
                          "this client fell more than "
                              + TAIL_BACKLOG
                              + " records behind and missed some; search for them and follow"
                              + " again"))
                  + "\n\n");
          return;
        } else {
          write(out, ": keepalive\n\n");
        }
      }
    } catch (IOException e) {
      // The client went away.
    }
  }

  private static void write(OutputStream out, String text) throws IOException {
    out.write(text.getBytes(StandardCharsets.UTF_8));
    out.flush();
  }

  // ---- authentication, authorization, recording -------------------------------------------------

  /**
   * The user a request comes from: by its HTTP Basic header or, without one, by its console session
   * cookie; a console request that may change something must also carry the session's CSRF token.
   */
  private Identity authenticate(Context ctx) throws InterruptedException {
    String source = ctx.ip();
    String cookie = ctx.header("Authorization") == null ? ctx.cookie(ConsoleSessions.COOKIE) : null;
    if (cookie != null) {
      ConsoleSessions.Signed signed =
          consoleSessions
              .find(cookie)
              .orElseThrow(() -> new ApiError(401, "the console session ended; sign in again"));
      if (!safe(ctx) && !signed.session().csrfMatches(ctx.header(ConsoleSessions.CSRF_HEADER))) {
        throw new ApiError(403, "the CSRF token is missing or wrong; reload the page");
      }
      return signed.user();
    }
    BasicAuthenticator.Result result =
        authenticator.authenticate(ctx.header("Authorization"), source);
    switch (result) {
      case BasicAuthenticator.Authenticated a -> {
        return a.identity();
      }
      case BasicAuthenticator.Missing m -> throw unauthorized(ctx);
      case BasicAuthenticator.Refused r -> {
        Map<String, String> details = new LinkedHashMap<>();
        details.put("method", "http-basic");
        details.put("via", "api");
        details.put("user", r.claimed());
        details.put("source", source);
        details.put("reason", r.reason());
        // Not waited for: a refused login must not be able to make Warden wait for a disk.
        deps.trail()
            .append(
                new AuditEvent(
                    deps.clock().instant(), "authenticate", false, "", Optional.empty(), details),
                Durability.BOUNDED)
            .exceptionally(
                e -> {
                  LOG.warn("REST API: a failed login could not be recorded: {}", e.getMessage());
                  return null;
                });
        throw unauthorized(ctx);
      }
    }
  }

  private static byte[] openApi() {
    try (java.io.InputStream in = ApiServer.class.getResourceAsStream("openapi.json")) {
      if (in == null) {
        throw new IllegalStateException("the API's openapi.json is missing from the jar");
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static boolean safe(Context ctx) {
    String method = ctx.method().name();
    return method.equals("GET") || method.equals("HEAD") || method.equals("OPTIONS");
  }

  private static ApiError unauthorized(Context ctx) {
    // Not to the console's own requests: a browser would answer with its password dialog.
    if (ctx.header(ConsoleSessions.CSRF_HEADER) == null) {
      ctx.header("WWW-Authenticate", "Basic realm=\"warden\", charset=\"UTF-8\"");
    }
    return new ApiError(
        401, "authentication required: a Warden user name and password (HTTP Basic)");
  }

  private void authorize(Context ctx, Identity user, String action, String query)
      throws InterruptedException {
    for (String group : user.groups()) {
      if (AUDIT_READERS.contains(group)) {
        return;
      }
    }
    record(action, user, ctx, Map.of("query", query, "reason", "not in auditors or admins"), false);
    throw new ApiError(
        403,
        "user "
            + user.name()
            + " may not read the audit trail: that needs the group auditors or admins");
  }

  private static AuditQuery parse(String q) {
    try {
      return AuditQuery.parse(q);
    } catch (AuditQueryException e) {
      throw new ApiError(400, e.getMessage(), Optional.of(e.position()));
    }
  }

  private static int limit(String text, int otherwise) {
    if (text == null || text.isEmpty()) {
      return otherwise;
    }
    int limit;
    try {
      limit = Integer.parseInt(text);
    } catch (NumberFormatException e) {
      limit = -1;
    }
    if (limit < 1 || limit > AuditSearch.MAX_LIMIT) {
      throw new ApiError(
          400,
          "limit must be a whole number from 1 to "
              + AuditSearch.MAX_LIMIT
              + ", not '"
              + shorten(text)
              + "'");
    }
    return limit;
  }

  /**
   * Records an administrative act and waits until it is durable: an act on the audit trail that
   * cannot be recorded does not happen.
   */
  private void record(
      String name, Identity user, Context ctx, Map<String, String> facts, boolean success)
      throws InterruptedException {
    Map<String, String> details = new LinkedHashMap<>(facts);
    details.put("via", "api");
    details.put("source", ctx.ip());
    AuditEvent event =
        new AuditEvent(
            deps.clock().instant(), name, success, user.name(), Optional.empty(), details);
    try {
      deps.trail()
          .append(event, Durability.IMMEDIATE)
          .get(RECORD_TIMEOUT_SECONDS, TimeUnit.SECONDS);
    } catch (ExecutionException | TimeoutException | RuntimeException e) {
      String reason =
          deps.trail()
              .unavailable()
              .orElse(e instanceof TimeoutException ? "timed out" : "write failed");
      throw new ApiError(
          503,
          "the audit trail cannot record this "
              + switch (name) {
                case "audit-tail" -> "tail";
                case "audit-export" -> "export";
                default -> "search";
              }
              + ", so it is refused: "
              + reason);
    }
  }

  // ---- answers ----------------------------------------------------------------------------------

  private void error(Context ctx, int status, ApiError e) {
    ctx.attribute(ANSWERED, Boolean.TRUE);
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("error", e.getMessage());
    e.position.ifPresent(p -> body.put("position", p));
    ctx.status(status).contentType(JSON).result(json.write(body));
  }

  private static String shorten(String text) {
    return text.length() <= 80 ? text : text.substring(0, 77) + "...";
  }

  private static boolean causedBy(Throwable e, Class<? extends Throwable> type) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (type.isInstance(t)) {
        return true;
      }
    }
    return false;
  }

  private static void commonHeaders(Context ctx) {
    ctx.header(ApiVersions.HEADER, Integer.toString(ApiVersions.CURRENT));
    ctx.header("Cache-Control", "no-store");
    ctx.header("X-Content-Type-Options", "nosniff");
    ctx.header("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'");
  }

  /** An answer other than 200, with a message for the client. */
  static final class ApiError extends RuntimeException {
    private static final long serialVersionUID = 1L;

    final int status;
    final transient Optional<Integer> position;

    ApiError(int status, String message) {
      this(status, message, Optional.empty());
    }

    ApiError(int status, String message, Optional<Integer> position) {
      super(message, null, false, false);
      this.status = status;
      this.position = position;
    }
  }
}
