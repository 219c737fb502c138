package dev.warden.core.gate;

import dev.warden.core.environment.Environment;
import dev.warden.core.identity.Identity;
import java.util.Objects;

/**
 * Who is connected, from where, to what: fixed when a session finishes authenticating.
 *
 * @param id Warden's session id, unique within this process
 * @param identity the verified identity
 * @param environment the environment the session was routed to
 * @param clientAddress the client's address as {@code host:port}
 * @param database the database name the client asked for
 * @param applicationName the client's {@code application_name}, or empty
 */
public record SessionContext(
    String id,
    Identity identity,
    Environment environment,
    String clientAddress,
    String database,
    String applicationName) {
  public SessionContext {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(identity, "identity");
    Objects.requireNonNull(environment, "environment");
    Objects.requireNonNull(clientAddress, "clientAddress");
    Objects.requireNonNull(database, "database");
    Objects.requireNonNull(applicationName, "applicationName");
  }
}
