package dev.warden.store.embedded;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warden.core.identity.LocalUser;
import dev.warden.core.identity.ScramCredentials;
import dev.warden.core.identity.Secret;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * User changes leave an outbox entry in the same transaction, naming who made them and never
 * holding a credential; entries survive a restart until delivered.
 */
class AuditOutboxTest {
  @TempDir Path dataDir;

  private static final Instant NOW = Instant.parse("2026-11-27T10:00:00Z");

  private static LocalUser user(String name, Set<String> groups) {
    return new LocalUser(
        name,
        groups,
        ScramCredentials.derive(Secret.of("canary-pw-4e1f"), new SecureRandom(), 1),
        NOW);
  }

  @Test
  void everyUserChangeIsWaitingForTheTrailUntilDelivered() {
    Clock clock = Clock.fixed(NOW, ZoneOffset.UTC);
    try (EmbeddedStore store = EmbeddedStore.open(dataDir, "os:operator", clock)) {
      store.users().put(user("alice", Set.of("engineers", "approvers")));
      store.users().put(user("alice", Set.of("engineers")));
      store.users().remove("alice");
      assertThat(store.users().remove("nobody")).isFalse();
    }
    try (EmbeddedStore store = EmbeddedStore.open(dataDir)) {
      List<AuditOutbox.Entry> pending = store.outbox().pending(10);
      assertThat(pending)
          .extracting(e -> e.event().name())
          .containsExactly("user-add", "user-update", "user-remove");
      assertThat(pending.getFirst().event().actor()).isEqualTo("os:operator");
      assertThat(pending.getFirst().event().time()).isEqualTo(NOW);
      assertThat(pending.getFirst().event().details())
          .isEqualTo(Map.of("name", "alice", "groups", "approvers,engineers"));
      assertThat(pending.toString()).doesNotContain("canary-pw-4e1f");
      store.outbox().delivered(pending.get(1).id());
      assertThat(store.outbox().pending(10))
          .extracting(e -> e.event().name())
          .containsExactly("user-remove");
    }
  }

  @Test
  void aRefusedChangeLeavesNoEntry() {
    try (EmbeddedStore store = EmbeddedStore.open(dataDir)) {
      assertThatThrownBy(() -> store.users().put(user("bad,name", Set.of())))
          .isInstanceOf(IllegalArgumentException.class);
      assertThat(store.outbox().pending(10)).isEmpty();
    }
  }

  @Test
  void detailsSurviveAnyCharacters() {
    Map<String, String> odd = Map.of("k=1", "a%3D\nb=c\r%", "plain", "");
    assertThat(AuditOutbox.decode(AuditOutbox.encode(odd))).isEqualTo(odd);
  }
}
