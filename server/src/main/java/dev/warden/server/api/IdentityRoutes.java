package dev.warden.server.api;

import dev.warden.core.audit.AuditTrail;
import dev.warden.core.identity.Identity;
import dev.warden.core.identity.LocalUser;
import dev.warden.core.identity.ScramCredential;
import dev.warden.core.identity.ScramCredentials;
import dev.warden.core.identity.Secret;
import dev.warden.core.identity.ServiceToken;
import dev.warden.core.identity.ServiceTokenStore;
import dev.warden.core.identity.ServiceTokens;
import dev.warden.core.identity.UserDirectory;
import dev.warden.core.identity.UserNames;
import dev.warden.server.audit.AuditJson;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The identities Warden knows, and service tokens for automation:
 *
 * <ul>
 *   <li>{@code GET /api/identities}: local users (name, groups, created) and service tokens (name,
 *       groups, status, expiry, last use, on whose behalf, description; never a secret or
 *       verifier), for auditors and administrators;
 *   <li>{@code POST /api/tokens {"name", "groups", "expires_in"?, "description"?,
 *       "on_behalf_of"?}}: a new token, whose secret is in this one answer only; administrators;
 *   <li>{@code POST /api/tokens/{name}/revoke}: the token stops working at its next login;
 *       administrators.
 * </ul>
 *
 * Changes are recorded in the audit trail ({@code token-create}, {@code token-revoke}).
 */
public final class IdentityRoutes implements RouteGroup {
  private static final String JSON = "application/json; charset=utf-8";
  private static final Set<String> CREATE_FIELDS =
      Set.of("name", "groups", "expires_in", "description", "on_behalf_of");
  private static final Pattern LIFETIME = Pattern.compile("([0-9]{1,5})([hd])");

  /** The longest lifetime a token created through the API may have. */
  static final Duration MAX_LIFETIME = Duration.ofDays(3650);

  private final UserDirectory users;
  private final ServiceTokenStore tokens;
  private final AuditTrail trail;
  private final Clock clock;
  private final AuditJson json;
  private final SecureRandom random;
  private RequestAuthenticator authenticator;

  IdentityRoutes(
      UserDirectory users,
      ServiceTokenStore tokens,
      AuditTrail trail,
      Clock clock,
      AuditJson json,
      SecureRandom random) {
    this.users = Objects.requireNonNull(users, "users");
    this.tokens = Objects.requireNonNull(tokens, "tokens");
    this.trail = Objects.requireNonNull(trail, "trail");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.json = Objects.requireNonNull(json, "json");
    this.random = Objects.requireNonNull(random, "random");
  }

  /** The identities endpoints of a server's stores. */
  public static RouteGroup of(
      UserDirectory users,
      ServiceTokenStore tokens,
      AuditTrail trail,
      Clock clock,
      SecureRandom random) {
    return new IdentityRoutes(users, tokens, trail, clock, new AuditJson(), random);
  }

  @Override
  public void register(RoutesConfig routes, RequestAuthenticator authenticator) {
    this.authenticator = authenticator;
    routes.get("/api/identities", this::list);
    routes.post("/api/tokens", this::create);
    routes.post("/api/tokens/{name}/revoke", this::revoke);
  }

