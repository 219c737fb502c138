package dev.warden.server.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.core.identity.AuthThrottle;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import org.junit.jupiter.api.Test;

class BasicAuthenticatorTest {
  private final MemoryUsers users =
      new MemoryUsers().add("alice", "s3cret pass", "auditors").add("zoe", "I\u00ADX");
  private final AuthThrottle throttle =
      new AuthThrottle(
          Clock.systemUTC(),
          2,
          Duration.ofMillis(300),
          Duration.ofSeconds(1),
          Duration.ofMinutes(1));
  private final BasicAuthenticator authenticator = new BasicAuthenticator(users, throttle);

  private static String basic(String credentials) {
    return "Basic "
        + Base64.getEncoder().encodeToString(credentials.getBytes(StandardCharsets.UTF_8));
  }

  private BasicAuthenticator.Result auth(String header) throws InterruptedException {
    return authenticator.authenticate(header, "192.0.2.7");
  }

  @Test
  void theRightPasswordAgainstTheStoredVerifier() throws Exception {
    assertThat(auth(basic("alice:s3cret pass")))
        .isInstanceOfSatisfying(
            BasicAuthenticator.Authenticated.class,
            a -> assertThat(a.identity().name()).isEqualTo("alice"));
    // A colon belongs to the password, not the name.
    users.add("bob", "a:b:c");
    assertThat(auth(basic("bob:a:b:c"))).isInstanceOf(BasicAuthenticator.Authenticated.class);
  }

  @Test
  void passwordsAreSaslPreppedAsPostgresDoes() throws Exception {
    // U+00AD (soft hyphen) maps to nothing in SASLprep: "IX" is the same password.
    assertThat(auth(basic("zoe:IX"))).isInstanceOf(BasicAuthenticator.Authenticated.class);
    assertThat(auth(basic("zoe:I\u00ADX"))).isInstanceOf(BasicAuthenticator.Authenticated.class);
    assertThat(auth(basic("zoe:IY"))).isInstanceOf(BasicAuthenticator.Refused.class);
  }

  @Test
  void failuresSayWhyForTheTrail() throws Exception {
    assertThat(auth(basic("alice:nope")))
        .isEqualTo(new BasicAuthenticator.Refused("alice", "wrong password"));
    assertThat(auth(basic("nobody:nope")))
        .isEqualTo(new BasicAuthenticator.Refused("nobody", "unknown user"));
    assertThat(auth(basic("alice:")))
        .isEqualTo(new BasicAuthenticator.Refused("alice", "empty password"));
    assertThat(auth(basic("no-colon")))
        .isEqualTo(new BasicAuthenticator.Refused("", "malformed Basic credentials"));
    assertThat(auth("Basic !!!not-base64"))
        .isEqualTo(new BasicAuthenticator.Refused("", "malformed Basic credentials"));
    assertThat(auth("Basic " + "A".repeat(5000)))
        .isEqualTo(new BasicAuthenticator.Refused("", "authorization header too long"));
    String longName = "n".repeat(300);
    assertThat(auth(basic(longName + ":x")))
        .isInstanceOfSatisfying(
            BasicAuthenticator.Refused.class,
            r -> assertThat(r.claimed()).hasSize(128).endsWith("..."));
  }

  @Test
  void noBasicHeaderIsNotAnAttempt() throws Exception {
    assertThat(auth(null)).isInstanceOf(BasicAuthenticator.Missing.class);
    assertThat(auth("")).isInstanceOf(BasicAuthenticator.Missing.class);
    assertThat(auth("Bearer abc")).isInstanceOf(BasicAuthenticator.Missing.class);
  }

  @Test
  void repeatedFailuresAreHeldBackEvenWhenTheNextAttemptIsRight() throws Exception {
    auth(basic("alice:guess1"));
    auth(basic("alice:guess2"));
    long start = System.nanoTime();
    BasicAuthenticator.Result result = auth(basic("alice:s3cret pass"));
    long elapsed = System.nanoTime() - start;
    assertThat(result).isInstanceOf(BasicAuthenticator.Authenticated.class);
    assertThat(Duration.ofNanos(elapsed)).isGreaterThanOrEqualTo(Duration.ofMillis(300));
    // Success clears the pair; another source was never slowed.
    long again = System.nanoTime();
    authenticator.authenticate(basic("alice:s3cret pass"), "192.0.2.7");
    assertThat(Duration.ofNanos(System.nanoTime() - again)).isLessThan(Duration.ofMillis(300));
  }
}
