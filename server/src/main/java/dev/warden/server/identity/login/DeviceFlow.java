package dev.warden.server.identity.login;

import java.time.Clock;
import java.time.Duration;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * The OAuth 2.0 device authorization grant (RFC 8628), for terminals without a browser: the person
 * opens the verification page on any device and enters the code shown, while this polls the token
 * endpoint at the interval the provider asks for.
 */
public final class DeviceFlow {
  /** RFC 8628 §3.5: each {@code slow_down} adds five seconds to the polling interval. */
  static final Duration SLOW_DOWN_STEP = Duration.ofSeconds(5);

  /** Never poll faster than this, whatever the provider says. */
  static final Duration MIN_INTERVAL = Duration.ofSeconds(1);

  /** Waits between polls; tests pass one that does not sleep. */
  @FunctionalInterface
  public interface Sleeper {
    void sleep(Duration duration) throws InterruptedException;
  }

  private final OidcClient oidc;
  private final Clock clock;
  private final Sleeper sleeper;

  public DeviceFlow(OidcClient oidc, Clock clock, Sleeper sleeper) {
    this.oidc = Objects.requireNonNull(oidc, "oidc");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.sleeper = Objects.requireNonNull(sleeper, "sleeper");
  }

  /**
   * Runs the flow: asks for a code, hands it to {@code show} to tell the person, and polls until
   * the provider issues tokens.
   *
   * @throws LoginException when the person denies access, the code expires or the provider fails
   */
  public Tokens run(
      ProviderMetadata provider, ClientRegistration client, Consumer<DeviceAuthorization> show) {
    DeviceAuthorization device = oidc.authorizeDevice(provider, client);
    show.accept(device);
    Duration interval = max(device.interval(), MIN_INTERVAL);
    while (true) {
      try {
        sleeper.sleep(interval);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new LoginException("interrupted while waiting for the sign-in", e);
      }
      // A code past its expires_in is dead (RFC 8628 §3.2); polling it again only earns the
      // same error from the provider.
      if (!clock.instant().isBefore(device.expiresAt())) {
        throw expired();
      }
      switch (oidc.pollDevice(provider, client, device)) {
        case OidcClient.TokenAnswer.Issued issued -> {
          return issued.tokens();
        }
        case OidcClient.TokenAnswer.Refused refused -> {
          switch (refused.error()) {
            case "authorization_pending" -> {}
            case "slow_down" -> interval = interval.plus(SLOW_DOWN_STEP);
            case "access_denied" ->
                throw new LoginException("the sign-in was denied at the identity provider");
            case "expired_token" -> throw expired();
            default ->
                throw new LoginException(
                    "the identity provider refused the device login: "
                        + refused.error()
                        + (refused.description().isEmpty()
                            ? ""
                            : " (" + refused.description() + ")"));
          }
        }
      }
    }
  }

  private static LoginException expired() {
    return new LoginException(
        "the device code expired before the sign-in was approved; run warden login again");
  }

  private static Duration max(Duration a, Duration b) {
    return a.compareTo(b) >= 0 ? a : b;
  }
}
