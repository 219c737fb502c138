package dev.warden.server.api;

import dev.warden.core.approval.AccessRequestException;
import dev.warden.core.approval.ApprovalException;
import dev.warden.core.approval.ApprovalRequest;
import dev.warden.core.approval.ApprovalStore;
import dev.warden.core.approval.Approvals;
import dev.warden.core.audit.AuditEvent;
import dev.warden.core.audit.AuditTrail;
import dev.warden.core.audit.Durability;
import dev.warden.core.environment.Environment;
import dev.warden.core.environment.JustInTime;
import dev.warden.core.identity.Identity;
import dev.warden.server.approval.ApprovalJson;
import dev.warden.server.audit.AuditJson;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The access-window endpoints of the REST API (issue 7, just-in-time access), for requesters; the
 * requests are approved or denied through {@code /api/approvals} like any other:
 *
 * <ul>
 *   <li>{@code POST /api/access} with {@code {"env": "production", "role": "writer", "for": "1h",
 *       "reason": "INC-42: ..."}}: asks for an access window as the authenticated user; the answer
 *       is the request (pending). 404 for an unknown environment or role, 403 when policy does not
 *       admit the user to the environment or the role's {@code requestable-by} does not name them,
 *       400 for a role not reachable just in time, a duration beyond its {@code max-duration}, no
 *       reason or a bad body.
 *   <li>{@code GET /api/access?status=&limit=}: {@code {"requests":[...]}}, the user's own access
 *       requests, newest first, each with {@code window} ({@code pending}, {@code open}, {@code
 *       ended} or {@code none}) and, while open, {@code remaining_seconds}.
 *   <li>{@code POST /api/access/{id}/cancel}: withdraws a pending request, or ends an open window
 *       now; by its requester only.
 * </ul>
 *
 * <p>POSTs are refused across sites as the approval endpoints refuse them; every request and
 * cancellation is recorded in the audit trail ({@code access-request}, {@code access-cancel}, with
 * {@code via: api}), refusals for want of permission as failures, and a change is refused (503)
 * while the trail refuses records.
 */
final class AccessRoutes {
  private static final Logger LOG = LoggerFactory.getLogger(AccessRoutes.class);
  private static final String JSON = "application/json; charset=utf-8";
  private static final Set<String> REQUEST_FIELDS = Set.of("env", "role", "for", "reason");
  private static final int DEFAULT_LIMIT = 50;

  private final Approvals approvals;
  private final ApiDependencies.Access access;
  private final AuditTrail trail;
  private final Clock clock;
  private final AuditJson json;
  private final RequestAuthenticator authenticator;

  AccessRoutes(
      Approvals approvals,
      ApiDependencies.Access access,
      AuditTrail trail,
      Clock clock,
      AuditJson json,
      RequestAuthenticator authenticator) {
    this.approvals = Objects.requireNonNull(approvals, "approvals");
    this.access = Objects.requireNonNull(access, "access");
    this.trail = Objects.requireNonNull(trail, "trail");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.json = Objects.requireNonNull(json, "json");
    this.authenticator = Objects.requireNonNull(authenticator, "authenticator");
  }

  void register(RoutesConfig routes) {
    routes.post("/api/access", this::request);
    routes.get("/api/access", this::list);
    routes.post("/api/access/{id}/cancel", this::cancel);
  }

  private void request(Context ctx) throws InterruptedException {
    ApprovalRoutes.refuseCrossSite(ctx);
    Identity user = authenticator.authenticate(ctx);
    Map<String, Object> body =
        ApiRequests.body(ctx, json, REQUEST_FIELDS, "env, role, for and reason");
    String env = required(body, "env");
    String role = required(body, "role");
    String length = required(body, "for");
    Optional<String> reason = Optional.ofNullable(string(body, "reason"));
    Duration duration;
    try {
      duration = JustInTime.parseDuration(length);
    } catch (IllegalArgumentException e) {
      throw new ApiServer.ApiError(400, "for: " + e.getMessage());
    }
    requireTrail("access-request");
    Identity identity = user;
    Optional<Environment> environment =
        access.environments().all().stream().filter(e -> e.name().equals(env)).findFirst();
    if (environment.isPresent()
        && !access.admission().admits(identity, environment.get(), ctx.ip())) {
      recordRefusal(ctx, user, env, role, "not-admitted");
      throw new ApiServer.ApiError(
          403, user.name() + " may not use environment " + env + ", so may not ask for its roles");
    }
    ApprovalRequest made;
    try {
      made =
          approvals.requestAccess(
              access.environments(),
              new Approvals.AccessDraft(identity, env, role, duration, reason));
    } catch (AccessRequestException e) {
      int status =
          switch (e.reason()) {
            case UNKNOWN_ENVIRONMENT, UNKNOWN_ROLE -> 404;
            case NOT_REQUESTABLE -> 403;
            case NOT_JUST_IN_TIME, BAD_DURATION, REASON_REQUIRED -> 400;
          };
      if (status == 403) {
        recordRefusal(ctx, user, env, role, "not-requestable");
      }
      throw new ApiServer.ApiError(status, e.getMessage());
    } catch (IllegalArgumentException e) {
      throw new ApiServer.ApiError(400, e.getMessage());
    }
    Map<String, String> facts = facts(made);
    ApiRequests.recordDone(trail, clock, "access-request", user, ctx, facts, true);
    ok(ctx, shown(made, clock.instant()));
  }

