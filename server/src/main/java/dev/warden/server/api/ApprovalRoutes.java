package dev.warden.server.api;

import dev.warden.core.approval.ApprovalException;
import dev.warden.core.approval.ApprovalRequest;
import dev.warden.core.approval.ApprovalStore;
import dev.warden.core.approval.Approvals;
import dev.warden.core.audit.AuditEvent;
import dev.warden.core.audit.AuditTrail;
import dev.warden.core.audit.Durability;
import dev.warden.core.identity.Identity;
import dev.warden.server.approval.ApprovalJson;
import dev.warden.server.audit.AuditJson;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The approval endpoints of the REST API, for reviewers and requesters (issue 7):
 *
 * <ul>
 *   <li>{@code GET /api/approvals?status=pending,approved&env=&requester=&limit=&break_glass=}:
 *       {@code {"requests":[...]}}, newest first; with {@code break_glass=true} only those a
 *       reviewer approved as break-glass, for review after the fact (each request says so in its
 *       {@code break_glass} field). Members of {@code approvers} or {@code admins} see every
 *       request; anyone else sees the requests they made and those they could review (they are in
 *       one of its approver groups).
 *   <li>{@code GET /api/approvals/{id}}: one request, under the same rule.
 *   <li>{@code POST /api/approvals/{id}/approve} and {@code /deny} with {@code {"comment": "...",
 *       "break_glass": false}}: the reviewer is the authenticated user; the answer is the request
 *       as it now stands.
 *   <li>{@code POST /api/approvals/{id}/cancel}: by the requester only.
 * </ul>
 *
 * <p>Refusals from {@link Approvals} keep their meaning: 403 when the user may not (self-approval,
 * not an approver, not the requester, break-glass not allowed, or an ordinary approval of a
 * statement only break-glass can let through), 404 for an unknown id, 409 when the request is no
 * longer pending (decided, used, cancelled, expired, already reviewed by this user, or changed by
 * others at the same moment), 400 for bad input (break-glass without a justification, a comment too
 * long, unknown fields), always with {@code {"error": "..."}}.
 *
 * <p>Cross-site requests: the API uses HTTP Basic, which a browser may attach by itself to a
 * request another site makes it send. Every POST must therefore say {@code Content-Type:
 * application/json} (which a cross-site form cannot send, and a cross-site script cannot send
 * without a CORS preflight this API never grants) and must not carry an {@code Origin} other than
 * the API's own host, nor {@code Sec-Fetch-Site: cross-site}; otherwise it is refused (415 or 403)
 * before authentication.
 *
 * <p>Every review and cancellation is recorded in the audit trail ({@code approval-approve}, {@code
 * approval-deny}, {@code approval-cancel}) with the request, the resulting status and the comment;
 * refusals for want of permission are recorded as failures. A change is refused (503) while the
 * trail refuses records.
 */
final class ApprovalRoutes {
  private static final Logger LOG = LoggerFactory.getLogger(ApprovalRoutes.class);

  /** Groups whose members see every request (whether they may approve one is the rule's call). */
  static final Set<String> REVIEWERS = Set.of("approvers", "admins");

  /** Requests per list when the client names no limit. */
  static final int DEFAULT_LIMIT = 50;

  /** The most requests a list returns. */
  static final int MAX_LIMIT = 1000;

  private static final String JSON = "application/json; charset=utf-8";
  private static final Set<String> REVIEW_FIELDS = Set.of("comment", "break_glass");

  private final Approvals approvals;
  private final AuditTrail trail;
  private final Clock clock;
  private final AuditJson json;
  private final RequestAuthenticator authenticator;

  ApprovalRoutes(
      Approvals approvals,
      AuditTrail trail,
      Clock clock,
      AuditJson json,
      RequestAuthenticator authenticator) {
    this.approvals = Objects.requireNonNull(approvals, "approvals");
    this.trail = Objects.requireNonNull(trail, "trail");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.json = Objects.requireNonNull(json, "json");
    this.authenticator = Objects.requireNonNull(authenticator, "authenticator");
  }

