package dev.warden.server.datamap;

import dev.warden.core.environment.Environment;
import dev.warden.core.environment.TlsMode;
import dev.warden.core.environment.Upstream;
import dev.warden.core.identity.Secret;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

/** A throwaway database (and optionally a role) on the PostgreSQL server of this machine. */
final class TestDatabase implements AutoCloseable {
  static final String SERVER = "jdbc:postgresql://127.0.0.1:5432/";

  final String name;
  final String role;

  private TestDatabase(String name, String role) {
    this.name = name;
    this.role = role;
  }

  /** A new empty database and a login role {@code role} (password {@code role}) without grants. */
  static TestDatabase create(String prefix) throws SQLException {
    String suffix = UUID.randomUUID().toString().replace("-", "").substring(0, 10);
    TestDatabase db = new TestDatabase(prefix + "_" + suffix, prefix + "_r_" + suffix);
    try (Connection admin = connect("postgres");
        Statement s = admin.createStatement()) {
      s.execute("CREATE DATABASE " + db.name);
      s.execute("CREATE ROLE " + db.role + " LOGIN PASSWORD '" + db.role + "'");
    }
    return db;
  }

  static Connection connect(String database) throws SQLException {
    return DriverManager.getConnection(SERVER + database + "?user=postgres");
  }

  Connection connect() throws SQLException {
    return connect(name);
  }

  void execute(String sql) throws SQLException {
    try (Connection c = connect();
        Statement s = c.createStatement()) {
      s.execute(sql);
    }
  }

  /** An environment serving every database of this server, logging in as {@code user}. */
  static Environment environment(String name, String user, String password, int port) {
    return new Environment(
        name,
        Set.of(),
        List.of(Environment.ANY_DATABASE),
        new Upstream(
            "127.0.0.1",
            port,
            Optional.empty(),
            user,
            Secret.of(password),
            TlsMode.DISABLE,
            Optional.empty()));
  }

  /** An environment logging in as this database's restricted role. */
  Environment restricted(String environment) {
    return environment(environment, role, role, 5432);
  }

  @Override
  public void close() throws SQLException {
    try (Connection admin = connect("postgres");
        Statement s = admin.createStatement()) {
      s.execute("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
      s.execute("DROP ROLE IF EXISTS " + role);
    }
  }
}
