package dev.warden.core.environment;

import dev.warden.core.identity.Secret;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * Where an environment's database lives and the credentials Warden uses there. Clients never see
 * these credentials.
 *
 * @param host host name or address
 * @param port TCP port
 * @param database the upstream database, or empty when the client's database name passes through
 * @param user the upstream role Warden logs in as
 * @param password the upstream password; empty for trust or certificate authentication
 * @param tls TLS mode towards the upstream
 * @param caFile CA bundle for {@link TlsMode#VERIFY_FULL}; empty means the JDK's trust store
 */
public record Upstream(
    String host,
    int port,
    Optional<String> database,
    String user,
    Secret password,
    TlsMode tls,
    Optional<Path> caFile) {
  public Upstream {
    Objects.requireNonNull(host, "host");
    Objects.requireNonNull(database, "database");
    Objects.requireNonNull(user, "user");
    Objects.requireNonNull(password, "password");
    Objects.requireNonNull(tls, "tls");
    Objects.requireNonNull(caFile, "caFile");
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException("port out of range: " + port);
    }
  }

  /** The same server and database, logged in to as {@code user} with {@code password}. */
  public Upstream withCredentials(String user, Secret password) {
    return new Upstream(host, port, database, user, password, tls, caFile);
  }

  /** The database to open upstream for a client that asked for {@code clientDatabase}. */
  public String databaseFor(String clientDatabase) {
    return database.orElse(clientDatabase);
  }
}
