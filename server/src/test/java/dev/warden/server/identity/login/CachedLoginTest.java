package dev.warden.server.identity.login;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warden.testkit.oidc.MockIdentityProvider;
import dev.warden.testkit.oidc.MockUser;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Cached tokens are renewed with the refresh token a minute before they expire. */
@Timeout(60)
class CachedLoginTest {
  private final TestClock clock = new TestClock(Instant.parse("2026-11-01T12:00:00Z"));
  private final MockIdentityProvider idp = MockIdentityProvider.start(clock);
  private final OidcClient oidc = new OidcClient(OidcClient.defaultHttpClient(), clock);
  private final ClientRegistration client =
      new ClientRegistration(
          idp.issuer(), "warden-cli", Optional.empty(), ClientRegistration.DEFAULT_SCOPE);

  @TempDir Path dir;
  private CredentialStore store;
  private Tokens first;

  @BeforeEach
  void logIn() {
    idp.addUser(new MockUser("u-1", "alice@corp.example", "alice", List.of("dba")));
    idp.deviceCodes(Duration.ofMinutes(10), Duration.ofSeconds(5));
    store = new CredentialStore(dir.resolve("credentials.json"));
    DeviceFlow flow =
        new DeviceFlow(
            oidc,
            clock,
            d -> {
              clock.advance(d);
              idp.approveDevice(idp.lastUserCode().orElseThrow(), "u-1");
            });
    first = flow.run(oidc.discover(idp.issuer()), client, d -> {});
    store.save(new LoginProfile("default", client, Optional.empty(), Optional.of(first)));
    idp.resetCounters();
  }

  @AfterEach
  void stop() {
    idp.close();
  }

  private CachedLogin cached() {
    return new CachedLogin(store, oidc, clock);
  }

  @Test
  void aTokenValidForMoreThanAMinuteIsUsedAsItIs() {
    clock.advance(Duration.ofMinutes(3));
    LoginProfile profile = cached().fresh("default", Tokens.Kind.ID);
    assertThat(profile.tokens()).contains(first);
    assertThat(idp.requests(MockIdentityProvider.Endpoint.TOKEN)).isZero();
  }

  @Test
  void aTokenAboutToExpireIsRenewedAndTheRenewalSaved() {
    clock.advance(Duration.ofMinutes(4).plusSeconds(30));
    LoginProfile profile = cached().fresh("default", Tokens.Kind.ID);
    Tokens renewed = profile.tokens().orElseThrow();
    assertThat(renewed.idToken()).isNotEqualTo(first.idToken());
    assertThat(renewed.idTokenExpiresAt()).isEqualTo(clock.instant().plus(Duration.ofMinutes(5)));
    assertThat(renewed.refreshToken()).isPresent().isNotEqualTo(first.refreshToken());
    assertThat(idp.requests(MockIdentityProvider.Endpoint.TOKEN)).isEqualTo(1);
    assertThat(store.load("default").orElseThrow().tokens()).contains(renewed);
    // The renewal is cached: using it again asks the provider nothing.
    cached().fresh("default", Tokens.Kind.ID);
    assertThat(idp.requests(MockIdentityProvider.Endpoint.TOKEN)).isEqualTo(1);
  }

  @Test
  void anExpiredTokenIsRenewedToo() {
    clock.advance(Duration.ofHours(2));
    Tokens renewed = cached().fresh("default", Tokens.Kind.ACCESS).tokens().orElseThrow();
    assertThat(renewed.expiresAt(Tokens.Kind.ACCESS)).isAfter(clock.instant());
  }

  @Test
  void aRevokedRefreshTokenSaysToLogInAgain() {
    idp.revokeRefreshTokens();
    clock.advance(Duration.ofMinutes(10));
    assertThatThrownBy(() -> cached().fresh("default", Tokens.Kind.ID))
        .isInstanceOf(LoginException.class)
        .hasMessage(
            "could not renew your login (the identity provider refused the refresh:"
                + " invalid_grant (unknown or revoked refresh token)); run warden login");
  }

  @Test
  void withoutARefreshTokenAnExpiredLoginSaysToLogInAgain() {
    store.save(
        new LoginProfile(
            "default",
            client,
            Optional.empty(),
            Optional.of(
                new Tokens(
                    first.idToken(),
                    first.accessToken(),
                    Optional.empty(),
                    first.idTokenExpiresAt(),
                    first.accessTokenExpiresAt()))));
    clock.advance(Duration.ofMinutes(10));
    assertThatThrownBy(() -> cached().fresh("default", Tokens.Kind.ID))
        .isInstanceOf(LoginException.class)
        .hasMessageStartingWith("your login expired at ")
        .hasMessageEndingWith("and the provider gave no refresh token; run warden login");
  }

  @Test
  void noLoginSaysToLogIn() {
    assertThatThrownBy(() -> cached().fresh("staging", Tokens.Kind.ID))
        .isInstanceOf(LoginException.class)
        .hasMessage("not logged in (profile staging); run warden login");
  }
}
