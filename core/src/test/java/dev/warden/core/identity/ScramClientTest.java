package dev.warden.core.identity;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warden.core.identity.AuthenticationFailure.Reason;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/** ScramClient against a hostile upstream (THREATS P15) and against ScramServer. */
class ScramClientTest {
  private static final String CLIENT_NONCE = "clientNonceAAAAAAAAAAAAA";
  private static final String SALT = Base64.getEncoder().encodeToString(new byte[16]);

  private final SecureRandom random = new SecureRandom();

  @Test
  void firstMessageIsWhatPostgresExpects() {
    String first = new String(new ScramClient(Secret.of("pw"), random).clientFirstMessage(), UTF_8);

    assertThat(first).matches("n,,n=,r=[A-Za-z0-9+/]{24}");
  }

  @Test
  void eachClientUsesAFreshNonce() {
    String a = new String(new ScramClient(Secret.of("pw"), random).clientFirstMessage(), UTF_8);
    String b = new String(new ScramClient(Secret.of("pw"), random).clientFirstMessage(), UTF_8);

    assertThat(a).isNotEqualTo(b);
  }

  @Test
  void acceptsAWellFormedServerFirst() throws Exception {
    ScramClient client = started();

    byte[] clientFinal = client.clientFinalMessage(serverFirst(CLIENT_NONCE + "srv", SALT, "4096"));

    assertThat(new String(clientFinal, UTF_8))
        .matches("c=biws,r=" + CLIENT_NONCE + "srv,p=[A-Za-z0-9+/]{43}=");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "2147483647", // THREATS P15, CVE-2026-6669: 2^31 - 1 rounds would pin a core for hours
        "2147483648",
        "4294967296",
        "9999999999",
        "99999999999",
        "100001",
        "0",
        "-1",
        "+4096",
        "04096",
        "4096 ",
        "4e3",
        "",
        "0x1000"
      })
  void iterationCountOutsideOneToTheCapIsRejectedBeforeAnyWork(String iterations) {
    ScramClient client = started();

    assertRejectedWithin(
        Duration.ofSeconds(2),
        () -> client.clientFinalMessage(serverFirst(CLIENT_NONCE + "s", SALT, iterations)));
  }

  @Test
  void iterationCapIsConfigurable() throws Exception {
    ScramClient strict = new ScramClient(Secret.of("pw"), "", () -> CLIENT_NONCE, 1000);
    strict.clientFirstMessage();

    assertRejected(() -> strict.clientFinalMessage(serverFirst(CLIENT_NONCE + "s", SALT, "4096")));

    ScramClient lenient = new ScramClient(Secret.of("pw"), "", () -> CLIENT_NONCE, 4096);
    lenient.clientFirstMessage();
    assertThat(lenient.clientFinalMessage(serverFirst(CLIENT_NONCE + "s", SALT, "4096")))
        .isNotEmpty();
  }

  static Stream<String> badNonces() {
    return Stream.of(
        "someoneElsesNonceAAAAAAAAAAAAAA", // does not extend ours
        CLIENT_NONCE, // extends ours by nothing: the server added no freshness
        CLIENT_NONCE.substring(1) + "xyz",
        CLIENT_NONCE + "x".repeat(256 - CLIENT_NONCE.length() + 1), // 257 characters
        CLIENT_NONCE + "has space",
        CLIENT_NONCE + "\u00e9",
        "");
  }

  @ParameterizedTest
  @MethodSource("badNonces")
  void badServerNonceIsRejected(String nonce) {
    ScramClient client = started();

    assertRejected(() -> client.clientFinalMessage(serverFirst(nonce, SALT, "4096")));
  }

  @Test
  void hugeServerFirstIsRejectedBeforeDecoding() {
    ScramClient client = started();
    // THREATS P15, CVE-2026-6665: a 100 KB nonce.
    String nonce = CLIENT_NONCE + "x".repeat(100_000);

    assertRejected(() -> client.clientFinalMessage(serverFirst(nonce, SALT, "4096")));
  }

  @Test
  void nonceOfExactly256CharactersIsAccepted() throws Exception {
    ScramClient client = started();
    String nonce = CLIENT_NONCE + "x".repeat(256 - CLIENT_NONCE.length());

    assertThat(client.clientFinalMessage(serverFirst(nonce, SALT, "4096"))).isNotEmpty();
  }

  static Stream<String> badSalts() {
    return Stream.of(
        "",
        "!!!!",
        "AAAA=",
        "AAA",
        "AAB=", // stray low bits: not canonical
        Base64.getEncoder().encodeToString(new byte[65]));
  }

  @ParameterizedTest
  @MethodSource("badSalts")
  void badSaltIsRejected(String salt) {
    ScramClient client = started();

    assertRejected(() -> client.clientFinalMessage(serverFirst(CLIENT_NONCE + "s", salt, "4096")));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "",
        "e=other-error",
        "e=invalid-encoding\n\u001b[31mINJECTED",
        "m=mandatory,r=NONCE,s=SALT,i=4096",
        "r=NONCE,s=SALT",
        "r=NONCE,i=4096,s=SALT",
        "s=SALT,r=NONCE,i=4096",
        "r=NONCE,s=SALT,i=4096,x=extension",
        "r=NONCE,s=SALT,i=4096,",
        "r=NONCE,,s=SALT,i=4096",
        "r=NONCE,s=SALT,i",
        "R=NONCE,s=SALT,i=4096"
      })
  void malformedServerFirstIsRejected(String template) {
    ScramClient client = started();
    String message = template.replace("NONCE", CLIENT_NONCE + "s").replace("SALT", SALT);

    assertRejected(() -> client.clientFinalMessage(message.getBytes(UTF_8)));
  }

  @Test
  void serverErrorIsReportedWithoutRelayingItsText() {
    ScramClient client = started();

    assertThatThrownBy(
            () -> client.clientFinalMessage("e=invalid-proof\r\nFAKE LOG LINE".getBytes(UTF_8)))
        .isInstanceOf(AuthenticationFailure.class)
        .hasMessageNotContaining("\n")
        .hasMessageNotContaining("\r");
  }

  @Test
  void serverFirstThatIsNotUtf8IsRejected() {
    ScramClient client = started();
    byte[] message = ("r=" + CLIENT_NONCE + "s,s=" + SALT + ",i=4096").getBytes(UTF_8);
    message[message.length - 1] = (byte) 0xFF;

    assertRejected(() -> client.clientFinalMessage(message));
  }

  @Test
  void serverFinalWithTheRightSignatureCompletesTheExchange() throws Exception {
    InMemoryUsers users = new InMemoryUsers();
    users.put(
        new LocalUser(
            "u",
            java.util.Set.of(),
            ScramCredentials.derive(Secret.of("pw"), random, 4096),
            java.time.Instant.EPOCH));
    ScramServer.Exchange exchange = new ScramServer(users, Secret.of("k"), random).begin("u");
    ScramClient client = new ScramClient(Secret.of("pw"), random);
    byte[] clientFinal =
        client.clientFinalMessage(exchange.clientFirst(client.clientFirstMessage()));
    byte[] serverFinal = exchange.clientFinal(clientFinal).serverFinalMessage();

    assertThat(client.isComplete()).isFalse();
    client.verifyServerFinal(serverFinal);
    assertThat(client.isComplete()).isTrue();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "v=" + "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", // well-formed, wrong signature
        "v=",
        "v=AAAA",
        "v=!!!",
        "e=invalid-proof",
        "e=",
        "",
        "x=abc",
        "v=SIG,x=ext",
        "v=SIG,"
      })
  void badServerFinalIsRejected(String template) throws Exception {
    ScramClient client = started();
    client.clientFinalMessage(serverFirst(CLIENT_NONCE + "s", SALT, "4096"));
    String message = template.replace("SIG", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");

    assertRejected(() -> client.verifyServerFinal(message.getBytes(UTF_8)));
    assertThat(client.isComplete()).isFalse();
  }

  @Test
  void serverFinalLongerThanTheBoundIsRejected() throws Exception {
    ScramClient client = started();
    client.clientFinalMessage(serverFirst(CLIENT_NONCE + "s", SALT, "4096"));

    assertRejected(() -> client.verifyServerFinal(("v=" + "A".repeat(5000)).getBytes(UTF_8)));
  }

  @Test
  void messagesOutOfSequenceAreRejected() throws Exception {
    ScramClient fresh = new ScramClient(Secret.of("pw"), random);
    assertRejected(() -> fresh.clientFinalMessage(serverFirst("x", SALT, "4096")));

    ScramClient early = started();
    assertRejected(() -> early.verifyServerFinal("v=AAAA".getBytes(UTF_8)));
  }

  @Test
  void clientFirstCanOnlyBeProducedOnce() {
    ScramClient client = started();

    assertThatThrownBy(client::clientFirstMessage).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void failedExchangeStaysFailed() throws Exception {
    ScramClient client = started();
    assertRejected(() -> client.clientFinalMessage(serverFirst("wrong", SALT, "4096")));

    assertRejected(() -> client.clientFinalMessage(serverFirst(CLIENT_NONCE + "s", SALT, "4096")));
  }

  @Test
  void emptyPasswordIsRefused() {
    assertThatThrownBy(() -> new ScramClient(Secret.of(""), random))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void toStringRevealsNothing() {
    assertThat(new ScramClient(Secret.of("hunter2"), random).toString()).doesNotContain("hunter2");
  }

  private static ScramClient started() {
    ScramClient client =
        new ScramClient(Secret.of("pw"), "", () -> CLIENT_NONCE, ScramClient.MAX_ITERATIONS);
    client.clientFirstMessage();
    return client;
  }

  private static byte[] serverFirst(String nonce, String salt, String iterations) {
    return ("r=" + nonce + ",s=" + salt + ",i=" + iterations).getBytes(UTF_8);
  }

  private static void assertRejected(ScramServerTest.ThrowingAction action) {
    assertThatThrownBy(action::run)
        .isInstanceOfSatisfying(
            AuthenticationFailure.class,
            f -> assertThat(f.reason()).isEqualTo(Reason.UPSTREAM_REJECTED));
  }

  private static void assertRejectedWithin(Duration limit, ScramServerTest.ThrowingAction action) {
    long start = System.nanoTime();
    assertRejected(action);
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(limit);
  }
}
