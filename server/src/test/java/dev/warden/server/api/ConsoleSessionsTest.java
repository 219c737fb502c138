package dev.warden.server.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.core.identity.AuthMethod;
import dev.warden.core.identity.Identity;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Console sessions of people signed in through the identity provider: they carry the identity the
 * token proved and end when the token does, or by the console's own limits if those come first.
 */
class ConsoleSessionsTest {
  private static final Instant START = Instant.parse("2026-11-28T09:00:00Z");

  private final ApprovalFixture.ManualClock clock = new ApprovalFixture.ManualClock(START);
  private final ConsoleSessions sessions =
      new ConsoleSessions(new MemoryUsers(), clock, new SecureRandom());
  private final Identity alice =
      new Identity("alice@corp.example", Set.of("auditors"), AuthMethod.OIDC);

  @Test
  void anExternalSessionEndsWhenItsTokenDoes() {
    ConsoleSessions.Session s = sessions.createExternal(alice, START.plus(Duration.ofMinutes(20)));
    assertThat(sessions.find(s.id))
        .hasValueSatisfying(signed -> assertThat(signed.user()).isEqualTo(alice));
    clock.advance(Duration.ofMinutes(19));
    assertThat(sessions.find(s.id)).isPresent();
    clock.advance(Duration.ofMinutes(1));
    assertThat(sessions.find(s.id)).as("at the token's expiry").isEmpty();
  }

  @Test
  void anExternalSessionAlsoEndsWhenIdleOrOld() {
    ConsoleSessions.Session idle = sessions.createExternal(alice, START.plus(Duration.ofDays(2)));
    clock.advance(ConsoleSessions.IDLE.plusSeconds(1));
    assertThat(sessions.find(idle.id)).isEmpty();

    ConsoleSessions.Session busy = sessions.createExternal(alice, START.plus(Duration.ofDays(2)));
    for (int i = 0; i < 26; i++) {
      clock.advance(Duration.ofMinutes(29));
      sessions.find(busy.id);
    }
    assertThat(sessions.find(busy.id)).as("past the absolute limit").isEmpty();
  }

  @Test
  void aLocalUsersSessionIsLookedUpEachTime() {
    MemoryUsers users = new MemoryUsers().add("bob", "bob pw", "approvers");
    ConsoleSessions local = new ConsoleSessions(users, clock, new SecureRandom());
    ConsoleSessions.Session s = local.create("bob");
    assertThat(local.find(s.id))
        .hasValueSatisfying(
            signed -> assertThat(signed.user().groups()).containsExactly("approvers"));
    users.remove("bob");
    assertThat(local.find(s.id)).isEmpty();
  }
}