  void register(RoutesConfig routes) {
    routes.get("/api/approvals", this::list);
    routes.get("/api/approvals/{id}", this::show);
    routes.post("/api/approvals/{id}/approve", ctx -> review(ctx, true));
    routes.post("/api/approvals/{id}/deny", ctx -> review(ctx, false));
    routes.post("/api/approvals/{id}/cancel", this::cancel);
  }

  // ---- reading ----------------------------------------------------------------------------------

  private void list(Context ctx) throws InterruptedException {
    Identity user = authenticator.authenticate(ctx);
    List<ApprovalRequest.Status> statuses = statuses(ctx.queryParam("status"));
    Optional<String> env = text(ctx.queryParam("env"), "env");
    Optional<String> requester = text(ctx.queryParam("requester"), "requester");
    int limit = limit(ctx.queryParam("limit"));
    boolean breakGlass = breakGlassParameter(ctx.queryParam("break_glass"));
    expireDue();
    boolean reviewer = isReviewer(user);
    // Someone who sees only some requests, or asks only for break-glass ones, is given the newest
    // that match: the store is asked for more and the rest are filtered out here.
    ApprovalStore.Filter filter =
        new ApprovalStore.Filter(
            statuses,
            requester,
            env,
            Optional.empty(),
            reviewer && !breakGlass ? limit : MAX_LIMIT);
    List<Object> shown = new ArrayList<>();
    for (ApprovalRequest r : approvals.list(filter)) {
      if (shown.size() == limit) {
        break;
      }
      if (breakGlass && !ApprovalJson.breakGlass(r)) {
        continue;
      }
      if (reviewer || mayView(user, r)) {
        shown.add(ApprovalJson.request(r));
      }
    }
    ok(ctx, Map.of("requests", shown));
  }

  private void show(Context ctx) throws InterruptedException {
    Identity user = authenticator.authenticate(ctx);
    String id = ctx.pathParam("id");
    expireDue();
    ApprovalRequest r = approvals.find(id).orElseThrow(() -> notFound(id));
    if (!isReviewer(user) && !mayView(user, r)) {
      throw new ApiServer.ApiError(
          403,
          "user "
              + user.name()
              + " may not see "
              + r.id()
              + ": only its requester, members of approvers or admins, and its approver groups ("
              + String.join(", ", new TreeSet<>(r.requirement().approverGroups()))
              + ") may");
    }
    ok(ctx, ApprovalJson.request(r));
  }

  // ---- changing ---------------------------------------------------------------------------------

  private void review(Context ctx, boolean approve) throws InterruptedException {
    refuseCrossSite(ctx);
    Identity user = authenticator.authenticate(ctx);
    String id = ctx.pathParam("id");
    Map<String, Object> body =
        ApiRequests.body(ctx, json, REVIEW_FIELDS, "comment and break_glass");
    String comment = string(body, "comment");
    boolean breakGlass = bool(body, "break_glass");
    String action = approve ? "approval-approve" : "approval-deny";
    requireTrail(action);
    ApprovalRequest after;
    try {
      after = approvals.review(id, user, approve, comment, breakGlass);
    } catch (ApprovalException e) {
      throw refused(ctx, action, user, id, e);
    } catch (IllegalArgumentException e) {
      throw new ApiServer.ApiError(400, e.getMessage());
    }
    Map<String, String> facts = facts(after);
    facts.put("comment", comment.strip());
    facts.put("break_glass", Boolean.toString(breakGlass));
    ApiRequests.recordDone(trail, clock, action, user, ctx, facts, true);
    ok(ctx, ApprovalJson.request(after));
  }