  private void list(Context ctx) throws InterruptedException {
    Identity user = authenticator.authenticate(ctx);
    String status = ctx.queryParam("status");
    List<ApprovalRequest.Status> statuses = new ArrayList<>();
    if (status != null && !status.isBlank() && !status.strip().equals("all")) {
      for (String part : status.split(",")) {
        try {
          statuses.add(ApprovalRequest.Status.valueOf(part.strip().toUpperCase(Locale.ROOT)));
        } catch (IllegalArgumentException e) {
          throw new ApiServer.ApiError(
              400,
              "status must be all or one or more of pending, approved, denied, expired, used,"
                  + " cancelled (comma-separated)");
        }
      }
    }
    int limit = DEFAULT_LIMIT;
    String limitText = ctx.queryParam("limit");
    if (limitText != null && !limitText.isEmpty()) {
      try {
        limit = Integer.parseInt(limitText);
      } catch (NumberFormatException e) {
        limit = -1;
      }
      if (limit < 1 || limit > ApprovalRoutes.MAX_LIMIT) {
        throw new ApiServer.ApiError(
            400, "limit must be a whole number from 1 to " + ApprovalRoutes.MAX_LIMIT);
      }
    }
    expireDue();
    Instant now = clock.instant();
    List<Object> shown = new ArrayList<>();
    for (ApprovalRequest r :
        approvals.list(
            new ApprovalStore.Filter(
                statuses,
                Optional.of(user.name()),
                Optional.empty(),
                Optional.empty(),
                limit,
                Optional.of(ApprovalRequest.Kind.ACCESS)))) {
      shown.add(shown(r, now));
    }
    ok(ctx, Map.of("requests", shown));
  }

  private void cancel(Context ctx) throws InterruptedException {
    ApprovalRoutes.refuseCrossSite(ctx);
    Identity user = authenticator.authenticate(ctx);
    String id = ctx.pathParam("id");
    if (!ApiRequests.body(ctx, json, REQUEST_FIELDS, "env, role, for and reason").isEmpty()) {
      throw new ApiServer.ApiError(400, "cancel takes no fields; send {} or nothing");
    }
    requireTrail("access-cancel");
    ApprovalRequest r =
        approvals
            .find(id)
            .filter(found -> found.kind() == ApprovalRequest.Kind.ACCESS)
            .orElseThrow(
                () ->
                    new ApiServer.ApiError(
                        404, "no access request has the id " + ApiRequests.shorten(id)));
    ApprovalRequest after;
    try {
      after = approvals.cancel(r.id(), user);
    } catch (ApprovalException e) {
      int status =
          switch (e.reason()) {
            case NOT_FOUND -> 404;
            case NOT_REQUESTER -> 403;
            default -> 409;
          };
      throw new ApiServer.ApiError(status, e.getMessage());
    }
    ApiRequests.recordDone(trail, clock, "access-cancel", user, ctx, facts(after), true);
    ok(ctx, shown(after, clock.instant()));
  }

  /** The request as the approval endpoints show it, with where its window stands at {@code now}. */
  static Map<String, Object> shown(ApprovalRequest r, Instant now) {
    Map<String, Object> out = new LinkedHashMap<>(ApprovalJson.request(r));
    ApprovalRequest.Access a = r.access().orElseThrow();
    String window;
    if (a.start().isEmpty()) {
      window = r.status() == ApprovalRequest.Status.PENDING ? "pending" : "none";
    } else if (r.status() == ApprovalRequest.Status.APPROVED && a.openAt(now)) {
      window = "open";
      out.put("remaining_seconds", Duration.between(now, a.end().orElseThrow()).toSeconds());
    } else {
      window = "ended";
    }
    out.put("window", window);
    return out;
  }

  private static Map<String, String> facts(ApprovalRequest r) {
    Map<String, String> facts = new LinkedHashMap<>();
    facts.put("request", r.id());
    facts.put("requester", r.requester());
    facts.put("env", r.environment());
    r.access().ifPresent(a -> facts.put("role", a.role()));
    r.access().ifPresent(a -> facts.put("duration", JustInTime.format(a.duration())));
    facts.put("status", ApprovalJson.status(r.status()));
    return facts;
  }

  private void expireDue() {
    try {
      approvals.expireDue();
    } catch (RuntimeException e) {
      LOG.warn("REST API: marking expired approval requests failed: {}", e.toString());
    }
  }

  private void requireTrail(String action) {
    Optional<String> unavailable = trail.unavailable();
    if (unavailable.isPresent()) {
      throw new ApiServer.ApiError(
          503,
          "the audit trail cannot record this "
              + action.substring("access-".length())
              + ", so it is refused: "
              + unavailable.get());
    }
  }

  private void recordRefusal(Context ctx, Identity user, String env, String role, String why) {
    Map<String, String> details = new LinkedHashMap<>();
    details.put("env", ApiRequests.shorten(env));
    details.put("role", ApiRequests.shorten(role));
    details.put("reason", why);
    details.put("via", "api");
    details.put("source", ctx.ip());
    trail
        .append(
            new AuditEvent(
                clock.instant(), "access-request", false, user.name(), Optional.empty(), details),
            Durability.BOUNDED)
        .exceptionally(
            failure -> {
              LOG.warn("REST API: a refused access request could not be recorded: {}", failure);
              return null;
            });
  }

  private static String string(Map<String, Object> body, String key) {
    Object value = body.get(key);
    if (value == null) {
      return null;
    }
    if (!(value instanceof String s)) {
      throw new ApiServer.ApiError(400, key + " must be a string");
    }
    return s;
  }

  private static String required(Map<String, Object> body, String key) {
    String value = string(body, key);
    if (value == null || value.isBlank()) {
      throw new ApiServer.ApiError(
          400, "missing " + key + " (the fields are env, role, for and reason)");
    }
    if (value.length() > 256) {
      throw new ApiServer.ApiError(400, key + " is longer than 256 characters");
    }
    return value.strip();
  }

  private void ok(Context ctx, Object body) {
    ctx.status(200).contentType(JSON).result(json.write(body));
  }
}
