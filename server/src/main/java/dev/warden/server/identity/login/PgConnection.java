package dev.warden.server.identity.login;

import dev.warden.core.identity.Secret;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * Where and as whom {@code warden connect} connects: Warden's address, the database (named like an
 * environment, which Warden routes to it) and the user named by the token.
 *
 * @param host Warden's host
 * @param port Warden's port
 * @param database the database to ask for
 * @param user the user name the token names
 * @param sslmode libpq's sslmode
 */
public record PgConnection(String host, int port, String database, String user, String sslmode) {
  /** The sslmode values libpq accepts. */
  public static final Set<String> SSL_MODES =
      Set.of("disable", "allow", "prefer", "require", "verify-ca", "verify-full");

  public PgConnection {
    Objects.requireNonNull(host, "host");
    Objects.requireNonNull(database, "database");
    Objects.requireNonNull(user, "user");
    if (!SSL_MODES.contains(sslmode)) {
      throw new IllegalArgumentException(
          "sslmode must be one of disable, allow, prefer, require, verify-ca or verify-full, found '"
              + sslmode
              + "'");
    }
  }

  /**
   * A libpq keyword/value connection string (PostgreSQL documentation §34.1.1), with the password
   * when given.
   */
  public String conninfo(Optional<Secret> password) {
    StringBuilder out = new StringBuilder();
    append(out, "host", host);
    append(out, "port", Integer.toString(port));
    append(out, "dbname", database);
    append(out, "user", user);
    append(out, "sslmode", sslmode);
    password.ifPresent(p -> append(out, "password", p.reveal()));
    return out.toString();
  }

  /**
   * libpq §34.1.1.1: a value that is empty or holds a space is single-quoted; single quotes and
   * backslashes in a value are escaped with a backslash.
   */
  static String quote(String value) {
    String escaped = value.replace("\\", "\\\\").replace("'", "\\'");
    boolean quote = value.isEmpty() || value.chars().anyMatch(Character::isWhitespace);
    return quote ? "'" + escaped + "'" : escaped;
  }

  private static void append(StringBuilder out, String keyword, String value) {
    if (!out.isEmpty()) {
      out.append(' ');
    }
    out.append(keyword).append('=').append(quote(value));
  }
}
