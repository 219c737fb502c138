package dev.warden.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warden.core.identity.ScramCredentials;
import dev.warden.core.identity.Secret;
import dev.warden.core.identity.ServiceToken;
import dev.warden.core.identity.ServiceTokenStore;
import dev.warden.core.identity.ServiceTokenStore.NameCheck;
import dev.warden.core.identity.ServiceTokenStore.NameTakenException;
import dev.warden.core.identity.ServiceTokens;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * The contract every {@link ServiceTokenStore} passes: the embedded SQLite store now, the shared
 * PostgreSQL store later. A subclass says how to open a handle on the store under test.
 */
public abstract class ServiceTokenStoreContract {
  private static final Instant CREATED = Instant.parse("2026-02-03T04:05:06.123456789Z");

  /** An open store; closing it writes pending last uses and releases its connections. */
  public interface Handle extends AutoCloseable {
    ServiceTokenStore tokens();

    @Override
    void close();
  }

  /**
   * Opens a new handle on the store under test. Within one test every handle reaches the same data,
   * as two processes sharing the store would; each test starts with an empty store.
   */
  protected abstract Handle openHandle();

  private final SecureRandom random = new SecureRandom();

  private ServiceToken token(String name, Optional<Instant> expires) {
    return ServiceToken.issue(
        name,
        Set.of("ci", "deploy"),
        Optional.of("alice@corp.example"),
        CREATED,
        expires,
        "os:tester",
        ScramCredentials.derive(ServiceTokens.generate(random), random, 4096),
        "deploys the web app — nightly");
  }

  @Test
  void newStoreHasNoTokens() {
    try (Handle h = openHandle()) {
      assertThat(h.tokens().list()).isEmpty();
      assertThat(h.tokens().find("ci-deploy")).isEmpty();
    }
  }

  @Test
  void createStoresEveryFieldExactly() {
    ServiceToken ci = token("ci-deploy", Optional.of(CREATED.plus(Duration.ofDays(90))));
    ServiceToken bare =
        ServiceToken.issue(
            "agent@corp.example",
            Set.of(),
            Optional.empty(),
            CREATED,
            Optional.empty(),
            "os:root",
            ScramCredentials.derive(Secret.of("x"), random, 1),
            "");
    try (Handle h = openHandle()) {
      h.tokens().create(ci, NameCheck.NONE);
      h.tokens().create(bare, NameCheck.NONE);
    }
    try (Handle h = openHandle()) {
      assertThat(h.tokens().find("ci-deploy")).contains(ci);
      assertThat(h.tokens().find("agent@corp.example")).contains(bare);
      assertThat(h.tokens().find("ci-deploy").orElseThrow().created()).isEqualTo(CREATED);
      assertThat(h.tokens().list()).containsExactly(bare, ci);
    }
  }

  @Test
  void namesAreExactAndCaseSensitive() {
    try (Handle h = openHandle()) {
      h.tokens().create(token("CI", Optional.empty()), NameCheck.NONE);
      assertThat(h.tokens().find("ci")).isEmpty();
      assertThat(h.tokens().find("CI ")).isEmpty();
      assertThat(h.tokens().find("")).isEmpty();
      assertThat(h.tokens().find("CI' OR '1'='1")).isEmpty();
    }
  }

  @Test
  void aNameIsNeverIssuedTwiceEvenAfterRevocation() {
    try (Handle h = openHandle()) {
      ServiceToken first = token("ci-deploy", Optional.empty());
      h.tokens().create(first, NameCheck.NONE);
      assertThatThrownBy(
              () -> h.tokens().create(token("ci-deploy", Optional.empty()), NameCheck.NONE))
          .isInstanceOf(NameTakenException.class)
          .hasMessage("a service token named ci-deploy already exists");
      h.tokens().revoke("ci-deploy", CREATED.plusSeconds(5));
      assertThatThrownBy(
              () -> h.tokens().create(token("ci-deploy", Optional.empty()), NameCheck.NONE))
          .isInstanceOf(NameTakenException.class)
          .hasMessageContaining("revoked");
      assertThat(h.tokens().find("ci-deploy").orElseThrow().credential())
          .isEqualTo(first.credential());
    }
  }

  @Test
  void theCallersNameCheckRefusesAndNothingIsStored() {
    try (Handle h = openHandle()) {
      List<String> asked = new ArrayList<>();
      NameCheck users =
          name -> {
            asked.add(name);
            return name.equals("alice")
                ? Optional.of("a local user is named alice")
                : Optional.empty();
          };
      assertThatThrownBy(() -> h.tokens().create(token("alice", Optional.empty()), users))
          .isInstanceOf(NameTakenException.class)
          .hasMessage("a local user is named alice");
      assertThat(h.tokens().find("alice")).isEmpty();
      h.tokens().create(token("bob", Optional.empty()), users);
      assertThat(asked).containsExactly("alice", "bob");
      assertThat(h.tokens().list()).extracting(ServiceToken::name).containsExactly("bob");
    }
  }

