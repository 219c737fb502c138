package dev.warden.server.api;

import dev.warden.core.approval.ApprovalRequest;
import dev.warden.core.approval.ApprovalStore;
import dev.warden.core.approval.Approvals;
import dev.warden.core.environment.Environment;
import dev.warden.core.environment.Environments;
import dev.warden.core.identity.Identity;
import dev.warden.core.session.SessionRegistry;
import dev.warden.core.session.SessionSnapshot;
import dev.warden.server.audit.AuditFeed;
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
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The environments, and what is happening in them:
 *
 * <ul>
 *   <li>{@code GET /api/environments}: each configured environment's name, tags, upstream address
 *       (never its credentials), database and sessions connected now; any signed-in identity;
 *   <li>{@code GET /api/overview[?environment=NAME]}: sessions and who is connected now (the live
 *       sessions), statements, refusals and masked results per minute over the last hour, approvals
 *       waiting, the tables most touched ({@link ActivityStats}); auditors and administrators.
 * </ul>
 */
public final class OverviewRoutes implements RouteGroup, AutoCloseable {
  private static final String JSON = "application/json; charset=utf-8";

  private final Environments environments;
  private final SessionRegistry sessions;
  private final ActivityStats stats;
  private final Optional<Approvals> approvals;
  private final AuditJson json = new AuditJson();
  private RequestAuthenticator authenticator;

  OverviewRoutes(
      Environments environments,
      SessionRegistry sessions,
      AuditFeed feed,
      Optional<Approvals> approvals,
      Clock clock) {
    this.environments = Objects.requireNonNull(environments, "environments");
    this.sessions = Objects.requireNonNull(sessions, "sessions");
    this.approvals = Objects.requireNonNull(approvals, "approvals");
    this.stats = new ActivityStats(feed, clock);
  }

  /**
   * The overview endpoints: who is connected from {@code sessions}, activity over time from {@code
   * feed} from now on.
   */
  public static OverviewRoutes of(
      Environments environments,
      SessionRegistry sessions,
      AuditFeed feed,
      Optional<Approvals> approvals,
      Clock clock) {
    return new OverviewRoutes(environments, sessions, feed, approvals, clock);
  }

  @Override
  public void register(RoutesConfig routes, RequestAuthenticator authenticator) {
    this.authenticator = authenticator;
    routes.get("/api/environments", this::environments);
    routes.get("/api/overview", this::overview);
  }

  private void environments(Context ctx) throws InterruptedException {
    authenticator.authenticate(ctx);
    Map<String, Integer> live = sessions.sizeByEnvironment();
    List<Object> out = new ArrayList<>();
    for (Environment e : environments.all()) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("name", e.name());
      m.put("tags", List.copyOf(new TreeSet<>(e.tags())));
      m.put("upstream", e.upstream().host() + ":" + e.upstream().port());
      m.put("database", e.upstream().database().orElse(null));
      m.put("sessions", live.getOrDefault(e.name(), 0));
      out.add(m);
    }
    ctx.status(200).contentType(JSON).result(json.write(Map.of("environments", out)));
  }

  private void overview(Context ctx) throws InterruptedException {
    Identity user = authenticator.authenticate(ctx);
    Roles.require(user, "read the overview", Roles.AUDITOR, Roles.ADMINISTRATOR);
    String environment = ctx.queryParam("environment");
    if (environment != null && environment.isEmpty()) {
      environment = null;
    }
    if (environment != null) {
      String name = environment;
      if (environments.all().stream().noneMatch(e -> e.name().equals(name))) {
        throw new ApiServer.ApiError(
            404, "there is no environment " + ApiRequests.shorten(environment));
      }
    }
    Map<String, Object> body = stats.overview(environment);
    Map<String, Integer> byUser = new TreeMap<>();
    int connected = 0;
    for (SessionSnapshot s : sessions.snapshots()) {
      if (environment == null || s.environment().equals(environment)) {
        connected++;
        byUser.merge(s.user(), 1, Integer::sum);
      }
    }
    body.put("sessions", connected);
    List<Object> people = new ArrayList<>();
    byUser.forEach((u, n) -> people.add(Map.of("user", u, "sessions", n)));
    body.put("connected", people);
    if (approvals.isPresent()) {
      List<ApprovalRequest> pending =
          approvals
              .get()
              .list(
                  new ApprovalStore.Filter(
                      List.of(ApprovalRequest.Status.PENDING),
                      Optional.empty(),
                      Optional.ofNullable(environment),
                      Optional.empty(),
                      1000));
      body.put("approvals_pending", pending.size());
    }
    ctx.status(200).contentType(JSON).result(json.write(body));
  }

  @Override
  public void close() {
    stats.close();
  }
}
