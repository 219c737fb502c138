package dev.warden.store.embedded;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warden.core.audit.AuditEvent;
import dev.warden.core.identity.LocalUser;
import dev.warden.core.identity.ScramCredentials;
import dev.warden.core.identity.Secret;
import dev.warden.core.identity.ServiceToken;
import dev.warden.core.identity.ServiceTokenStore;
import dev.warden.core.identity.ServiceTokenStore.NameTakenException;
import dev.warden.core.identity.ServiceTokens;
import dev.warden.store.ServiceTokenStoreContract;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The service token contract on the SQLite store, and what is particular to it. */
class EmbeddedServiceTokenStoreTest extends ServiceTokenStoreContract {
  @TempDir Path dataDir;

  private final SecureRandom random = new SecureRandom();

  @Override
  protected Handle openHandle() {
    EmbeddedStore store = EmbeddedStore.open(dataDir);
    return new Handle() {
      @Override
      public ServiceTokenStore tokens() {
        return store.serviceTokens();
      }

      @Override
      public void close() {
        store.close();
      }
    };
  }

  private ServiceToken token(String name, Secret secret) {
    return ServiceToken.issue(
        name,
        Set.of("ci"),
        Optional.empty(),
        Instant.parse("2026-01-01T00:00:00Z"),
        Optional.empty(),
        "os:tester",
        ScramCredentials.derive(secret, random, 4096),
        "");
  }

  @Test
  void theFileHoldsTheVerifierButNeverTheToken() throws Exception {
    Secret secret = ServiceTokens.generate(random);
    try (EmbeddedStore store = EmbeddedStore.open(dataDir)) {
      store.serviceTokens().create(token("ci-deploy", secret), ServiceTokenStore.NameCheck.NONE);
    }
    byte[] file = Files.readAllBytes(dataDir.resolve(EmbeddedStore.FILE_NAME));
    String text = new String(file, java.nio.charset.StandardCharsets.ISO_8859_1);
    assertThat(text).contains("ci-deploy").doesNotContain(secret.reveal());
    for (Path p : List.of(dataDir.resolve("warden.db-wal"))) {
      if (Files.exists(p)) {
        assertThat(new String(Files.readAllBytes(p), java.nio.charset.StandardCharsets.ISO_8859_1))
            .doesNotContain(secret.reveal());
      }
    }
  }

  @Test
  void aUsersNameCheckRunsInsideTheTransactionAgainstTheSameFile() {
    try (EmbeddedStore store = EmbeddedStore.open(dataDir)) {
      store
          .users()
          .put(
              new LocalUser(
                  "alice",
                  Set.of(),
                  ScramCredentials.derive(Secret.of("pw"), random, 1),
                  Instant.now()));
      ServiceTokenStore.NameCheck users =
          name ->
              store.users().find(name).isPresent()
                  ? Optional.of("a local user is named " + name)
                  : Optional.empty();
      assertThatThrownBy(
              () ->
                  store
                      .serviceTokens()
                      .create(token("alice", ServiceTokens.generate(random)), users))
          .isInstanceOf(NameTakenException.class)
          .hasMessage("a local user is named alice");
      store.serviceTokens().create(token("ci", ServiceTokens.generate(random)), users);
      assertThat(store.serviceTokens().list()).extracting(ServiceToken::name).containsExactly("ci");
    }
  }

  @Test
  void createAndRevokeAreRecordedForTheAuditTrailButUsesAreNot() {
    Secret secret = ServiceTokens.generate(random);
    try (EmbeddedStore store =
        EmbeddedStore.open(dataDir, "os:tester", java.time.Clock.systemUTC())) {
      store.serviceTokens().create(token("ci-deploy", secret), ServiceTokenStore.NameCheck.NONE);
      store.serviceTokens().revoke("ci-deploy", Instant.now());
      store.serviceTokens().recordUse("ci-deploy", Instant.now());
    }
    try (EmbeddedStore store = EmbeddedStore.open(dataDir)) {
      List<AuditEvent> events =
          store.outbox().pending(100).stream().map(AuditOutbox.Entry::event).toList();
      assertThat(events)
          .extracting(AuditEvent::name)
          .containsExactly("token-create", "token-revoke");
      assertThat(events.get(0).actor()).isEqualTo("os:tester");
      assertThat(events.get(0).details())
          .containsEntry("name", "ci-deploy")
          .containsEntry("groups", "ci")
          .containsEntry("expires", "never");
      assertThat(events.toString()).doesNotContain(secret.reveal());
    }
  }
}
