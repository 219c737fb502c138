package dev.warden.server.cli;

import dev.warden.core.environment.Environment;
import dev.warden.core.environment.Upstream;
import dev.warden.server.WardenServer;
import dev.warden.server.config.AuditConfig;
import dev.warden.server.config.HostPort;
import dev.warden.server.config.TlsConfig;
import dev.warden.server.config.WardenConfig;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Locale;

/** The first lines Warden prints when it is ready: where it listens and how to connect. */
final class Banner {
  private static final DateTimeFormatter DAY =
      DateTimeFormatter.ofPattern("yyyy-MM-dd").withZone(ZoneOffset.UTC);

  private Banner() {}

  static void print(PrintStream out, WardenServer server) {
    WardenConfig config = server.config();
    out.println(
        "Warden "
            + Version.current()
            + " is listening on "
            + new HostPort(host(server), server.address().getPort())
            + " (PostgreSQL protocol).");
    TlsConfig tls = config.tls();
    String mode = tls.required() ? "required for clients" : "optional for clients";
    String certificate =
        server
            .generatedCertificate()
            .map(
                c ->
                    "self-signed certificate "
                        + c.certificate()
                        + ", valid until "
                        + DAY.format(c.notAfter()))
            .orElseGet(() -> "certificate " + tls.certificate().orElseThrow());
    out.println("TLS: available, " + mode + "; " + certificate + ".");
    for (Environment environment : config.environments()) {
      out.println(
          "Environment "
              + environment.name()
              + (environment.tags().isEmpty() ? "" : " " + environment.tags())
              + ": databases "
              + String.join(
                  ", ",
                  environment.databases().isEmpty()
                      ? java.util.List.of(environment.name())
                      : environment.databases())
              + " -> "
              + describe(environment.upstream()));
    }
    String console =
        "http://" + new HostPort(config.console().host(), server.apiAddress().getPort());
    out.println(
        "Web console: "
            + console
            + " (sign in as a Warden user); REST API: "
            + console
            + "/api (described at /api/openapi.json).");
    out.println(
        "Audit trail: "
            + switch (config.audit().store()) {
              case AuditConfig.Store.Embedded e -> config.dataDir().resolve("audit") + "";
              case AuditConfig.Store.Postgres p -> "PostgreSQL " + p.jdbcUrl();
            }
            + (config.audit().strict() ? " (strict: every statement waits for its record)" : "")
            + ".");
    out.println("Data directory: " + config.dataDir());
  }

  /** A psql command line that connects through {@code server}. */
  static String psql(WardenServer server, String database, String user) {
    return "psql \"host="
        + host(server)
        + " port="
        + server.address().getPort()
        + " dbname="
        + database
        + " user="
        + user
        + "\"";
  }

  /** A database name that routes somewhere, for the example command line. */
  static String exampleDatabase(WardenConfig config) {
    Environment first = config.environments().getFirst();
    return first.databases().stream()
        .filter(d -> !d.equals(Environment.ANY_DATABASE))
        .findFirst()
        .orElse(
            first.name().equals(WardenConfig.DEFAULT_ENVIRONMENT)
                ? first.upstream().database().orElse("postgres")
                : first.name());
  }

  /** The host a client on this machine should use: a wildcard bind is reached on loopback. */
  static String host(WardenServer server) {
    InetSocketAddress address = server.address();
    if (address.getAddress() != null && address.getAddress().isAnyLocalAddress()) {
      return "127.0.0.1";
    }
    return server.config().listen().host();
  }

  private static String describe(Upstream upstream) {
    return upstream.user()
        + "@"
        + new HostPort(upstream.host(), upstream.port())
        + upstream.database().map(d -> "/" + d).orElse("")
        + " (TLS "
        + upstream.tls().name().toLowerCase(Locale.ROOT).replace('_', '-')
        + ")";
  }
}
