package dev.warden.server.api;

import dev.warden.core.approval.ApprovalRequest;
import dev.warden.core.approval.ApprovalStore;
import dev.warden.core.approval.Approvals;
import dev.warden.core.audit.search.AuditHit;
import dev.warden.core.audit.search.AuditQuery;
import dev.warden.core.audit.search.AuditQueryException;
import dev.warden.core.audit.search.AuditResults;
import dev.warden.core.audit.search.AuditSearch;
import dev.warden.core.audit.search.AuditSearchException;
import dev.warden.core.environment.Environment;
import dev.warden.core.environment.Environments;
import dev.warden.core.identity.Identity;
import dev.warden.core.session.SessionRegistry;
import dev.warden.core.session.SessionSnapshot;
import dev.warden.server.audit.AuditJson;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
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

  /** The newest statements of the hour the tables most touched are counted over. */
  static final int TABLE_SAMPLE = 2000;

  private final Environments environments;
  private final SessionRegistry sessions;
  private final ActivityStats stats;
  private final AuditSearch search;
  private final Optional<Approvals> approvals;
  private final AuditJson json = new AuditJson();
  private RequestAuthenticator authenticator;

  OverviewRoutes(
      Environments environments,
      SessionRegistry sessions,
      AuditSearch search,
      Optional<Approvals> approvals,
      Clock clock) {
    this.environments = Objects.requireNonNull(environments, "environments");
    this.sessions = Objects.requireNonNull(sessions, "sessions");
    this.search = Objects.requireNonNull(search, "search");
    this.approvals = Objects.requireNonNull(approvals, "approvals");
    this.stats = new ActivityStats(sessions, clock);
  }

  /**
   * The overview endpoints: who is connected and activity over time from {@code sessions} (from now
   * on), the tables most touched from the audit trail's {@code search}.
   */
  public static OverviewRoutes of(
      Environments environments,
      SessionRegistry sessions,
      AuditSearch search,
      Optional<Approvals> approvals,
      Clock clock) {
    return new OverviewRoutes(environments, sessions, search, approvals, clock);
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
    tables(body, environment);
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

  /**
   * The tables the hour's newest statements (up to {@link #TABLE_SAMPLE}) touched most, from the
   * audit trail's index: a search, not a count kept per statement, so that the statement path pays
   * nothing for it.
   */
  private void tables(Map<String, Object> body, String environment) {
    String q = "type:intent since:1h" + (environment == null ? "" : " env:" + quoted(environment));
    List<Object> touched = new ArrayList<>();
    try {
      AuditResults results = search.search(AuditQuery.parse(q), TABLE_SAMPLE);
      Map<String, Long> counts = new HashMap<>();
      for (AuditHit hit : results.hits()) {
        if (hit.fields().get("tables") instanceof List<?> tables) {
          for (Object t : tables) {
            counts.merge(String.valueOf(t), 1L, Long::sum);
          }
        }
      }
      List<Map.Entry<String, Long>> top = new ArrayList<>(counts.entrySet());
      top.sort(
          Map.Entry.<String, Long>comparingByValue()
              .reversed()
              .thenComparing(Map.Entry.comparingByKey()));
      for (Map.Entry<String, Long> t : top.subList(0, Math.min(10, top.size()))) {
        touched.add(Map.of("table", t.getKey(), "statements", t.getValue()));
      }
      body.put("tables_from", results.hits().size());
    } catch (AuditSearchException | AuditQueryException e) {
      body.put("tables_error", "the audit search is unavailable: " + e.getMessage());
    }
    body.put("tables", touched);
  }

  private static String quoted(String value) {
    if (value.matches("[A-Za-z0-9_.-]+")) {
      return value;
    }
    return "\"" + value.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
  }

  @Override
  public void close() {
    stats.close();
  }
}