  private void cancel(Context ctx) throws InterruptedException {
    refuseCrossSite(ctx);
    Identity user = authenticator.authenticate(ctx);
    String id = ctx.pathParam("id");
    Map<String, Object> body =
        ApiRequests.body(ctx, json, REVIEW_FIELDS, "comment and break_glass");
    if (!body.isEmpty()) {
      throw new ApiServer.ApiError(400, "cancel takes no fields; send {} or nothing");
    }
    requireTrail("approval-cancel");
    ApprovalRequest after;
    try {
      after = approvals.cancel(id, user);
    } catch (ApprovalException e) {
      throw refused(ctx, "approval-cancel", user, id, e);
    }
    ApiRequests.recordDone(trail, clock, "approval-cancel", user, ctx, facts(after), true);
    ok(ctx, ApprovalJson.request(after));
  }

  /** The service's refusal as an API answer; refusals of permission are recorded. */
  private ApiServer.ApiError refused(
      Context ctx, String action, Identity user, String id, ApprovalException e) {
    int status =
        switch (e.reason()) {
          case NOT_FOUND -> 404;
          case NOT_PENDING, EXPIRED, ALREADY_REVIEWED, CONFLICT -> 409;
          case SELF_REVIEW,
              NOT_AN_APPROVER,
              NOT_REQUESTER,
              BREAK_GLASS_NOT_ALLOWED,
              BREAK_GLASS_REQUIRED ->
              403;
          case JUSTIFICATION_REQUIRED, REASON_REQUIRED -> 400;
        };
    if (status == 403) {
      Map<String, String> details = new LinkedHashMap<>();
      details.put("request", ApiRequests.shorten(id));
      details.put("reason", e.reason().name().toLowerCase(Locale.ROOT).replace('_', '-'));
      details.put("via", "api");
      details.put("source", ctx.ip());
      // Not waited for: a refused attempt must not be able to make Warden wait for a disk.
      trail
          .append(
              new AuditEvent(
                  clock.instant(), action, false, user.name(), Optional.empty(), details),
              Durability.BOUNDED)
          .exceptionally(
              failure -> {
                LOG.warn(
                    "REST API: a refused {} could not be recorded: {}", action, failure.toString());
                return null;
              });
    }
    return new ApiServer.ApiError(status, e.getMessage());
  }

  /**
   * Refuses what a browser may have been made to send by another site (see the class comment).
   * Same-site means the {@code Origin}'s host and port are the {@code Host} the request was sent
   * to.
   */
  static void refuseCrossSite(Context ctx) {
    String type = ctx.header("Content-Type");
    if (type == null
        || !type.strip().toLowerCase(Locale.ROOT).matches("application/json\\s*(;.*)?")) {
      throw new ApiServer.ApiError(
          415,
          "send the request with Content-Type: application/json (cross-site forms are refused)");
    }
    if ("cross-site".equalsIgnoreCase(ctx.header("Sec-Fetch-Site"))) {
      throw new ApiServer.ApiError(403, "cross-site requests are refused");
    }
    String origin = ctx.header("Origin");
    if (origin != null && !sameOrigin(origin, ctx.header("Host"))) {
      throw new ApiServer.ApiError(
          403, "requests from another origin are refused: " + ApiRequests.shorten(origin));
    }
  }

  private static boolean sameOrigin(String origin, String host) {
    if (host == null) {
      return false;
    }
    try {
      URI uri = new URI(origin.strip());
      String authority = uri.getRawAuthority();
      return uri.getScheme() != null
          && authority != null
          && uri.getRawPath() != null
          && (uri.getRawPath().isEmpty() || uri.getRawPath().equals("/"))
          && authority.equalsIgnoreCase(host.strip());
    } catch (URISyntaxException e) {
      return false;
    }
  }

  // ---- helpers ----------------------------------------------------------------------------------

  private static boolean isReviewer(Identity user) {
    return !Collections.disjoint(user.groups(), REVIEWERS);
  }

  /** Its requester, and anyone in one of its approver groups, may see a request. */
  private static boolean mayView(Identity user, ApprovalRequest r) {
    return r.requester().equals(user.name())
        || !Collections.disjoint(user.groups(), r.requirement().approverGroups());
  }

