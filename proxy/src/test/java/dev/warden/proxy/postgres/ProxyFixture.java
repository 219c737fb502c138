package dev.warden.proxy.postgres;

import dev.warden.core.audit.AuditTrail;
import dev.warden.core.environment.AccessWindows;
import dev.warden.core.environment.Environment;
import dev.warden.core.environment.Environments;
import dev.warden.core.environment.TlsMode;
import dev.warden.core.environment.Upstream;
import dev.warden.core.gate.ApprovalGate;
import dev.warden.core.gate.Gatekeeper;
import dev.warden.core.identity.AuthThrottle;
import dev.warden.core.identity.ScramServer;
import dev.warden.core.identity.Secret;
import dev.warden.core.masking.DataMaps;
import dev.warden.testkit.RecordingAuditTrail;
import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.function.UnaryOperator;

/**
 * Warden in front of the real PostgreSQL on this machine (127.0.0.1:5432, user postgres), with a
 * database of its own for one test class, dropped on close. The identity {@code alice} (password
 * {@link #PASSWORD}) can log in through the proxy.
 */
final class ProxyFixture implements AutoCloseable {
  static final String USER = "alice";
  static final String PASSWORD = "alice-secret";
  static final String PG_HOST = System.getProperty("warden.test.pg.host", "127.0.0.1");
  static final int PG_PORT = Integer.getInteger("warden.test.pg.port", 5432);
  static final String PG_USER = System.getProperty("warden.test.pg.user", "postgres");

  final String database;
  final InMemoryUsers users = new InMemoryUsers().add(USER, PASSWORD, "engineers");
  final PostgresProxy proxy;

  /** What the proxy recorded. */
  final RecordingAuditTrail audit = new RecordingAuditTrail();

  ProxyFixture() {
    this(Gatekeeper.allowAll(), s -> s);
  }

  ProxyFixture(Gatekeeper gatekeeper, UnaryOperator<ProxySettings> settings) {
    this(gatekeeper, settings, DataMaps.NONE);
  }

  ProxyFixture(Gatekeeper gatekeeper, UnaryOperator<ProxySettings> settings, DataMaps dataMaps) {
    this(gatekeeper, settings, dataMaps, LoginSettings.LOCAL_ONLY, UnaryOperator.identity());
  }

  /**
   * With token and certificate logins as {@code logins} says, and the environment {@code test}
   * changed by {@code environment} (e.g. given role mappings).
   */
  ProxyFixture(
      Gatekeeper gatekeeper,
      UnaryOperator<ProxySettings> settings,
      DataMaps dataMaps,
      LoginSettings logins,
      UnaryOperator<Environment> environment) {
    this(gatekeeper, settings, dataMaps, logins, environment, ApprovalGate.NONE);
  }

  /** With statements that need approval asked about at {@code approvals}. */
  ProxyFixture(
      Gatekeeper gatekeeper,
      UnaryOperator<ProxySettings> settings,
      DataMaps dataMaps,
      LoginSettings logins,
      UnaryOperator<Environment> environment,
      ApprovalGate approvals) {
    this(gatekeeper, settings, dataMaps, logins, environment, approvals, AccessWindows.NONE);
  }

  /** With sessions elevated by the access windows {@code windows} has open. */
  ProxyFixture(
      Gatekeeper gatekeeper,
      UnaryOperator<ProxySettings> settings,
      DataMaps dataMaps,
      LoginSettings logins,
      UnaryOperator<Environment> environment,
      ApprovalGate approvals,
      AccessWindows windows) {
    this(
        gatekeeper,
        settings,
        dataMaps,
        logins,
        environment,
        approvals,
        windows,
        UnaryOperator.identity());
  }

  /**
   * With the proxy recording through {@code trail} applied to {@link #audit} (e.g. a trail whose
   * durable appends complete later, as the real one's do after its fsync).
   */
  ProxyFixture(
      Gatekeeper gatekeeper,
      UnaryOperator<ProxySettings> settings,
      DataMaps dataMaps,
      LoginSettings logins,
      UnaryOperator<Environment> environment,
      ApprovalGate approvals,
      AccessWindows windows,
      UnaryOperator<AuditTrail> trail) {
    database =
        "warden_t_"
            + Long.toHexString(new SecureRandom().nextLong() >>> 1).toLowerCase(Locale.ROOT);
    admin("CREATE DATABASE " + database);
    Upstream upstream =
        new Upstream(
            PG_HOST,
            PG_PORT,
            Optional.empty(),
            PG_USER,
            Secret.of(""),
            TlsMode.DISABLE,
            Optional.empty());
    Environments environments =
        new Environments(
            List.of(
                environment.apply(
                    new Environment(
                        "test", Set.of(), List.of(Environment.ANY_DATABASE), upstream))));
    proxy =
        new PostgresProxy(
            settings.apply(ProxySettings.defaults(new InetSocketAddress("127.0.0.1", 0))),
            environments,
            new ScramServer(users, Secret.of("mock-key-for-tests"), new SecureRandom()),
            new AuthThrottle(Clock.systemUTC()),
            gatekeeper,
            new ProxyAudit(trail.apply(audit), false, Clock.systemUTC()),
            dataMaps,
            logins,
            approvals,
            windows);
    proxy.start();
  }

  int port() {
    return proxy.address().getPort();
  }

  String proxyUrl() {
    return "jdbc:postgresql://127.0.0.1:" + port() + "/" + database + "?sslmode=disable";
  }

  String directUrl() {
    return "jdbc:postgresql://" + PG_HOST + ":" + PG_PORT + "/" + database + "?sslmode=disable";
  }

  /** A pgjdbc connection through Warden as alice. */
  Connection connect() throws SQLException {
    return connect(new Properties());
  }

  Connection connect(Properties extra) throws SQLException {
    Properties p = new Properties();
    p.setProperty("user", USER);
    p.setProperty("password", PASSWORD);
    p.putAll(extra);
    return DriverManager.getConnection(proxyUrl(), p);
  }

  /** A pgjdbc connection straight to PostgreSQL, bypassing Warden. */
  Connection direct() throws SQLException {
    Properties p = new Properties();
    p.setProperty("user", PG_USER);
    return DriverManager.getConnection(directUrl(), p);
  }

  /** Runs a statement as the PostgreSQL superuser in the test database. */
  void sql(String statement) {
    try (Connection c = direct();
        Statement s = c.createStatement()) {
      s.execute(statement);
    } catch (SQLException e) {
      throw new IllegalStateException(statement, e);
    }
  }

  static void admin(String statement) {
    Properties p = new Properties();
    p.setProperty("user", PG_USER);
    try (Connection c =
            DriverManager.getConnection(
                "jdbc:postgresql://" + PG_HOST + ":" + PG_PORT + "/postgres?sslmode=disable", p);
        Statement s = c.createStatement()) {
      s.execute(statement);
    } catch (SQLException e) {
      throw new IllegalStateException(statement, e);
    }
  }

  @Override
  public void close() {
    proxy.close();
    admin("DROP DATABASE IF EXISTS " + database + " WITH (FORCE)");
  }
}
