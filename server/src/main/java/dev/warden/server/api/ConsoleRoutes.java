package dev.warden.server.api;

import dev.warden.core.audit.AuditTrail;
import dev.warden.server.audit.AuditJson;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeSet;

/**
 * The web console: its pages and assets, all served by Warden (no external resources), and the
 * sign-in session they work with ({@code /api/session}). The pages are one static document whose
 * script reads the REST API with the session cookie and shows what it reads as text (never as
 * markup): the overview, live and past sessions and a session's statements, the audit trail
 * (searched and followed live, and exported), the approvals inbox and a request's page (where the
 * links of the approval notifications lead), the data map and the policy with its simulator.
 * docs/console.md describes each page.
 *
 * <ul>
 *   <li>{@code POST /api/session} {@code {"user":..., "password":...}}: signs in with a Warden
 *       user's password (the same check and throttle as HTTP Basic); sets the {@code HttpOnly},
 *       {@code SameSite=Lax} session cookie ({@code Secure} when the request came over HTTPS) and
 *       answers the user, groups and the CSRF token.
 *   <li>{@code GET /api/session}: the signed-in user and the CSRF token, or 401.
 *   <li>{@code DELETE /api/session}: signs out.
 * </ul>
 *
 * Every sign-in, successful or not, is recorded in the audit trail as an {@code authenticate} event
 * ({@code via: console}).
 */
final class ConsoleRoutes {
  private static final String JSON = "application/json; charset=utf-8";
  private static final String RESOURCES = "/dev/warden/server/console/";

  /** The pages' policy: the document's own script and style only, and the API of its origin. */
  static final String PAGE_POLICY =
      "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self';"
          + " img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

  /** The console's pages, each a deep link (the script reads the path and its query). */
  static final List<String> PAGES =
      List.of(
          "/login",
          "/overview",
          "/sessions",
          "/sessions/{id}",
          "/audit",
          "/approvals",
          "/approvals/{id}",
          "/datamap",
          "/policy");

  private final ConsoleSessions sessions;
  private final BasicAuthenticator authenticator;
  private final AuditTrail trail;
  private final Clock clock;
  private final AuditJson json;
  private final byte[] page;
  private final byte[] script;
  private final byte[] style;

  ConsoleRoutes(
      ConsoleSessions sessions,
      BasicAuthenticator authenticator,
      AuditTrail trail,
      Clock clock,
      AuditJson json) {
    this.sessions = Objects.requireNonNull(sessions, "sessions");
    this.authenticator = Objects.requireNonNull(authenticator, "authenticator");
    this.trail = Objects.requireNonNull(trail, "trail");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.json = Objects.requireNonNull(json, "json");
    this.page = resource("console.html");
    this.script = resource("console.js");
    this.style = resource("console.css");
  }

  void register(RoutesConfig routes) {
    routes.get("/", this::home);
    for (String path : PAGES) {
      routes.get(path, this::page);
    }
    routes.get("/assets/console.js", ctx -> asset(ctx, script, "text/javascript; charset=utf-8"));
    routes.get("/assets/console.css", ctx -> asset(ctx, style, "text/css; charset=utf-8"));
    routes.post("/api/session", this::signIn);
    routes.get("/api/session", this::current);
    routes.delete("/api/session", this::signOut);
  }

  /**
   * The first page: the overview for those who may read it (auditors and administrators), the
   * approvals inbox for everyone else, the sign-in page (which comes back here) for strangers.
   */
  private void home(Context ctx) {
    Optional<ConsoleSessions.Signed> signed = sessions.find(ctx.cookie(ConsoleSessions.COOKIE));
    if (signed.isEmpty()) {
      ctx.redirect("/login");
    } else if (Roles.of(signed.get().user().groups()).contains(Roles.AUDITOR)) {
      ctx.redirect("/overview");
    } else {
      ctx.redirect("/approvals");
    }
  }

  private void page(Context ctx) {
    ctx.header("Content-Security-Policy", PAGE_POLICY);
    ctx.header("Referrer-Policy", "no-referrer");
    ctx.status(200).contentType("text/html; charset=utf-8").result(page);
  }

  private static void asset(Context ctx, byte[] body, String type) {
    ctx.status(200).contentType(type).result(body);
  }

