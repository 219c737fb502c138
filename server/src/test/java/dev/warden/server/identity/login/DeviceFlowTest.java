package dev.warden.server.identity.login;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warden.testkit.oidc.MockIdentityProvider;
import dev.warden.testkit.oidc.MockUser;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** RFC 8628 against the in-test provider; time moves only when the flow sleeps. */
@Timeout(60)
class DeviceFlowTest {
  private final TestClock clock = new TestClock(Instant.parse("2026-11-01T12:00:00Z"));
  private final MockIdentityProvider idp = MockIdentityProvider.start(clock);
  private final OidcClient oidc = new OidcClient(OidcClient.defaultHttpClient(), clock);
  private final List<Duration> sleeps = new ArrayList<>();
  private final AtomicReference<DeviceAuthorization> shown = new AtomicReference<>();
  private final ClientRegistration client =
      new ClientRegistration(
          idp.issuer(), "warden-cli", Optional.empty(), ClientRegistration.DEFAULT_SCOPE);

  DeviceFlowTest() {
    idp.addUser(new MockUser("u-1", "alice@corp.example", "alice", List.of("dba")));
  }

  @AfterEach
  void stop() {
    idp.close();
  }

  private Tokens run(DeviceFlow.Sleeper sleeper) {
    DeviceFlow flow = new DeviceFlow(oidc, clock, sleeper);
    return flow.run(oidc.discover(idp.issuer()), client, shown::set);
  }

  @Test
  void theCodeIsShownAndTokensComeOnceTheUserApproves() {
    Tokens tokens =
        run(
            d -> {
              sleeps.add(d);
              clock.advance(d);
              if (sleeps.size() == 2) {
                idp.approveDevice(shown.get().userCode(), "u-1");
              }
            });
    assertThat(shown.get().userCode()).isEqualTo(idp.lastUserCode().orElseThrow());
    assertThat(shown.get().verificationUri().getPath()).isEqualTo("/device");
    // Polled at the provider's 5 s interval: pending once, then issued.
    assertThat(sleeps).containsExactly(Duration.ofSeconds(5), Duration.ofSeconds(5));
    TokenClaims claims = TokenClaims.of(tokens.idToken());
    assertThat(claims.userName()).isEqualTo("alice@corp.example");
    assertThat(claims.audience()).containsExactly("warden-cli");
    assertThat(tokens.refreshToken()).isPresent();
    assertThat(tokens.idTokenExpiresAt()).isEqualTo(clock.instant().plus(Duration.ofMinutes(5)));
  }

  @Test
  void slowDownAddsFiveSecondsToTheInterval() {
    Tokens tokens =
        run(
            d -> {
              sleeps.add(d);
              // The second wait is cut short, so the second poll comes too early.
              clock.advance(sleeps.size() == 2 ? Duration.ofSeconds(1) : d);
              if (sleeps.size() == 3) {
                idp.approveDevice(shown.get().userCode(), "u-1");
              }
            });
    assertThat(sleeps)
        .containsExactly(Duration.ofSeconds(5), Duration.ofSeconds(5), Duration.ofSeconds(10));
    assertThat(TokenClaims.of(tokens.idToken()).subject()).isEqualTo("u-1");
  }

  @Test
  void aDeniedRequestSaysSo() {
    assertThatThrownBy(
            () ->
                run(
                    d -> {
                      clock.advance(d);
                      idp.denyDevice(shown.get().userCode());
                    }))
        .isInstanceOf(LoginException.class)
        .hasMessage("the sign-in was denied at the identity provider");
  }

  @Test
  void anExpiredDeviceCodeAtTheProviderSaysToLogInAgain() {
    idp.deviceCodes(Duration.ofSeconds(12), Duration.ofSeconds(5));
    // The flow's own clock stands still, so it is the provider that says expired_token.
    DeviceFlow flow =
        new DeviceFlow(
            oidc,
            Clock.fixed(clock.instant(), ZoneOffset.UTC),
            d -> {
              sleeps.add(d);
              clock.advance(d);
            });
    assertThatThrownBy(() -> flow.run(oidc.discover(idp.issuer()), client, shown::set))
        .isInstanceOf(LoginException.class)
        .hasMessage(
            "the device code expired before the sign-in was approved; run warden login again");
    assertThat(sleeps).hasSize(3);
  }

  @Test
  void theFlowStopsPollingWhenTheCodeHasExpired() {
    idp.deviceCodes(Duration.ofSeconds(12), Duration.ofSeconds(5));
    assertThatThrownBy(
            () ->
                run(
                    d -> {
                      sleeps.add(d);
                      clock.advance(d);
                    }))
        .isInstanceOf(LoginException.class)
        .hasMessageStartingWith("the device code expired");
    // Polls at 5 s and 10 s; at 15 s the code has expired and no third poll is made.
    assertThat(sleeps).hasSize(3);
    assertThat(idp.requests(MockIdentityProvider.Endpoint.TOKEN)).isEqualTo(2);
  }
}
