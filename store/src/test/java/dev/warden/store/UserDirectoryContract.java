package dev.warden.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warden.core.identity.LocalUser;
import dev.warden.core.identity.ScramCredential;
import dev.warden.core.identity.ScramCredentials;
import dev.warden.core.identity.Secret;
import dev.warden.core.identity.UserDirectory;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The contract every {@link UserDirectory} store passes: the embedded SQLite store now, the shared
 * PostgreSQL store later. A subclass says how to open a handle on the store under test.
 */
public abstract class UserDirectoryContract {
  private static final Instant CREATED = Instant.parse("2026-02-03T04:05:06.123456789Z");

  /** An open store; closing it releases its connections but keeps its data. */
  public interface Handle extends AutoCloseable {
    UserDirectory users();

    @Override
    void close();
  }

  /**
   * Opens a new handle on the store under test. Within one test every handle reaches the same data,
   * as two processes sharing the store would; each test starts with an empty store.
   */
  protected abstract Handle openHandle();

  private final SecureRandom random = new SecureRandom();

  @Test
  void newStoreHasNoUsers() {
    try (Handle h = openHandle()) {
      assertThat(h.users().list()).isEmpty();
      assertThat(h.users().find("alice")).isEmpty();
    }
  }

  @Test
  void putCreatesAUserThatFindReturnsExactly() {
    try (Handle h = openHandle()) {
      LocalUser alice = user("alice@corp.example", Set.of("dba", "oncall"));

      assertThat(h.users().put(alice)).isTrue();

      LocalUser found = h.users().find("alice@corp.example").orElseThrow();
      assertThat(found).isEqualTo(alice);
      assertThat(found.created()).isEqualTo(CREATED);
      assertThat(found.credential().salt()).isEqualTo(alice.credential().salt());
    }
  }

  @Test
  void userWithoutGroupsRoundTrips() {
    try (Handle h = openHandle()) {
      h.users().put(user("svc-report", Set.of()));

      assertThat(h.users().find("svc-report").orElseThrow().groups()).isEmpty();
    }
  }

  @Test
  void putOfAnExistingUserReplacesCredentialAndGroupsAndKeepsCreated() {
    try (Handle h = openHandle()) {
      h.users().put(user("alice", Set.of("dba")));
      ScramCredential newCredential = credential("new password");

      boolean created =
          h.users()
              .put(
                  new LocalUser(
                      "alice", Set.of("readers"), newCredential, CREATED.plusSeconds(3600)));

      assertThat(created).isFalse();
      LocalUser found = h.users().find("alice").orElseThrow();
      assertThat(found.credential()).isEqualTo(newCredential);
      assertThat(found.groups()).containsExactly("readers");
      assertThat(found.created()).isEqualTo(CREATED);
      assertThat(h.users().list()).hasSize(1);
    }
  }

  @Test
  void listIsOrderedByName() {
    try (Handle h = openHandle()) {
      for (String name : List.of("carol", "Bob", "alice", "alice.b", "alice+x", "0day")) {
        h.users().put(user(name, Set.of()));
      }

      assertThat(h.users().list())
          .extracting(LocalUser::name)
          .containsExactly("0day", "Bob", "alice", "alice+x", "alice.b", "carol");
    }
  }

  @Test
  void removeDeletesAndReportsWhetherThereWasAUser() {
    try (Handle h = openHandle()) {
      h.users().put(user("alice", Set.of()));
      h.users().put(user("bob", Set.of()));

      assertThat(h.users().remove("alice")).isTrue();
      assertThat(h.users().remove("alice")).isFalse();
      assertThat(h.users().remove("nobody")).isFalse();
      assertThat(h.users().find("alice")).isEmpty();
      assertThat(h.users().list()).extracting(LocalUser::name).containsExactly("bob");
    }
  }