  private void list(Context ctx) throws InterruptedException {
    Identity user = authenticator.authenticate(ctx);
    Roles.require(user, "list identities", Roles.AUDITOR, Roles.ADMINISTRATOR);
    Instant now = clock.instant();
    List<Object> people = new ArrayList<>();
    for (LocalUser u : users.list()) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("name", u.name());
      m.put("groups", List.copyOf(new TreeSet<>(u.groups())));
      m.put("created", u.created().toString());
      people.add(m);
    }
    List<Object> machines = new ArrayList<>();
    for (ServiceToken t : tokens.list()) {
      machines.add(token(t, now));
    }
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("users", people);
    body.put("tokens", machines);
    ctx.status(200).contentType(JSON).result(json.write(body));
  }

  static Map<String, Object> token(ServiceToken t, Instant now) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("name", t.name());
    m.put("groups", List.copyOf(new TreeSet<>(t.groups())));
    m.put("status", t.statusAt(now));
    m.put("created", t.created().toString());
    m.put("created_by", t.createdBy());
    m.put("expires", t.expires().map(Instant::toString).orElse(null));
    m.put("last_used", t.lastUsed().map(Instant::toString).orElse(null));
    m.put("on_behalf_of", t.onBehalfOf().orElse(null));
    m.put("description", t.description());
    return m;
  }

  private void create(Context ctx) throws InterruptedException {
    ApprovalRoutes.refuseCrossSite(ctx);
    Identity user = authenticator.authenticate(ctx);
    Roles.require(user, "create service tokens", Roles.ADMINISTRATOR);
    Map<String, Object> body =
        ApiRequests.body(
            ctx, json, CREATE_FIELDS, "name, groups, expires_in, description and on_behalf_of");
    String name = text(body, "name", true);
    try {
      ServiceTokens.requireValidName(name);
    } catch (IllegalArgumentException e) {
      throw new ApiServer.ApiError(400, e.getMessage());
    }
    Set<String> groups = new LinkedHashSet<>();
    Object listed = body.get("groups");
    if (listed != null) {
      if (!(listed instanceof List<?> items)) {
        throw new ApiServer.ApiError(400, "groups must be a list of group names");
      }
      for (Object g : items) {
        if (!(g instanceof String group) || !UserNames.isValid(group.strip())) {
          throw new ApiServer.ApiError(
              400, "groups must be a list of group names; '" + g + "' is not one");
        }
        groups.add(group.strip());
      }
    }
    Instant now = clock.instant();
    Optional<Instant> expires = lifetime(text(body, "expires_in", false)).map(now::plus);
    Optional<String> person = Optional.ofNullable(text(body, "on_behalf_of", false));
    String description = Optional.ofNullable(text(body, "description", false)).orElse("");
    Secret secret = ServiceTokens.generate(random);
    ScramCredential credential =
        ScramCredentials.derive(secret, random, ScramCredentials.DEFAULT_ITERATIONS);
    ServiceToken token;
    try {
      token =
          ServiceToken.issue(
              name,
              groups,
              person,
              now,
              expires,
              "api:" + user.name(),
              credential,
              description.strip());
    } catch (IllegalArgumentException e) {
      throw new ApiServer.ApiError(400, e.getMessage());
    }
    try {
      tokens.create(token, ServiceTokens.notALocalUser(users));
    } catch (ServiceTokenStore.NameTakenException e) {
      throw new ApiServer.ApiError(409, "cannot create the token: " + e.getMessage());
    }
    Map<String, String> facts = new LinkedHashMap<>();
    facts.put("token", name);
    facts.put("groups", String.join(",", new TreeSet<>(groups)));
    facts.put("expires", expires.map(Instant::toString).orElse("never"));
    person.ifPresent(p -> facts.put("on_behalf_of", p));
    ApiRequests.recordDone(trail, clock, "token-create", user, ctx, facts, true);
    Map<String, Object> answer = token(token, now);
    answer.put("token", secret.reveal());
    ctx.status(201).contentType(JSON).result(json.write(answer));
  }

  private void revoke(Context ctx) throws InterruptedException {
    ApprovalRoutes.refuseCrossSite(ctx);
    Identity user = authenticator.authenticate(ctx);
    Roles.require(user, "revoke service tokens", Roles.ADMINISTRATOR);
    String name = ctx.pathParam("name");
    Optional<ServiceToken> found = tokens.find(name);
    if (found.isEmpty()) {
      throw new ApiServer.ApiError(404, "no service token named " + ApiRequests.shorten(name));
    }
    if (found.get().revoked().isPresent()) {
      throw new ApiServer.ApiError(409, "service token " + name + " is already revoked");
    }
    tokens.revoke(name, clock.instant());
    ApiRequests.recordDone(trail, clock, "token-revoke", user, ctx, Map.of("token", name), true);
    ctx.status(200).contentType(JSON).result(json.write(Map.of("revoked", true, "name", name)));
  }

  private static String text(Map<String, Object> body, String field, boolean required) {
    Object v = body.get(field);
    if (v == null) {
      if (required) {
        throw new ApiServer.ApiError(400, field + " is required");
      }
      return null;
    }
    if (!(v instanceof String s) || (required && s.isBlank())) {
      throw new ApiServer.ApiError(400, field + " must be a string");
    }
    return s.strip();
  }

  /** {@code 12h} or {@code 90d}, at most {@link #MAX_LIFETIME}; empty for never. */
  static Optional<Duration> lifetime(String text) {
    if (text == null || text.equals("never")) {
      return Optional.empty();
    }
    Matcher m = LIFETIME.matcher(text);
    if (!m.matches()) {
      throw new ApiServer.ApiError(
          400, "expires_in must be a lifetime in hours or days (12h, 90d) or never");
    }
    long n = Long.parseLong(m.group(1));
    Duration d = m.group(2).equals("h") ? Duration.ofHours(n) : Duration.ofDays(n);
    if (d.isZero() || d.compareTo(MAX_LIFETIME) > 0) {
      throw new ApiServer.ApiError(
          400, "expires_in must be from 1h to " + MAX_LIFETIME.toDays() + "d");
    }
    return Optional.of(d);
  }
}