  /** A local user authenticated by password, as the approval rules see it. */
  private void expireDue() {
    try {
      approvals.expireDue();
    } catch (RuntimeException e) {
      // Expiry is also applied whenever a request is touched; a list still answers.
      LOG.warn("REST API: marking expired approval requests failed: {}", e.toString());
    }
  }

  private static Map<String, String> facts(ApprovalRequest r) {
    Map<String, String> facts = new LinkedHashMap<>();
    facts.put("request", r.id());
    facts.put("requester", r.requester());
    facts.put("env", r.environment());
    facts.put("rule", r.rule());
    facts.put("status", ApprovalJson.status(r.status()));
    return facts;
  }

  private void requireTrail(String action) {
    Optional<String> unavailable = trail.unavailable();
    if (unavailable.isPresent()) {
      throw new ApiServer.ApiError(
          503,
          "the audit trail cannot record this "
              + action.substring("approval-".length())
              + ", so it is refused: "
              + unavailable.get());
    }
  }

  private static String string(Map<String, Object> body, String key) {
    Object value = body.get(key);
    if (value == null) {
      return "";
    }
    if (!(value instanceof String s)) {
      throw new ApiServer.ApiError(400, key + " must be a string");
    }
    return s;
  }

  private static boolean bool(Map<String, Object> body, String key) {
    Object value = body.get(key);
    if (value == null) {
      return false;
    }
    if (!(value instanceof Boolean b)) {
      throw new ApiServer.ApiError(400, key + " must be true or false");
    }
    return b;
  }

  private static List<ApprovalRequest.Status> statuses(String text) {
    if (text == null || text.isBlank() || text.strip().equals("all")) {
      return List.of();
    }
    List<ApprovalRequest.Status> out = new ArrayList<>();
    for (String part : text.split(",")) {
      String name = part.strip().toUpperCase(Locale.ROOT);
      try {
        out.add(ApprovalRequest.Status.valueOf(name));
      } catch (IllegalArgumentException e) {
        throw new ApiServer.ApiError(
            400,
            "status must be all or one or more of pending, approved, denied, expired, used,"
                + " cancelled (comma-separated), not '"
                + ApiRequests.shorten(part.strip())
                + "'");
      }
    }
    return List.copyOf(out);
  }

  /** {@code break_glass=true}: only requests a reviewer approved as break-glass. */
  private static boolean breakGlassParameter(String value) {
    if (value == null || value.isEmpty() || value.equals("false")) {
      return false;
    }
    if (value.equals("true")) {
      return true;
    }
    throw new ApiServer.ApiError(
        400, "break_glass must be true or false, not '" + ApiRequests.shorten(value) + "'");
  }

  private static Optional<String> text(String value, String name) {
    if (value == null || value.isEmpty()) {
      return Optional.empty();
    }
    if (value.length() > 256) {
      throw new ApiServer.ApiError(400, name + " is longer than 256 characters");
    }
    return Optional.of(value);
  }

  private static int limit(String text) {
    if (text == null || text.isEmpty()) {
      return DEFAULT_LIMIT;
    }
    int limit;
    try {
      limit = Integer.parseInt(text);
    } catch (NumberFormatException e) {
      limit = -1;
    }
    if (limit < 1 || limit > MAX_LIMIT) {
      throw new ApiServer.ApiError(
          400,
          "limit must be a whole number from 1 to "
              + MAX_LIMIT
              + ", not '"
              + ApiRequests.shorten(text)
              + "'");
    }
    return limit;
  }

  private static ApiServer.ApiError notFound(String id) {
    return new ApiServer.ApiError(404, "no approval request has the id " + ApiRequests.shorten(id));
  }

  private void ok(Context ctx, Object body) {
    ctx.status(200).contentType(JSON).result(json.write(body));
  }
}