  private void signIn(Context ctx) throws InterruptedException {
    ApprovalRoutes.refuseCrossSite(ctx);
    Map<String, Object> body = body(ctx);
    Object user = body.get("user");
    Object password = body.get("password");
    if (!(user instanceof String name) || !(password instanceof String pw) || name.isBlank()) {
      throw new ApiServer.ApiError(400, "send {\"user\": NAME, \"password\": PASSWORD}");
    }
    String source = ctx.ip();
    byte[] secret = pw.getBytes(StandardCharsets.UTF_8);
    BasicAuthenticator.Result result;
    try {
      result = authenticator.password(name, secret, source);
    } finally {
      Arrays.fill(secret, (byte) 0);
    }
    switch (result) {
      case BasicAuthenticator.Authenticated a
          when a.identity().method() != dev.warden.core.identity.AuthMethod.SCRAM_SHA_256 -> {
        record(name, source, false, "not a local user");
        throw new ApiServer.ApiError(
            403,
            "the console signs in people with their Warden password; service tokens and tokens"
                + " from the identity provider work with the REST API");
      }
      case BasicAuthenticator.Authenticated a -> {
        ConsoleSessions.Session session = sessions.create(a.identity().name());
        ConsoleSessions.setCookie(ctx, session);
        record(a.identity().name(), source, true, "");
        ok(ctx, answer(a.identity().name(), a.identity().groups(), session.csrf));
      }
      case BasicAuthenticator.Refused r -> {
        record(r.claimed(), source, false, r.reason());
        throw new ApiServer.ApiError(401, "wrong user name or password");
      }
      case BasicAuthenticator.Missing m ->
          throw new ApiServer.ApiError(400, "send {\"user\": NAME, \"password\": PASSWORD}");
    }
  }

  private void current(Context ctx) {
    ConsoleSessions.Signed signed =
        sessions
            .find(ctx.cookie(ConsoleSessions.COOKIE))
            .orElseThrow(() -> new ApiServer.ApiError(401, "not signed in"));
    ok(ctx, answer(signed.user().name(), signed.user().groups(), signed.session().csrf));
  }

  private void signOut(Context ctx) {
    Optional<ConsoleSessions.Signed> signed = sessions.find(ctx.cookie(ConsoleSessions.COOKIE));
    if (signed.isPresent()) {
      if (!signed.get().session().csrfMatches(ctx.header(ConsoleSessions.CSRF_HEADER))) {
        throw new ApiServer.ApiError(403, "the CSRF token is missing or wrong; reload the page");
      }
      sessions.end(signed.get().session().id);
    }
    ctx.removeCookie(ConsoleSessions.COOKIE, "/");
    ok(ctx, Map.of("signed_out", true));
  }

  private static Map<String, Object> answer(
      String user, java.util.Set<String> groups, String csrf) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("user", user);
    out.put("groups", List.copyOf(new TreeSet<>(groups)));
    out.put("roles", Roles.labels(groups));
    out.put("csrf", csrf);
    return out;
  }

  private void record(String user, String source, boolean success, String reason) {
    Map<String, String> details = new LinkedHashMap<>();
    details.put("method", "password");
    details.put("via", "console");
    details.put("user", user);
    details.put("source", source);
    if (!success) {
      details.put("reason", reason);
    }
    ConsoleSessions.recordSignIn(trail, clock, success ? user : "", success, details);
  }

  private Map<String, Object> body(Context ctx) {
    Object parsed;
    try {
      parsed = json.read(ctx.body());
    } catch (IllegalArgumentException e) {
      throw new ApiServer.ApiError(400, "the body is not valid JSON");
    }
    if (!(parsed instanceof Map<?, ?> map)) {
      throw new ApiServer.ApiError(400, "the body must be a JSON object");
    }
    Map<String, Object> body = new LinkedHashMap<>();
    map.forEach((k, v) -> body.put(String.valueOf(k), v));
    return body;
  }

  private void ok(Context ctx, Object body) {
    ctx.status(200).contentType(JSON).result(json.write(body));
  }

  private static byte[] resource(String name) {
    try (InputStream in = ConsoleRoutes.class.getResourceAsStream(RESOURCES + name)) {
      if (in == null) {
        throw new IllegalStateException("the console's " + name + " is missing from the jar");
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