  @Test
  void findMatchesTheExactNameOnly() {
    try (Handle h = openHandle()) {
      h.users().put(user("alice", Set.of()));

      assertThat(h.users().find("Alice")).isEmpty();
      assertThat(h.users().find("alic")).isEmpty();
      assertThat(h.users().find("alice ")).isEmpty();
      assertThat(h.users().find("ali%")).isEmpty();
      assertThat(h.users().find("ali_e")).isEmpty();
      assertThat(h.users().find("alice")).isPresent();
    }
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "",
        "has space",
        "comma,name",
        "quote'name",
        "semi;colon",
        "line\nbreak",
        "host=evil",
        "caf\u00e9",
        "x234567890123456789012345678901234567890123456789012345678901234"
      })
  void invalidNamesAreRefusedOnPutAndAbsentOtherwise(String name) {
    try (Handle h = openHandle()) {
      assertThatThrownBy(() -> h.users().put(user(name, Set.of())))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("user name");
      assertThat(h.users().find(name)).isEmpty();
      assertThat(h.users().remove(name)).isFalse();
      assertThat(h.users().list()).isEmpty();
    }
  }

  @Test
  void longestValidNameIsAccepted() {
    String name = "a".repeat(63);
    try (Handle h = openHandle()) {
      h.users().put(user(name, Set.of()));

      assertThat(h.users().find(name)).isPresent();
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "a,b", "has space", "caf\u00e9"})
  void invalidGroupNamesAreRefused(String group) {
    try (Handle h = openHandle()) {
      assertThatThrownBy(() -> h.users().put(user("alice", Set.of("ok", group))))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("group name");
      assertThat(h.users().find("alice")).isEmpty();
    }
  }

  @Test
  void usersPersistAcrossReopening() {
    LocalUser alice = user("alice", Set.of("dba"));
    try (Handle h = openHandle()) {
      h.users().put(alice);
    }

    try (Handle h = openHandle()) {
      assertThat(h.users().find("alice")).contains(alice);
    }
  }

  @Test
  void aSecondHandleSeesWritesAtOnce() {
    try (Handle a = openHandle();
        Handle b = openHandle()) {
      a.users().put(user("alice", Set.of()));
      assertThat(b.users().find("alice")).isPresent();

      b.users().remove("alice");
      assertThat(a.users().find("alice")).isEmpty();
    }
  }

  @Test
  void twoHandlesWritingConcurrentlyLoseNothing() throws Exception {
    int threadsPerHandle = 3;
    int usersPerThread = 15;
    try (Handle a = openHandle();
        Handle b = openHandle();
        ExecutorService pool = Executors.newFixedThreadPool(2 * threadsPerHandle)) {
      a.users().put(user("shared", Set.of("v0")));
      CountDownLatch start = new CountDownLatch(1);
      List<Future<?>> futures = new ArrayList<>();
      for (int t = 0; t < 2 * threadsPerHandle; t++) {
        UserDirectory users = (t % 2 == 0 ? a : b).users();
        int thread = t;
        futures.add(
            pool.submit(
                () -> {
                  start.await();
                  for (int i = 0; i < usersPerThread; i++) {
                    users.put(user("u" + thread + "-" + i, Set.of("g" + thread)));
                    users.put(user("shared", Set.of("v" + thread)));
                    users.find("shared").orElseThrow();
                    users.list();
                  }
                  return null;
                }));
      }
      start.countDown();
      for (Future<?> f : futures) {
        f.get();
      }

      assertThat(a.users().list()).hasSize(1 + 2 * threadsPerHandle * usersPerThread);
      assertThat(b.users().list()).isEqualTo(a.users().list());
      assertThat(a.users().find("shared").orElseThrow().groups()).hasSize(1);
    }
  }

  protected final LocalUser user(String name, Set<String> groups) {
    return new LocalUser(name, groups, credential("pw-" + name), CREATED);
  }

  private ScramCredential credential(String password) {
    // One iteration keeps the suite fast; the count is stored and compared like any other.
    return ScramCredentials.derive(Secret.of(password), random, 1);
  }
}