  @Test
  void revokeMarksTheTokenOnceAndKeepsItListed() {
    Instant first = CREATED.plus(Duration.ofHours(1));
    try (Handle h = openHandle()) {
      h.tokens().create(token("ci-deploy", Optional.empty()), NameCheck.NONE);
      assertThat(h.tokens().revoke("ci-deploy", first)).isTrue();
      assertThat(h.tokens().revoke("ci-deploy", first.plusSeconds(60))).isFalse();
      assertThat(h.tokens().revoke("nobody", first)).isFalse();
      assertThat(h.tokens().revoke("not a name", first)).isFalse();
    }
    try (Handle h = openHandle()) {
      ServiceToken t = h.tokens().find("ci-deploy").orElseThrow();
      assertThat(t.revoked()).contains(first);
      assertThat(h.tokens().list()).containsExactly(t);
    }
  }

  @Test
  void aRevocationByAnotherHandleIsSeenAtOnce() {
    try (Handle server = openHandle();
        Handle cli = openHandle()) {
      server.tokens().create(token("ci-deploy", Optional.empty()), NameCheck.NONE);
      assertThat(server.tokens().find("ci-deploy").orElseThrow().revoked()).isEmpty();
      cli.tokens().revoke("ci-deploy", CREATED.plusSeconds(1));
      assertThat(server.tokens().find("ci-deploy").orElseThrow().revoked())
          .contains(CREATED.plusSeconds(1));
    }
  }

  @Test
  void recordUseReturnsAtOnceAndIsWrittenInTheBackground() throws Exception {
    Instant used = CREATED.plus(Duration.ofDays(1));
    try (Handle h = openHandle()) {
      h.tokens().create(token("ci-deploy", Optional.empty()), NameCheck.NONE);
      h.tokens().recordUse("ci-deploy", used);
      awaitValue(() -> h.tokens().find("ci-deploy").orElseThrow().lastUsed(), Optional.of(used));
    }
  }

  @Test
  void closingWritesTheUsesNotedSoFar() {
    Instant used = CREATED.plus(Duration.ofDays(1));
    try (Handle h = openHandle()) {
      h.tokens().create(token("a", Optional.empty()), NameCheck.NONE);
      h.tokens().create(token("b", Optional.empty()), NameCheck.NONE);
      h.tokens().recordUse("a", used);
      h.tokens().recordUse("b", used.plusSeconds(1));
    }
    try (Handle h = openHandle()) {
      assertThat(h.tokens().find("a").orElseThrow().lastUsed()).contains(used);
      assertThat(h.tokens().find("b").orElseThrow().lastUsed()).contains(used.plusSeconds(1));
    }
  }

  @Test
  void usesWithinAMinuteAreCoalescedAndLastUseNeverGoesBack() throws Exception {
    Instant used = CREATED.plus(Duration.ofDays(1));
    try (Handle h = openHandle()) {
      h.tokens().create(token("ci-deploy", Optional.empty()), NameCheck.NONE);
      h.tokens().recordUse("ci-deploy", used);
      Supplier<Optional<Instant>> lastUsed =
          () -> h.tokens().find("ci-deploy").orElseThrow().lastUsed();
      awaitValue(lastUsed, Optional.of(used));
      h.tokens().recordUse("ci-deploy", used.minus(Duration.ofHours(1)));
      h.tokens().recordUse("ci-deploy", used.plusSeconds(30));
      Instant later = used.plus(Duration.ofMinutes(2));
      h.tokens().recordUse("ci-deploy", later);
      awaitValue(lastUsed, Optional.of(later));
    }
    try (Handle h = openHandle()) {
      // A second handle (another server) whose use is older does not move it back either.
      h.tokens().recordUse("ci-deploy", CREATED);
    }
    try (Handle h = openHandle()) {
      assertThat(h.tokens().find("ci-deploy").orElseThrow().lastUsed())
          .contains(used.plus(Duration.ofMinutes(2)));
    }
  }

  @Test
  void recordUseOfAnUnknownOrInvalidNameIsIgnored() {
    try (Handle h = openHandle()) {
      h.tokens().recordUse("nobody", CREATED);
      h.tokens().recordUse("not a name", CREATED);
    }
    try (Handle h = openHandle()) {
      assertThat(h.tokens().list()).isEmpty();
    }
  }

  @Test
  void concurrentCreatesOfOneNameLetExactlyOneThrough() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try (Handle h = openHandle()) {
      List<Future<Boolean>> results = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        ServiceToken t = token("racy", Optional.empty());
        results.add(
            pool.submit(
                () -> {
                  try {
                    h.tokens().create(t, NameCheck.NONE);
                    return true;
                  } catch (NameTakenException e) {
                    return false;
                  }
                }));
      }
      int created = 0;
      for (Future<Boolean> f : results) {
        created += f.get() ? 1 : 0;
      }
      assertThat(created).isEqualTo(1);
    } finally {
      pool.shutdownNow();
    }
  }

  /** Polls until {@code actual} gives {@code expected}; the timeout only stops a hang. */
  private static <T> void awaitValue(Supplier<T> actual, T expected) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (!actual.get().equals(expected)) {
      assertThat(System.nanoTime()).as("waiting for %s", expected).isLessThan(deadline);
      Thread.sleep(5);
    }
  }
}
