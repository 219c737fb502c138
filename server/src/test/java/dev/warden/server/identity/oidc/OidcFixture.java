package dev.warden.server.identity.oidc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.warden.core.identity.AuthenticationFailure;
import dev.warden.core.identity.Identity;
import dev.warden.testkit.oidc.MockIdentityProvider;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;

/** A mock provider, a clock they share, and a verifier trusting the provider. */
final class OidcFixture implements AutoCloseable {
  final MutableClock clock = new MutableClock(Instant.parse("2026-03-01T10:00:00Z"));
  final MockIdentityProvider idp = MockIdentityProvider.start(clock);
  final OidcProviderSettings settings;
  final OidcVerifier verifier;

  OidcFixture() {
    this(b -> b);
  }

  OidcFixture(UnaryOperator<OidcProviderSettings.Builder> configure) {
    settings =
        configure
            .apply(
                OidcProviderSettings.builder("test", idp.issuer(), List.of("warden"))
                    .clientId("warden-cli"))
            .build();
    verifier = new OidcVerifier(List.of(settings), clock);
  }

  Identity accept(String user, String token) {
    try {
      return verifier.verify(user, token).get(30, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      throw new AssertionError("token refused: " + e.getCause().getMessage(), e.getCause());
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  /** The failure, which must be an AuthenticationFailure that never quotes the token (AU08). */
  AuthenticationFailure refuse(String user, String token) {
    Throwable thrown = catchThrowable(() -> verifier.verify(user, token).get(30, TimeUnit.SECONDS));
    assertThat(thrown).as("the token should be refused").isInstanceOf(ExecutionException.class);
    assertThat(thrown.getCause()).isInstanceOf(AuthenticationFailure.class);
    AuthenticationFailure failure = (AuthenticationFailure) thrown.getCause();
    assertNoTokenIn(failure.getMessage(), token);
    return failure;
  }

  static void assertNoTokenIn(String text, String token) {
    if (token == null || token.length() < 8) {
      return;
    }
    assertThat(text).doesNotContain(token);
    for (String part : token.split("\\.")) {
      if (part.length() >= 8) {
        assertThat(text).as("a part of the token leaked").doesNotContain(part);
      }
    }
  }

  @Override
  public void close() throws Exception {
    verifier.close();
    idp.close();
  }
}
