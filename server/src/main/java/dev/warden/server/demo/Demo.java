package dev.warden.server.demo;

import dev.warden.core.environment.Environment;
import dev.warden.core.environment.TlsMode;
import dev.warden.core.environment.Upstream;
import dev.warden.core.identity.LocalUser;
import dev.warden.core.identity.ScramCredentials;
import dev.warden.core.identity.Secret;
import dev.warden.core.identity.UserDirectory;
import dev.warden.server.StartupException;
import dev.warden.server.WardenServer;
import dev.warden.server.config.HostPort;
import dev.warden.server.config.TlsConfig;
import dev.warden.server.config.WardenConfig;
import java.io.IOException;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.sql.SQLException;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * {@code warden demo}: an embedded PostgreSQL seeded with the {@code shop} database, the users
 * {@code demo}/{@code demo} and {@code admin}/{@code admin}, and Warden in front of it, built by
 * the same composition root as {@code warden serve}.
 */
public final class Demo implements AutoCloseable {
  /** The environment the demo database is served as. */
  public static final String ENVIRONMENT = "demo";

  /** The demo identity; its password is its name. */
  public static final String DEMO_USER = "demo";

  /** The administrator identity; its password is its name. */
  public static final String ADMIN_USER = "admin";

  /** Where the embedded server's files go inside the demo's data directory. */
  public static final Path POSTGRES_DIRECTORY = Path.of("postgres");

  private final DemoDatabase database;
  private final WardenServer server;

  private Demo(DemoDatabase database, WardenServer server) {
    this.database = database;
    this.server = server;
  }

  /**
   * Starts the database, seeds it if needed ({@code fresh}: always), then Warden.
   *
   * @param dataDir the demo's directory: Warden's store, keys and certificate, and {@code
   *     postgres/}
   */
  public static Demo start(
      Path dataDir,
      HostPort listen,
      HostPort console,
      boolean fresh,
      Clock clock,
      SecureRandom random)
      throws StartupException {
    DemoDatabase database;
    try {
      database = DemoDatabase.start(dataDir.resolve(POSTGRES_DIRECTORY), fresh);
    } catch (IOException | SQLException | RuntimeException e) {
      throw new StartupException(
          "cannot start the embedded PostgreSQL server: " + e.getMessage(), e);
    }
    try {
      WardenServer server =
          WardenServer.start(
              config(dataDir, listen, database.port()).withConsole(console), clock, random);
      try {
        addUser(server.users(), DEMO_USER, Set.of(), clock, random);
        addUser(server.users(), ADMIN_USER, Set.of("admins", "approvers"), clock, random);
      } catch (RuntimeException e) {
        server.close();
        throw new StartupException("cannot create the demo users: " + e.getMessage(), e);
      }
      return new Demo(database, server);
    } catch (StartupException e) {
      database.close();
      throw e;
    }
  }

  /** Warden's configuration for the demo: one environment, tagged production, serving it all. */
  static WardenConfig config(Path dataDir, HostPort listen, int postgresPort) {
    Upstream upstream =
        new Upstream(
            "127.0.0.1",
            postgresPort,
            Optional.empty(),
            DemoDatabase.SUPERUSER,
            Secret.of(""),
            TlsMode.DISABLE,
            Optional.empty());
    Environment environment =
        new Environment(
            ENVIRONMENT,
            Set.of("production"),
            List.of(DemoDatabase.DATABASE, Environment.ANY_DATABASE),
            upstream);
    return new WardenConfig(listen, dataDir, TlsConfig.generated(), List.of(environment));
  }

  private static void addUser(
      UserDirectory users, String name, Set<String> groups, Clock clock, SecureRandom random) {
    users.put(
        new LocalUser(
            name,
            groups,
            ScramCredentials.derive(Secret.of(name), random, ScramCredentials.DEFAULT_ITERATIONS),
            users.find(name).map(LocalUser::created).orElseGet(clock::instant)));
  }

  public WardenServer server() {
    return server;
  }

  public DemoDatabase database() {
    return database;
  }

  /** What to type once the demo runs. */
  public String instructions(String host) {
    int port = server.address().getPort();
    String connect = "psql \"host=" + host + " port=" + port + " dbname=" + DemoDatabase.DATABASE;
    String api = "http://" + server.config().console().host() + ":" + server.apiAddress().getPort();
    return """
        Embedded PostgreSQL on 127.0.0.1:%d holds the database shop: %d customers with \
        payment methods, %d orders, support tickets, API keys and %d employees, all invented.

        Connect through Warden as the demo user:
          %s user=demo password=demo"
        or as admin/admin (groups admins, approvers). A wrong password is refused:
          %s user=demo password=wrong"

        Things to try in psql:
          \\dt
          SELECT full_name, email, phone, national_id FROM customers LIMIT 5;
          SELECT card_brand, card_number, card_expiry, iban FROM payment_methods LIMIT 5;
          SELECT body FROM support_tickets LIMIT 3;
          SELECT provider, token FROM api_keys;
          SELECT department, round(avg(salary)) AS avg_salary FROM employees GROUP BY 1;
          DELETE FROM order_items;   -- refused: a delete without WHERE in production
          DROP TABLE orders;         -- refused: DROP in production
          CREATE INDEX ON orders (ordered_at);  -- waits for approval: a schema change in production

        Watch it in the web console, signed in as admin/admin: the overview, who is connected
        and what they ran, the audit trail as it is written, the data map and the policy with a
        simulator (see docs/console.md):
          %s
        Approve the index there, then send the same statement again; it runs once (see
        docs/approvals.md):
          %s/approvals

        The environment is tagged production, so the default policy refuses destructive and
        unbounded statements before they reach the database (see docs/policy.md). Masking is on
        for every identity (the default policy exempts nobody, admin included): names, e-mails,
        phones, card numbers, IBANs, national ids and API tokens come back masked (see
        docs/masking.md). Warden found those columns itself, from their names, types, comments and
        sampled values; to see which, and how each was found:
          ./warden datamap --upstream postgresql://%s@127.0.0.1:%d/%s
        Run 'warden demo --fresh' to restore the data.

        Every session and statement above is in the audit trail, recorded before it ran and
        searchable at once (as admin, password admin; see docs/audit.md):
          ./warden audit search --server %s --as admin 'verdict:denied'
          ./warden audit search --server %s --as admin 'user:demo table:customers since:1h'
          ./warden audit tail --server %s --as admin --follow
          curl -u admin:admin '%s/api/audit?q=kind:delete'
          ./warden audit verify --data-dir %s
        """
        .formatted(
            database.port(),
            ShopSeed.CUSTOMERS,
            ShopSeed.ORDERS,
            ShopSeed.EMPLOYEES,
            connect,
            connect,
            api,
            api,
            DemoDatabase.SUPERUSER,
            database.port(),
            DemoDatabase.DATABASE,
            api,
            api,
            api,
            api,
            server.config().dataDir());
  }

  /** Stops Warden, then the database. */
  @Override
  public void close() {
    try {
      server.close();
    } finally {
      database.close();
    }
  }
}
