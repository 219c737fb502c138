package dev.warden.core.identity;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.warden.core.identity.AuthenticationFailure.Reason;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.Base64;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class ScramServerTest {
  private static final Pattern SERVER_FIRST =
      Pattern.compile("r=([!-+\\--~]+),s=([A-Za-z0-9+/]{22}==),i=([0-9]+)");

  private final SecureRandom random = new SecureRandom();
  private final InMemoryUsers users = new InMemoryUsers();
  private ScramServer server;

  @BeforeEach
  void setUp() {
    users.put(
        new LocalUser(
            "alice@corp.example",
            Set.of("dba", "oncall"),
            ScramCredentials.derive(Secret.of("correct horse"), random, 4096),
            Instant.parse("2026-01-01T00:00:00Z")));
    server = new ScramServer(users, Secret.of("mock-key-for-tests"), random);
  }

  @Test
  void clientWithTheRightPasswordLogsInAsTheLocalUser() throws Exception {
    ScramClient client = new ScramClient(Secret.of("correct horse"), random);
    ScramServer.Exchange exchange = server.begin("alice@corp.example");

    byte[] serverFirst = exchange.clientFirst(client.clientFirstMessage());
    ScramServer.Success success = exchange.clientFinal(client.clientFinalMessage(serverFirst));
    client.verifyServerFinal(success.serverFinalMessage());

    assertThat(client.isComplete()).isTrue();
    assertThat(success.identity())
        .isEqualTo(
            new Identity("alice@corp.example", Set.of("dba", "oncall"), AuthMethod.SCRAM_SHA_256));
  }

  @Test
  void nameInClientFirstIsIgnoredInFavourOfTheLoginName() throws Exception {
    String nonce = "abcdefghijklmnop";
    ScramServer.Exchange exchange = server.begin("alice@corp.example");
    byte[] serverFirst = exchange.clientFirst(("n,,n=mallory,r=" + nonce).getBytes(UTF_8));

    ScramServer.Success success =
        exchange.clientFinal(
            finalMessage("correct horse", "n,,", "n=mallory,r=" + nonce, serverFirst));

    assertThat(success.identity().name()).isEqualTo("alice@corp.example");
  }

  @Test
  void clientThatSupportsButDoesNotUseChannelBindingIsAccepted() throws Exception {
    String nonce = "yflagnonce";
    ScramServer.Exchange exchange = server.begin("alice@corp.example");
    byte[] serverFirst = exchange.clientFirst(("y,,n=,r=" + nonce).getBytes(UTF_8));

    ScramServer.Success success =
        exchange.clientFinal(finalMessage("correct horse", "y,,", "n=,r=" + nonce, serverFirst));

    assertThat(success.identity().name()).isEqualTo("alice@corp.example");
  }

  @Test
  void channelBindingMustRepeatTheGs2HeaderOfTheFirstMessage() throws Exception {
    String nonce = "yflagnonce";
    ScramServer.Exchange exchange = server.begin("alice@corp.example");
    byte[] serverFirst = exchange.clientFirst(("y,,n=,r=" + nonce).getBytes(UTF_8));

    // The client claimed "y" and now binds "n": a downgrade marker must not be dropped silently.
    assertFailure(
        () ->
            exchange.clientFinal(
                finalMessage("correct horse", "n,,", "n=,r=" + nonce, serverFirst)),
        Reason.MALFORMED_MESSAGE);
  }

  @Test
  void wrongPasswordFailsAtClientFinalAsBadPassword() throws Exception {
    ScramClient client = new ScramClient(Secret.of("wrong horse"), random);
    ScramServer.Exchange exchange = server.begin("alice@corp.example");
    byte[] serverFirst = exchange.clientFirst(client.clientFirstMessage());
    byte[] clientFinal = client.clientFinalMessage(serverFirst);

    assertFailure(() -> exchange.clientFinal(clientFinal), Reason.BAD_PASSWORD);
  }

  @Test
  void unknownUserGetsAServerFirstOfTheSameShapeAndFailsOnlyAtClientFinal() throws Exception {
    byte[] known = server.begin("alice@corp.example").clientFirst(clientFirst("nonceA"));
    ScramServer.Exchange unknownExchange = server.begin("bob@corp.example");
    byte[] unknown = unknownExchange.clientFirst(clientFirst("nonceA"));

    Matcher k = matchServerFirst(known);
    Matcher u = matchServerFirst(unknown);
    assertThat(u.group(1)).startsWith("nonceA").hasSameSizeAs(k.group(1));
    assertThat(u.group(2)).hasSameSizeAs(k.group(2)).isNotEqualTo(k.group(2));
    assertThat(u.group(3)).isEqualTo(k.group(3)).isEqualTo("4096");

    ScramClient client = new ScramClient(Secret.of("correct horse"), random);
    ScramServer.Exchange exchange = server.begin("bob@corp.example");
    byte[] serverFirst = exchange.clientFirst(client.clientFirstMessage());
    byte[] clientFinal = client.clientFinalMessage(serverFirst);
    assertFailure(() -> exchange.clientFinal(clientFinal), Reason.UNKNOWN_USER);
  }

  @Test
  void unknownUserAndWrongPasswordFailIdenticallyApartFromTheAuditReason() throws Exception {
    AuthenticationFailure unknown = failedLogin("bob@corp.example", "correct horse");
    AuthenticationFailure wrong = failedLogin("alice@corp.example", "wrong horse");

    assertThat(unknown.reason()).isEqualTo(Reason.UNKNOWN_USER);
    assertThat(wrong.reason()).isEqualTo(Reason.BAD_PASSWORD);
    assertThat(unknown.getClass()).isEqualTo(wrong.getClass());
    assertThat(unknown.getMessage()).doesNotContain("horse").doesNotContain("bob");
  }

  @Test
  void unknownUserSaltIsStableAcrossAttemptsAndDiffersPerNameAndKey() throws Exception {
    String first = salt(server, "bob@corp.example");
    String again = salt(server, "bob@corp.example");
    String other = salt(server, "carol@corp.example");
    ScramServer otherKey = new ScramServer(users, Secret.of("another mock key"), random);

    assertThat(again).isEqualTo(first);
    assertThat(other).isNotEqualTo(first);
    assertThat(salt(otherKey, "bob@corp.example")).isNotEqualTo(first);
  }

  @Test
  void knownUserSaltIsTheStoredOne() throws Exception {
    byte[] stored = users.find("alice@corp.example").orElseThrow().credential().salt();

    assertThat(salt(server, "alice@corp.example"))
        .isEqualTo(Base64.getEncoder().encodeToString(stored));
  }

  static Stream<Arguments> malformedClientFirst() {
    return Stream.of(
        Arguments.of("", Reason.MALFORMED_MESSAGE),
        Arguments.of("n,,n=", Reason.MALFORMED_MESSAGE),
        Arguments.of("n,,r=abc", Reason.MALFORMED_MESSAGE),
        Arguments.of("x,,n=,r=abc", Reason.MALFORMED_MESSAGE),
        Arguments.of("N,,n=,r=abc", Reason.MALFORMED_MESSAGE),
        Arguments.of("n,x,n=,r=abc", Reason.MALFORMED_MESSAGE),
        Arguments.of("n,,r=abc,n=", Reason.MALFORMED_MESSAGE),
        Arguments.of("n,,n=,r=", Reason.MALFORMED_MESSAGE),
        Arguments.of("n,,n=,x=abc", Reason.MALFORMED_MESSAGE),
        Arguments.of("n,,n=,r", Reason.MALFORMED_MESSAGE),
        Arguments.of("n,,n=,r=ab c", Reason.MALFORMED_MESSAGE),
        Arguments.of("n,,n=,r=ab\u00e9", Reason.MALFORMED_MESSAGE),
        Arguments.of("n,,n=,r=ab\u0001", Reason.MALFORMED_MESSAGE),
        Arguments.of("n,,n=a=b,r=abc", Reason.MALFORMED_MESSAGE),
        Arguments.of("n,,n=a=2,r=abc", Reason.MALFORMED_MESSAGE),
        Arguments.of("n,,n=a\u0000b,r=abc", Reason.MALFORMED_MESSAGE),
        Arguments.of("n,,n=,r=" + "a".repeat(257), Reason.MALFORMED_MESSAGE),
        Arguments.of("n,,n=" + "a".repeat(1100) + ",r=abc", Reason.MALFORMED_MESSAGE),
        Arguments.of("p=tls-server-end-point,,n=,r=abc", Reason.UNSUPPORTED),
        Arguments.of("n,a=admin,n=,r=abc", Reason.UNSUPPORTED),
        Arguments.of("n,,m=ext,n=,r=abc", Reason.UNSUPPORTED),
        Arguments.of("n,,n=,r=abc,x=ext", Reason.UNSUPPORTED));
  }

  @ParameterizedTest
  @MethodSource("malformedClientFirst")
  void malformedClientFirstIsRejected(String message, Reason reason) {
    ScramServer.Exchange exchange = server.begin("alice@corp.example");

    assertFailure(() -> exchange.clientFirst(message.getBytes(UTF_8)), reason);
    // A failed exchange is finished: nothing more is accepted on it.
    assertFailure(() -> exchange.clientFirst(clientFirst("abc")), Reason.MALFORMED_MESSAGE);
  }

  @Test
  void clientFirstThatIsNotUtf8IsRejected() {
    byte[] message = {'n', ',', ',', 'n', '=', (byte) 0xC3, ',', 'r', '=', 'a'};

    assertFailure(
        () -> server.begin("alice@corp.example").clientFirst(message), Reason.MALFORMED_MESSAGE);
  }

  @Test
  void nonceOfExactly256PrintableCharactersIsAccepted() throws Exception {
    String nonce = "!#$%&'()*+-./0123456789:;<=>?@[\\]^_`{|}~".repeat(7).substring(0, 256);

    byte[] serverFirst = server.begin("alice@corp.example").clientFirst(clientFirst(nonce));

    assertThat(matchServerFirst(serverFirst).group(1)).startsWith(nonce);
  }

  static Stream<Arguments> malformedClientFinal() {
    return Stream.of(
        Arguments.of("", Reason.MALFORMED_MESSAGE),
        Arguments.of("c=biws", Reason.MALFORMED_MESSAGE),
        Arguments.of("c=biws,r=NONCE", Reason.MALFORMED_MESSAGE),
        Arguments.of("r=NONCE,c=biws,p=PROOF", Reason.MALFORMED_MESSAGE),
        Arguments.of("c=biws,p=PROOF,r=NONCE", Reason.MALFORMED_MESSAGE),
        Arguments.of("c=biws,r=NONCE,x=ext,p=PROOF", Reason.UNSUPPORTED),
        Arguments.of("c=eSws,r=NONCE,p=PROOF", Reason.MALFORMED_MESSAGE),
        Arguments.of("c=biws=,r=NONCE,p=PROOF", Reason.MALFORMED_MESSAGE),
        Arguments.of("c=biw,r=NONCE,p=PROOF", Reason.MALFORMED_MESSAGE),
        Arguments.of("c=,r=NONCE,p=PROOF", Reason.MALFORMED_MESSAGE),
        Arguments.of("c=biws,r=NONCEx,p=PROOF", Reason.MALFORMED_MESSAGE),
        Arguments.of("c=biws,r=clientnonce,p=PROOF", Reason.MALFORMED_MESSAGE),
        Arguments.of("c=biws,r=NONCE,p=", Reason.MALFORMED_MESSAGE),
        Arguments.of("c=biws,r=NONCE,p=AAAA", Reason.MALFORMED_MESSAGE),
        Arguments.of("c=biws,r=NONCE,p=" + "A".repeat(44), Reason.MALFORMED_MESSAGE),
        Arguments.of("c=biws,r=NONCE,p=" + "A".repeat(43) + "=", Reason.BAD_PASSWORD),
        Arguments.of("c=biws,r=NONCE,p=" + "A".repeat(42) + "B=", Reason.MALFORMED_MESSAGE),
        Arguments.of("c=biws,r=NONCE,p=" + "A".repeat(48), Reason.MALFORMED_MESSAGE),
        Arguments.of("c=biws,r=NONCE,p=!!!!", Reason.MALFORMED_MESSAGE),
        Arguments.of("c=biws,r=NONCE,p=PROOF" + "A".repeat(1100), Reason.MALFORMED_MESSAGE));
  }

  @ParameterizedTest
  @MethodSource("malformedClientFinal")
  void malformedClientFinalIsRejected(String template, Reason reason) throws Exception {
    ScramServer.Exchange exchange = server.begin("alice@corp.example");
    byte[] serverFirst = exchange.clientFirst(clientFirst("clientnonce"));
    String nonce = matchServerFirst(serverFirst).group(1);
    String message =
        template
            .replace("NONCE", nonce)
            .replace("PROOF", Base64.getEncoder().encodeToString(new byte[32]));

    assertFailure(() -> exchange.clientFinal(message.getBytes(UTF_8)), reason);
  }

  @Test
  void clientFinalBeforeClientFirstIsRejected() {
    ScramServer.Exchange exchange = server.begin("alice@corp.example");

    assertFailure(
        () -> exchange.clientFinal("c=biws,r=abc,p=AAAA".getBytes(UTF_8)),
        Reason.MALFORMED_MESSAGE);
  }

  @Test
  void exchangeCannotBeReplayedAfterSuccess() throws Exception {
    ScramClient client = new ScramClient(Secret.of("correct horse"), random);
    ScramServer.Exchange exchange = server.begin("alice@corp.example");
    byte[] clientFinal =
        client.clientFinalMessage(exchange.clientFirst(client.clientFirstMessage()));
    exchange.clientFinal(clientFinal);

    assertFailure(() -> exchange.clientFinal(clientFinal), Reason.MALFORMED_MESSAGE);
  }

  @Test
  void replayedProofFailsOnAFreshExchangeBecauseTheServerNonceChanged() throws Exception {
    ScramClient client = new ScramClient(Secret.of("correct horse"), random);
    byte[] clientFirst = client.clientFirstMessage();
    ScramServer.Exchange first = server.begin("alice@corp.example");
    byte[] clientFinal = client.clientFinalMessage(first.clientFirst(clientFirst));
    first.clientFinal(clientFinal);

    ScramServer.Exchange second = server.begin("alice@corp.example");
    second.clientFirst(clientFirst);
    assertFailure(() -> second.clientFinal(clientFinal), Reason.MALFORMED_MESSAGE);
  }

  @Test
  void emptyMockKeyIsRefused() {
    assertThatThrownBy(() -> new ScramServer(users, Secret.of(""), random))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void successDoesNotPrintTheServerSignature() throws Exception {
    ScramClient client = new ScramClient(Secret.of("correct horse"), random);
    ScramServer.Exchange exchange = server.begin("alice@corp.example");
    ScramServer.Success success =
        exchange.clientFinal(
            client.clientFinalMessage(exchange.clientFirst(client.clientFirstMessage())));

    assertThat(success.toString())
        .doesNotContain(new String(success.serverFinalMessage(), UTF_8).substring(2));
  }

  private AuthenticationFailure failedLogin(String user, String password) throws Exception {
    ScramClient client = new ScramClient(Secret.of(password), random);
    ScramServer.Exchange exchange = server.begin(user);
    byte[] clientFinal =
        client.clientFinalMessage(exchange.clientFirst(client.clientFirstMessage()));
    return catchThrowableOfType(
        AuthenticationFailure.class, () -> exchange.clientFinal(clientFinal));
  }

  private static String salt(ScramServer server, String user) throws Exception {
    return matchServerFirst(server.begin(user).clientFirst(clientFirst("abc"))).group(2);
  }

  private static byte[] clientFirst(String nonce) {
    return ("n,,n=,r=" + nonce).getBytes(UTF_8);
  }

  private static Matcher matchServerFirst(byte[] serverFirst) {
    Matcher m = SERVER_FIRST.matcher(new String(serverFirst, UTF_8));
    assertThat(m.matches()).as("server-first shape: %s", m).isTrue();
    return m;
  }

  /**
   * A client-final-message computed by hand from RFC 5802 §3, for headers ScramClient never sends.
   */
  private static byte[] finalMessage(
      String password, String gs2Header, String clientFirstBare, byte[] serverFirst) {
    Matcher m = matchServerFirst(serverFirst);
    byte[] salt = Base64.getDecoder().decode(m.group(2));
    int iterations = Integer.parseInt(m.group(3));
    String withoutProof =
        "c=" + Base64.getEncoder().encodeToString(gs2Header.getBytes(UTF_8)) + ",r=" + m.group(1);
    byte[] authMessage =
        (clientFirstBare + "," + new String(serverFirst, UTF_8) + "," + withoutProof)
            .getBytes(UTF_8);
    byte[] salted = ScramKeys.saltedPassword(password.getBytes(UTF_8), salt, iterations);
    byte[] clientKey = ScramKeys.clientKey(salted);
    byte[] proof =
        ScramKeys.xor(clientKey, ScramKeys.hmac(ScramKeys.sha256(clientKey), authMessage));
    return (withoutProof + ",p=" + Base64.getEncoder().encodeToString(proof)).getBytes(UTF_8);
  }

  private static void assertFailure(ThrowingAction action, Reason reason) {
    assertThatThrownBy(action::run)
        .isInstanceOfSatisfying(
            AuthenticationFailure.class, f -> assertThat(f.reason()).isEqualTo(reason));
  }

  @FunctionalInterface
  interface ThrowingAction {
    void run() throws Exception;
  }
}
