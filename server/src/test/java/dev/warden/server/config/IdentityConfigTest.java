package dev.warden.server.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.warden.core.environment.Environment;
import dev.warden.core.environment.RoleMapping;
import dev.warden.core.identity.ClientCertificateSettings;
import dev.warden.proxy.postgres.LoginSettings;
import dev.warden.server.identity.oidc.OidcProviderSettings;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The configuration file's identity section, client certificates and role mappings. */
class IdentityConfigTest {
  @TempDir Path dir;

  @BeforeEach
  void files() throws Exception {
    Files.writeString(dir.resolve("clients-ca.pem"), "ca");
    Files.writeString(dir.resolve("clients.crl"), "crl");
  }

  private WardenConfig load(String yaml) throws Exception {
    Path file = dir.resolve("warden.yaml");
    Files.writeString(file, yaml);
    return new ConfigLoader(Map.of("RO_PASSWORD", "ro-secret")).load(file);
  }

  private ConfigException failsAt(String yaml, int line, String... fragments) {
    ConfigException e = catchThrowableOfType(ConfigException.class, () -> load(yaml));
    assertThat(e).as("loading fails").isNotNull();
    assertThat(e.line()).hasValue(line);
    for (String fragment : fragments) {
      assertThat(e.getMessage()).contains(fragment);
    }
    return e;
  }

  @Test
  void readsProvidersExpiryCertificatesAndRoles() throws Exception {
    WardenConfig config =
        load(
            """
            tls:
              client-certificates:
                ca: clients-ca.pem
                required: true
                identity-san: uri
                common-name-fallback: true
                groups-from-ou: true
                accept-without-eku: true
                crl: clients.crl
            identity:
              session-expiry: terminate
              expiry-grace: 90s
              oidc:
                - name: corp
                  issuer: https://login.corp.example/realms/main
                  audience: [warden-cli, warden]
                  client-id: warden-cli
                  user-claims: [preferred_username, sub]
                  groups-claim: realm_access.roles
                  clock-skew: 30s
                  require-verified-email: false
                  jwks-min-refresh-interval: 10s
                  cache-lifetime: 5m
                  http-timeout: 2s
                  allowed-algorithms: [RS256, ES256]
                  required-claims: { hd: corp.example }
                - name: local
                  issuer: http://127.0.0.1:8181
                  audience: warden
            environments:
              - name: production
                upstream: { host: 127.0.0.1, user: warden }
                roles:
                  - groups: [analysts]
                    user: app_ro
                    password: { env: RO_PASSWORD }
                  - identities: [alice@corp.example]
                    groups: [dba]
                    user: app_admin
            """);
    TlsConfig.ClientCertificates clients = config.tls().clientCertificates().orElseThrow();
    assertThat(clients.ca()).isEqualTo(dir.resolve("clients-ca.pem"));
    assertThat(clients.required()).isTrue();
    assertThat(clients.crl()).contains(dir.resolve("clients.crl"));
    assertThat(clients.settings())
        .isEqualTo(
            new ClientCertificateSettings(ClientCertificateSettings.SanType.URI, true, true, true));

    IdentityConfig identity = config.identity();
    assertThat(identity.atExpiry()).isEqualTo(LoginSettings.AtExpiry.TERMINATE);
    assertThat(identity.expiryGrace()).isEqualTo(Duration.ofSeconds(90));
    OidcProviderSettings corp = identity.oidc().get(0);
    assertThat(corp.name()).isEqualTo("corp");
    assertThat(corp.issuer()).isEqualTo(URI.create("https://login.corp.example/realms/main"));
    assertThat(corp.audiences()).containsExactly("warden-cli", "warden");
    assertThat(corp.clientId()).contains("warden-cli");
    assertThat(corp.userClaims()).containsExactly("preferred_username", "sub");
    assertThat(corp.groupsClaim()).isEqualTo("realm_access.roles");
    assertThat(corp.clockSkew()).isEqualTo(Duration.ofSeconds(30));
    assertThat(corp.requireVerifiedEmail()).isFalse();
    assertThat(corp.jwksMinRefreshInterval()).isEqualTo(Duration.ofSeconds(10));
    assertThat(corp.cacheLifetime()).isEqualTo(Duration.ofMinutes(5));
    assertThat(corp.httpTimeout()).isEqualTo(Duration.ofSeconds(2));
    assertThat(corp.allowedAlgorithms()).containsExactlyInAnyOrder("RS256", "ES256");
    assertThat(corp.requiredClaims()).containsExactly(Map.entry("hd", "corp.example"));
    assertThat(identity.oidc().get(1).audiences()).containsExactly("warden");

    Environment production = config.environments().getFirst();
    assertThat(production.roles())
        .extracting(RoleMapping::user, RoleMapping::groups, RoleMapping::identities)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("app_ro", Set.of("analysts"), Set.of()),
            org.assertj.core.groups.Tuple.tuple(
                "app_admin", Set.of("dba"), Set.of("alice@corp.example")));
    assertThat(production.roles().getFirst().password().reveal()).isEqualTo("ro-secret");
  }

  @Test
  void withoutTheSectionsOnlyLocalUsersLogInAsTheUpstreamRole() throws Exception {
    WardenConfig config =
        load(
            """
            environments:
              - name: dev
                upstream: { host: 127.0.0.1, user: postgres }
            """);
    assertThat(config.identity()).isEqualTo(IdentityConfig.defaults());
    assertThat(config.tls().clientCertificates()).isEmpty();
    assertThat(config.environments().getFirst().roles()).isEmpty();
    assertThat(
            config
                .environments()
                .getFirst()
                .upstreamFor(
                    new dev.warden.core.identity.Identity(
                        "x", Set.of(), dev.warden.core.identity.AuthMethod.OIDC)))
        .isPresent();
  }

  @Test
  void mistakesAreReportedWithTheirLine() {
    failsAt(
        """
        identity:
          oidc:
            - name: corp
              issuer: http://login.corp.example
              audience: warden
        """,
        4,
        "issuer must use https");
    failsAt(
        """
        identity:
          oidc:
            - name: corp
              audience: warden
        """,
        3,
        "issuer");
    failsAt(
        """
        identity:
          oidc:
            - name: corp
              issuer: https://a.example
              audience: warden
            - name: corp
              issuer: https://b.example
              audience: warden
        """,
        6,
        "duplicate provider name 'corp'");
    failsAt(
        """
        identity:
          oidc:
            - name: corp
              issuer: https://a.example
              audience: warden
              allowed-algorithms: [HS256]
        """,
        3,
        "HS256");
    failsAt(
        """
        identity:
          session-expiry: never
        """,
        2,
        "session-expiry must be when-idle");
    failsAt(
        """
        identity:
          oidc:
            - name: corp
              issuer: https://a.example
              audience: warden
              groups_claim: groups
        """,
        6,
        "groups-claim");
    failsAt(
        """
        tls:
          client-certificates:
            ca: clients-ca.pem
            identity-san: common-name
        """,
        4,
        "identity-san must be email, dns, uri or upn");
    failsAt(
        """
        tls:
          client-certificates:
            required: true
        """,
        2,
        "ca");
    failsAt(
        """
        environments:
          - name: production
            upstream: { host: 127.0.0.1, user: warden }
            roles:
              - user: app_ro
        """,
        5,
        "needs groups or identities");
    failsAt(
        """
        environments:
          - name: production
            upstream: { host: 127.0.0.1, user: warden }
            roles:
              - groups: [analysts]
                user: app_ro
                password: inline-secret
        """,
        7,
        "inline passwords are not allowed");
  }
}
