package dev.warden.server.identity.login;

import dev.warden.core.identity.Secret;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * A provider's answer to a device authorization request (RFC 8628 §3.2): the code the person types
 * at the verification page, and the device code the command line polls with.
 *
 * @param deviceCode the device code, a credential kept out of output
 * @param userCode the code the person enters
 * @param verificationUri the page where they enter it
 * @param verificationUriComplete the page with the code filled in, when the provider offers one
 * @param expiresAt when the codes expire
 * @param interval how long to wait between polls
 */
public record DeviceAuthorization(
    Secret deviceCode,
    String userCode,
    URI verificationUri,
    Optional<URI> verificationUriComplete,
    Instant expiresAt,
    Duration interval) {
  public DeviceAuthorization {
    Objects.requireNonNull(deviceCode, "deviceCode");
    Objects.requireNonNull(userCode, "userCode");
    Objects.requireNonNull(verificationUri, "verificationUri");
    Objects.requireNonNull(verificationUriComplete, "verificationUriComplete");
    Objects.requireNonNull(expiresAt, "expiresAt");
    Objects.requireNonNull(interval, "interval");
  }
}
