package dev.warden.core.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warden.core.identity.AuthenticationFailure.Reason;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ServiceTokensTest {
  private static final Instant NOW = Instant.parse("2026-03-01T12:00:00Z");

  private final SecureRandom random = new SecureRandom();
  private final InMemoryServiceTokens store = new InMemoryServiceTokens();
  private final Clock clock = Clock.fixed(NOW, ZoneOffset.UTC);

  private Secret issue(String name, Optional<Instant> expires) {
    Secret token = ServiceTokens.generate(random);
    store.create(
        ServiceToken.issue(
            name,
            Set.of("ci"),
            Optional.of("alice@corp.example"),
            NOW.minus(Duration.ofDays(1)),
            expires,
            "os:tester",
            ScramCredentials.derive(token, random, ScramCredentials.DEFAULT_ITERATIONS),
            "deploys"),
        ServiceTokenStore.NameCheck.NONE);
    return token;
  }

  /** Runs a whole SCRAM exchange and returns its outcome. */
  private Object login(String name, Secret password) throws Exception {
    ScramServer server =
        new ScramServer(
            ScramAccounts.firstOf(
                List.of(
                    ScramAccounts.of(new InMemoryUsers()), ServiceTokens.accounts(store, clock))),
            Secret.of("mock-key"),
            random);
    ScramClient client = new ScramClient(password, random);
    ScramServer.Exchange exchange = server.begin(name);
    byte[] serverFirst = exchange.clientFirst(client.clientFirstMessage());
    try {
      return exchange.clientFinal(client.clientFinalMessage(serverFirst));
    } catch (AuthenticationFailure e) {
      return e.reason();
    }
  }

  @Test
  void generatedTokensHaveThePrefixAnd256RandomBits() {
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < 200; i++) {
      String token = ServiceTokens.generate(random).reveal();
      assertThat(token).startsWith("wdt_").hasSize(47).matches("wdt_[A-Za-z0-9_-]{43}");
      assertThat(ServiceTokens.looksLikeToken(token)).isTrue();
      seen.add(token);
    }
    assertThat(seen).hasSize(200);
  }

  @Test
  void looksLikeTokenRejectsOtherShapes() {
    String good = ServiceTokens.generate(random).reveal();
    assertThat(ServiceTokens.looksLikeToken(null)).isFalse();
    assertThat(ServiceTokens.looksLikeToken("hunter2")).isFalse();
    assertThat(ServiceTokens.looksLikeToken(good.substring(0, 46))).isFalse();
    assertThat(ServiceTokens.looksLikeToken("wdx_" + good.substring(4))).isFalse();
    assertThat(ServiceTokens.looksLikeToken(good.substring(0, 46) + "=")).isFalse();
  }

  @Test
  void aValidTokenLogsInAsItsIdentity() throws Exception {
    Instant expires = NOW.plus(Duration.ofDays(89));
    Secret token = issue("ci-deploy", Optional.of(expires));

    Object outcome = login("ci-deploy", token);

    assertThat(outcome).isInstanceOf(ScramServer.Success.class);
    Identity identity = ((ScramServer.Success) outcome).identity();
    assertThat(identity)
        .isEqualTo(
            new Identity(
                "ci-deploy",
                Set.of("ci"),
                AuthMethod.SERVICE_TOKEN,
                Optional.of("alice@corp.example"),
                Optional.of(expires)));
    assertThat(identity.methodName()).isEqualTo("service-token");
  }

  @Test
  void aWrongTokenIsAWrongPassword() throws Exception {
    issue("ci-deploy", Optional.empty());

    assertThat(login("ci-deploy", ServiceTokens.generate(random))).isEqualTo(Reason.BAD_PASSWORD);
  }

  @Test
  void aRevokedTokenIsRefusedButAWrongOneStillReadsAsAWrongPassword() throws Exception {
    Secret token = issue("ci-deploy", Optional.empty());
    assertThat(store.revoke("ci-deploy", NOW)).isTrue();

    assertThat(login("ci-deploy", token)).isEqualTo(Reason.REVOKED);
    assertThat(login("ci-deploy", ServiceTokens.generate(random))).isEqualTo(Reason.BAD_PASSWORD);
  }

  @Test
  void aTokenExpiresAtItsExpiryInstant() throws Exception {
    Secret atNow = issue("expires-now", Optional.of(NOW));
    Secret later = issue("expires-later", Optional.of(NOW.plusSeconds(1)));

    assertThat(login("expires-now", atNow)).isEqualTo(Reason.EXPIRED);
    assertThat(login("expires-later", later)).isInstanceOf(ScramServer.Success.class);
  }

  @Test
  void revocationWinsOverExpiry() throws Exception {
    Secret token = issue("old", Optional.of(NOW.minusSeconds(60)));
    store.revoke("old", NOW);

    assertThat(login("old", token)).isEqualTo(Reason.REVOKED);
  }

  @Test
  void lookupDoesNotRecordUseButTheRecorderDoesForTokensOnly() throws Exception {
    Secret token = issue("ci-deploy", Optional.empty());
    login("ci-deploy", ServiceTokens.generate(random));
    assertThat(store.find("ci-deploy").orElseThrow().lastUsed()).isEmpty();

    ScramServer.Success success = (ScramServer.Success) login("ci-deploy", token);
    var recorder = ServiceTokens.useRecorder(store, clock);
    recorder.accept(new Identity("ci-deploy", Set.of(), AuthMethod.SCRAM_SHA_256));
    assertThat(store.find("ci-deploy").orElseThrow().lastUsed()).isEmpty();
    recorder.accept(success.identity());
    assertThat(store.find("ci-deploy").orElseThrow().lastUsed()).contains(NOW);
  }

  @Test
  void aTokenRecordRefusesBadValues() {
    var credential = ScramCredentials.derive(Secret.of("x"), random, 1);
    assertThatThrownBy(
            () ->
                ServiceToken.issue(
                    "has space",
                    Set.of(),
                    Optional.empty(),
                    NOW,
                    Optional.empty(),
                    "os:t",
                    credential,
                    ""))
        .hasMessageContaining("token name");
    assertThatThrownBy(
            () ->
                ServiceToken.issue(
                    "ok",
                    Set.of("a,b"),
                    Optional.empty(),
                    NOW,
                    Optional.empty(),
                    "os:t",
                    credential,
                    ""))
        .hasMessageContaining("group name");
    assertThatThrownBy(
            () ->
                ServiceToken.issue(
                    "ok",
                    Set.of(),
                    Optional.of("bob\nfake"),
                    NOW,
                    Optional.empty(),
                    "os:t",
                    credential,
                    ""))
        .hasMessageContaining("on-behalf-of");
    assertThatThrownBy(
            () ->
                ServiceToken.issue(
                    "ok",
                    Set.of(),
                    Optional.empty(),
                    NOW,
                    Optional.empty(),
                    "os:t",
                    credential,
                    "line\nforged"))
        .hasMessageContaining("description may not contain control");
    assertThatThrownBy(
            () ->
                ServiceToken.issue(
                    "ok",
                    Set.of(),
                    Optional.empty(),
                    NOW,
                    Optional.empty(),
                    "os:t",
                    credential,
                    "x".repeat(201)))
        .hasMessageContaining("at most 200");
    assertThatThrownBy(
            () ->
                ServiceToken.issue(
                    "ok",
                    Set.of(),
                    Optional.empty(),
                    NOW,
                    Optional.of(NOW),
                    "os:t",
                    credential,
                    ""))
        .hasMessageContaining("expire");
  }

  @Test
  void theTokenRecordNeverPrintsItsVerifier() {
    var credential = ScramCredentials.derive(Secret.of("x"), random, 1);
    ServiceToken t =
        ServiceToken.issue(
            "ok", Set.of(), Optional.empty(), NOW, Optional.empty(), "os:t", credential, "");
    assertThat(t.toString()).contains("keys redacted");
  }
}
