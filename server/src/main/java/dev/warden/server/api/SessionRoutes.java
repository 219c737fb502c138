package dev.warden.server.api;

import dev.warden.core.audit.AuditEvent;
import dev.warden.core.audit.AuditTrail;
import dev.warden.core.audit.Durability;
import dev.warden.core.identity.Identity;
import dev.warden.core.session.LiveSession;
import dev.warden.core.session.SessionRegistry;
import dev.warden.core.session.SessionSnapshot;
import dev.warden.server.audit.AuditJson;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import java.time.Clock;
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
 * The sessions connected through Warden now, and ending one:
 *
 * <ul>
 *   <li>{@code GET /api/sessions[?environment=NAME]}: {@code {"sessions":[...]}}, oldest first;
 *       auditors and administrators see every session, anyone else only their own (connected as
 *       their identity).
 *   <li>{@code GET /api/sessions/{id}}: one session under the same rule; 404 for a session that is
 *       not connected now or not the caller's to see.
 *   <li>{@code POST /api/sessions/{id}/terminate} with {@code {"reason": "..."}}: administrators
 *       only; the client is told (FATAL, SQLSTATE 57P01) who ended the session and why, and both of
 *       its connections close. Recorded as {@code session-terminate} (the administrator, the
 *       session, its user and environment, the reason) before the session is touched; refused (503)
 *       when the record cannot be made. Attempts by others are recorded as failures.
 * </ul>
 *
 * <p>A session's last statement is shown as the audit trail records it, secrets redacted. POSTs
 * carry the same cross-site checks as the approval endpoints ({@link
 * ApprovalRoutes#refuseCrossSite}).
 */
public final class SessionRoutes implements RouteGroup {
  private static final Logger LOG = LoggerFactory.getLogger(SessionRoutes.class);

  /**
   * How long a termination waits for the session to end: longer than a protocol engine takes at
   * worst (a session whose client stopped reading is closed after some seconds).
   */
  static final long END_WAIT_SECONDS = 30;

  /** The longest reason an administrator may give (the client receives it). */
  static final int MAX_REASON = 500;

  private static final String JSON = "application/json; charset=utf-8";
  private static final String ACTION = "session-terminate";

  private final SessionRegistry sessions;
  private final AuditTrail trail;
  private final Clock clock;
  private final AuditJson json = new AuditJson();
  private RequestAuthenticator authenticator;

  private SessionRoutes(SessionRegistry sessions, AuditTrail trail, Clock clock) {
    this.sessions = Objects.requireNonNull(sessions, "sessions");
    this.trail = Objects.requireNonNull(trail, "trail");
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  /**
   * The live-session endpoints for the sessions in {@code sessions}; terminations are recorded in
   * {@code trail}.
   */
  public static SessionRoutes of(SessionRegistry sessions, AuditTrail trail, Clock clock) {
    return new SessionRoutes(sessions, trail, clock);
  }

  @Override
  public void register(RoutesConfig routes, RequestAuthenticator authenticator) {
    this.authenticator = Objects.requireNonNull(authenticator, "authenticator");
    routes.get("/api/sessions", this::list);
    routes.get("/api/sessions/{id}", this::show);
    routes.post("/api/sessions/{id}/terminate", this::terminate);
  }

  private void list(Context ctx) throws InterruptedException {
    Identity user = authenticator.authenticate(ctx);
    String environment = ctx.queryParam("environment");
    boolean all = seesAll(user);
    List<Object> out = new ArrayList<>();
    for (SessionSnapshot s : sessions.snapshots()) {
      if ((environment == null || environment.isEmpty() || s.environment().equals(environment))
          && (all || s.user().equals(user.name()))) {
        out.add(json(s));
      }
    }
    ctx.status(200).contentType(JSON).result(json.write(Map.of("sessions", out)));
  }

  private void show(Context ctx) throws InterruptedException {
    Identity user = authenticator.authenticate(ctx);
    String id = ctx.pathParam("id");
    SessionSnapshot s =
        sessions
            .snapshot(id)
            .filter(found -> seesAll(user) || found.user().equals(user.name()))
            .orElseThrow(() -> noSession(id));
    ctx.status(200).contentType(JSON).result(json.write(json(s)));
  }

  private void terminate(Context ctx) throws InterruptedException {
    ApprovalRoutes.refuseCrossSite(ctx);
    Identity user = authenticator.authenticate(ctx);
    String id = ctx.pathParam("id");
    if (!Roles.has(user, Roles.ADMINISTRATOR)) {
      Map<String, String> details = new LinkedHashMap<>();
      details.put("session", ApiRequests.shorten(id));
      details.put("reason", "not an administrator");
      details.put("via", "api");
      details.put("source", ctx.ip());
      // Not waited for: a refused attempt must not be able to make Warden wait for a disk.
      trail
          .append(
              new AuditEvent(
                  clock.instant(), ACTION, false, user.name(), Optional.empty(), details),
              Durability.BOUNDED)
          .exceptionally(
              failure -> {
                LOG.warn("REST API: a refused {} could not be recorded: {}", ACTION, failure);
                return null;
              });
      throw new ApiServer.ApiError(
          403,
          "user "
              + user.name()
              + " may not end sessions: that needs the group "
              + Roles.ADMINISTRATOR.group());
    }
    String reason = reason(ApiRequests.body(ctx, json, Set.of("reason"), "reason"));
    LiveSession session = sessions.find(id).orElseThrow(() -> noSession(id));
    Map<String, String> details = new LinkedHashMap<>();
    details.put("session", session.context().id());
    details.put("session_user", session.context().identity().name());
    details.put("environment", session.context().environment().name());
    details.put("database", session.context().database());
    details.put("reason", reason);
    details.put("via", "api");
    details.put("source", ctx.ip());
    recordBefore(user, details);
    LOG.info(
        "REST API: {} ends session {} of {}: {}",
        user.name(),
        session.context().id(),
        session.context().identity().name(),
        reason);
    // Answered once the session has ended, so that the caller (and the console) sees it gone.
    try {
      session.terminate(user.name(), reason).get(END_WAIT_SECONDS, TimeUnit.SECONDS);
    } catch (TimeoutException e) {
      throw new ApiServer.ApiError(
          504,
          "session "
              + session.context().id()
              + " is being ended but had not ended after "
              + END_WAIT_SECONDS
              + " seconds");
    } catch (ExecutionException e) {
      throw new IllegalStateException("ending session " + session.context().id(), e);
    }
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("terminated", true);
    body.put("id", session.context().id());
    ctx.status(200).contentType(JSON).result(json.write(body));
  }

  /** The reason given: required, one line of at most {@link #MAX_REASON} characters. */
  private static String reason(Map<String, Object> body) {
    Object value = body.get("reason");
    if (value == null) {
      throw new ApiServer.ApiError(
          400, "a reason is required: {\"reason\": \"...\"} (the client is told it)");
    }
    if (!(value instanceof String text)) {
      throw new ApiServer.ApiError(400, "reason must be a string");
    }
    String reason = text.strip();
    if (reason.isEmpty()) {
      throw new ApiServer.ApiError(400, "a reason is required and may not be blank");
    }
    if (reason.length() > MAX_REASON) {
      throw new ApiServer.ApiError(400, "the reason is longer than " + MAX_REASON + " characters");
    }
    for (int i = 0; i < reason.length(); i++) {
      char c = reason.charAt(i);
      if (Character.isISOControl(c) || AuditJson.unsafe(c)) {
        throw new ApiServer.ApiError(
            400,
            "the reason may not hold control or formatting characters (line breaks, tabs, NUL,"
                + " direction overrides)");
      }
    }
    return reason;
  }

  /**
   * Records the termination before it happens and waits until the record is durable: a session is
   * not ended on the API's word unless that is on record.
   */
  private void recordBefore(Identity user, Map<String, String> details)
      throws InterruptedException {
    AuditEvent event =
        new AuditEvent(clock.instant(), ACTION, true, user.name(), Optional.empty(), details);
    try {
      trail
          .append(event, Durability.IMMEDIATE)
          .get(ApiRequests.RECORD_TIMEOUT_SECONDS, TimeUnit.SECONDS);
    } catch (ExecutionException | TimeoutException | RuntimeException e) {
      String why =
          trail.unavailable().orElse(e instanceof TimeoutException ? "timed out" : "write failed");
      throw new ApiServer.ApiError(
          503, "the audit trail cannot record the end of this session, so it is refused: " + why);
    }
  }

  private boolean seesAll(Identity user) {
    return Roles.has(user, Roles.AUDITOR);
  }

  private static ApiServer.ApiError noSession(String id) {
    return new ApiServer.ApiError(404, "no live session " + ApiRequests.shorten(id));
  }

  /** A session as the API shows it. */
  static Map<String, Object> json(SessionSnapshot s) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", s.id());
    m.put("user", s.user());
    m.put("groups", s.groups());
    m.put("auth_method", s.authMethod());
    s.onBehalfOf().ifPresent(p -> m.put("on_behalf_of", p));
    m.put("environment", s.environment());
    m.put("database", s.database());
    m.put("source", s.source());
    m.put("application", s.application());
    m.put("role", s.role());
    m.put("started", s.started().toString());
    m.put("state", s.state().label());
    m.put("statements", s.statements());
    s.lastStatement().ifPresent(t -> m.put("last_statement", t));
    s.lastStatementAt().ifPresent(t -> m.put("last_statement_at", t.toString()));
    return m;
  }
}
