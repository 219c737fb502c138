package dev.warden.server.api;

import dev.warden.core.environment.Environment;
import dev.warden.core.environment.Environments;
import dev.warden.core.identity.Identity;
import dev.warden.core.masking.DataMap;
import dev.warden.core.masking.Finding;
import dev.warden.core.masking.MappedColumn;
import dev.warden.core.masking.MappedRelation;
import dev.warden.core.masking.MaskingRules;
import dev.warden.core.policy.Policy;
import dev.warden.server.audit.AuditJson;
import dev.warden.server.datamap.PostgresDataMaps;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/**
 * {@code GET /api/datamap[?environment=NAME]}: which columns of each mapped database hold which
 * kind of sensitive data, how each was found, and the strategy that masks it, as the policy in
 * force sees the map (its column overrides applied); auditors and administrators.
 *
 * <p>Maps are built when a database is first used. For an environment asked for by name whose
 * upstream names a database that has no map yet, the build is started and waited for (up to {@link
 * #BUILD_WAIT_SECONDS}); a build that fails or takes longer is reported under {@code errors}. An
 * environment that passes the client's database name through shows the maps of the databases
 * clients have used.
 */
public final class DataMapRoutes implements RouteGroup {
  private static final String JSON = "application/json; charset=utf-8";

  /** How long a request waits for a map being built. */
  static final long BUILD_WAIT_SECONDS = 10;

  private final Supplier<PostgresDataMaps> maps;
  private final Environments environments;
  private final Supplier<Policy> policy;
  private final AuditJson json;
  private RequestAuthenticator authenticator;

  DataMapRoutes(
      Supplier<PostgresDataMaps> maps,
      Environments environments,
      Supplier<Policy> policy,
      AuditJson json) {
    this.maps = Objects.requireNonNull(maps, "maps");
    this.environments = Objects.requireNonNull(environments, "environments");
    this.policy = Objects.requireNonNull(policy, "policy");
    this.json = Objects.requireNonNull(json, "json");
  }

  /** The data map endpoint of a server whose maps are {@code maps} once they exist. */
  public static RouteGroup of(
      Supplier<PostgresDataMaps> maps, Environments environments, Supplier<Policy> policy) {
    return new DataMapRoutes(maps, environments, policy, new AuditJson());
  }

  @Override
  public void register(RoutesConfig routes, RequestAuthenticator authenticator) {
    this.authenticator = authenticator;
    routes.get("/api/datamap", this::show);
  }

  private void show(Context ctx) throws InterruptedException {
    Identity user = authenticator.authenticate(ctx);
    Roles.require(user, "read the data map", Roles.AUDITOR, Roles.ADMINISTRATOR);
    String only = ctx.queryParam("environment");
    Environment asked = null;
    if (only != null && !only.isEmpty()) {
      asked =
          environments.all().stream()
              .filter(e -> e.name().equals(only))
              .findFirst()
              .orElseThrow(
                  () ->
                      new ApiServer.ApiError(
                          404, "there is no environment " + ApiRequests.shorten(only)));
    }
    PostgresDataMaps all = maps.get();
    if (all == null) {
      throw new ApiServer.ApiError(503, "the data maps are starting; try again in a moment");
    }
    List<Object> errors = new ArrayList<>();
    if (asked != null && asked.upstream().database().isPresent()) {
      // An environment whose upstream names no database passes the client's database name
      // through: its maps are those of the databases clients have used.
      String database = asked.upstream().database().get();
      if (all.current(asked.name(), database).isEmpty()) {
        try {
          all.ready(asked.name(), database).get(BUILD_WAIT_SECONDS, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
          errors.add(error(asked.name(), database, String.valueOf(e.getCause().getMessage())));
        } catch (TimeoutException e) {
          errors.add(
              error(
                  asked.name(),
                  database,
                  "the data map is still being built; ask again in a moment"));
        }
      }
    }
    MaskingRules masking = policy.get().masking();
    List<Object> out = new ArrayList<>();
    for (DataMap raw : all.built()) {
      if (asked != null && !raw.environment().equals(asked.name())) {
        continue;
      }
      out.add(map(masking.overlay(raw), masking));
    }
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("maps", out);
    body.put("errors", errors);
    ctx.status(200).contentType(JSON).result(json.write(body));
  }

  private static Map<String, Object> error(String environment, String database, String message) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("environment", environment);
    m.put("database", database);
    m.put("error", message);
    return m;
  }

  /** A map as the API shows it: its sensitive columns and those policy unmarked. */
  static Map<String, Object> map(DataMap map, MaskingRules masking) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("environment", map.environment());
    m.put("database", map.database());
    m.put("version", map.version());
    m.put("built_at", map.builtAt().toString());
    int relations = 0;
    int columns = 0;
    List<Object> shown = new ArrayList<>();
    for (MappedRelation r : map.relations()) {
      relations++;
      for (MappedColumn c : r.columns()) {
        columns++;
        if (!c.sensitive() && c.finding() != Finding.POLICY) {
          continue;
        }
        Map<String, Object> col = new LinkedHashMap<>();
        col.put("table", r.qualifiedName());
        col.put("relation_type", r.type().name().toLowerCase(Locale.ROOT));
        col.put("column", c.name());
        col.put("type", c.type());
        col.put("kind", c.kind().map(MaskingRules::kindName).orElse(null));
        col.put("found_by", c.finding().name().toLowerCase(Locale.ROOT));
        col.put("detail", c.detail());
        col.put("strategy", c.kind().map(k -> masking.strategy(k).fileName()).orElse("not masked"));
        shown.add(col);
      }
    }
    m.put("relations", relations);
    m.put("columns_total", columns);
    m.put("columns", shown);
    return m;
  }
}
