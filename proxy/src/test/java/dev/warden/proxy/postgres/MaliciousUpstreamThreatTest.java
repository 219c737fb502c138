package dev.warden.proxy.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.core.environment.Environment;
import dev.warden.core.environment.Environments;
import dev.warden.core.environment.TlsMode;
import dev.warden.core.environment.Upstream;
import dev.warden.core.gate.Gatekeeper;
import dev.warden.core.identity.AuthThrottle;
import dev.warden.core.identity.ScramServer;
import dev.warden.core.identity.Secret;
import dev.warden.testkit.FakeUpstream;
import dev.warden.testkit.FakeUpstream.SaslFlaw;
import dev.warden.testkit.Packets;
import dev.warden.testkit.RawWire;
import dev.warden.testkit.RecordingAuditTrail;
import dev.warden.testkit.Scram;
import dev.warden.testkit.WireMessage;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Warden as the client of a hostile upstream (THREATS T03, T04, P14, P15), played by {@link
 * FakeUpstream}. In every case the client gets a clean FATAL 08006 with Warden's own words and
 * nothing of what the upstream said (a canary planted in the upstream's text is looked for in every
 * byte the client receives), the upstream's record shows that Warden stopped where it had to, and a
 * bystander session on the real PostgreSQL, opened before the attack, goes on working, as does a
 * new one.
 */
class MaliciousUpstreamThreatTest {
  private static final Duration T = Duration.ofSeconds(5);
  private static final String DATABASE = "warden_t_evil_" + hex(6);
  private static final String EVIL = "evil";
  private static final String UPSTREAM_SECRET = "upstream-" + hex(6);
  private static final String CANARY = "canary" + hex(8);

  static final InMemoryUsers users =
      new InMemoryUsers().add(ProxyFixture.USER, ProxyFixture.PASSWORD);

  @BeforeAll
  static void createDatabase() {
    ProxyFixture.admin("CREATE DATABASE " + DATABASE);
  }

  @AfterAll
  static void dropDatabase() {
    ProxyFixture.admin("DROP DATABASE IF EXISTS " + DATABASE + " WITH (FORCE)");
  }

  // T03, T04: the TLS answer

  @Test
  void t03BytesAfterTheUpstreamsTlsYesAbortTheLoginBeforeAnyCredentialIsSent() throws Exception {
    byte[] smuggled = Packets.concat(new byte[] {'S'}, Packets.authenticationOk());
    try (Rig rig = new Rig(FakeUpstream.answerSslRequest(smuggled), TlsMode.REQUIRE)) {
      List<WireMessage> seen = rig.loginToEvil();

      assertCleanFatal(seen, "TLS");
      FakeUpstream.Connection c = rig.upstreamConnection();
      assertThat(c.received()).isEqualTo(Packets.sslRequest());
      rig.assertStillServing();
    }
  }

  @Test
  void t04UpstreamErrorInsteadOfTlsAnswerIsNeverRelayed() throws Exception {
    byte[] error =
        Packets.errorResponse(
            Map.of('S', "FATAL", 'C', "XX000", 'M', CANARY + " " + "x".repeat(20_000)));
    try (Rig rig = new Rig(FakeUpstream.answerSslRequest(error), TlsMode.REQUIRE)) {
      List<WireMessage> seen = rig.loginToEvil();

      assertCleanFatal(seen, "TLS");
      assertThat(rig.upstreamConnection().received()).isEqualTo(Packets.sslRequest());
      rig.assertStillServing();
    }
  }

  // P15: SCRAM against a hostile upstream

  @Test
  void p15CorrectUpstreamScramLogsInAndItsCanaryIsVisible() throws Exception {
    // Control: the same rig with an honest server gets through, and the canary check can fail.
    try (Rig rig =
        new Rig(
            FakeUpstream.scram(
                UPSTREAM_SECRET, SaslFlaw.NONE, CANARY, FakeUpstream.answerQueries()),
            TlsMode.DISABLE)) {
      try (RawWire wire = rig.connect()) {
        RawWire.Session session = wire.login(evilLogin(), ProxyFixture.PASSWORD);
        assertThat(session.parameter("application_name")).isEqualTo(CANARY);
        wire.write(Packets.query("SELECT 1"));
        assertThat(wire.readThrough('Z', T))
            .extracting(WireMessage::kind)
            .containsExactly('C', 'Z');
      }
    }
  }

  @Test
  void p15HugeIterationCountIsRefusedWithoutDoingTheWork() throws Exception {
    assertScramAborted(SaslFlaw.HUGE_ITERATIONS, false);
  }

  @Test
  void p15HugeNonceIsRefused() throws Exception {
    assertScramAborted(SaslFlaw.HUGE_NONCE, false);
  }

  @Test
  void p15NonceThatDoesNotExtendWardensIsRefused() throws Exception {
    assertScramAborted(SaslFlaw.NONCE_NOT_EXTENDING, false);
  }

  @Test
  void p15BadServerSignatureIsRefused() throws Exception {
    assertScramAborted(SaslFlaw.BAD_SERVER_SIGNATURE, true);
  }

  @Test
  void p15ServerThatSkipsItsProofIsRefused() throws Exception {
    // A server that answers the client's proof with AuthenticationOk has not shown that it knows
    // the password: ScramClient's contract says the caller must not accept that.
    assertScramAborted(SaslFlaw.SKIP_SERVER_FINAL, true);
  }

  private void assertScramAborted(SaslFlaw flaw, boolean proofSent) throws Exception {
    try (Rig rig =
        new Rig(
            FakeUpstream.scram(UPSTREAM_SECRET, flaw, CANARY, FakeUpstream.answerQueries()),
            TlsMode.DISABLE)) {
      long start = System.nanoTime();
      List<WireMessage> seen = rig.loginToEvil();

      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(3));
      assertCleanFatal(seen, "");
      FakeUpstream.Connection c = rig.upstreamConnection();
      assertThat(c.awaitFinished(T)).isTrue();
      assertThat(c.closedByPeer()).isTrue();
      // What Warden sent: its StartupMessage, the SASL initial response, and the proof only when
      // the server's first message was acceptable; never anything after.
      List<Character> sent = typesAfterStartup(c.received());
      assertThat(sent).containsExactlyElementsOf(proofSent ? List.of('p', 'p') : List.of('p'));
      rig.assertStillServing();
    }
  }

  // P14: hostile messages during the upstream login

  @Test
  void p14ErrorResponseWithoutSqlstateAtLoginGivesAGenericError() throws Exception {
    assertLoginAborted(Packets.errorResponse(Map.of('S', "FATAL", 'M', CANARY)));
  }

  @Test
  void p14DataRowOf2To31BytesAtLoginIsRefused() throws Exception {
    assertLoginAborted(Packets.typedWithLength('D', 0x8000_0000L, new byte[] {0, 1}));
  }

  @Test
  void p14RowDescriptionClaiming65535FieldsAtLoginIsRefused() throws Exception {
    assertLoginAborted(Packets.typed('T', Packets.body().int16(0xFFFF).toByteArray()));
  }

  @Test
  void p14UnknownMessageTypeAtLoginIsRefused() throws Exception {
    assertLoginAborted(Packets.typed('x', CANARY.getBytes(StandardCharsets.UTF_8)));
  }

  @Test
  void p14ParameterStatusFloodAtLoginIsBounded() throws Exception {
    // A server that never finishes its login but keeps sending ParameterStatus must not make
    // Warden buffer all of it for the client until the login deadline.
    byte[] status = Packets.parameterStatus("flood", CANARY + "y".repeat(60_000));
    byte[] chunk = Packets.concat(status, status, status, status, status, status, status, status);
    long cap = 512L << 20;
    FakeUpstream.Script flood =
        c -> {
          c.readStartupPacket(T);
          c.write(Packets.authenticationOk());
          while (c.written() < cap) {
            c.write(chunk);
          }
        };
    try (Rig rig = new Rig(flood, TlsMode.DISABLE, s -> withLoginDeadline(s, 4));
        ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
      Future<List<WireMessage>> login = pool.submit(rig::loginToEvil);
      Thread.sleep(2_000);
      FakeUpstream.Connection c = rig.upstreamConnection();
      long atTwoSeconds = c.written();
      Thread.sleep(1_000);
      long atThreeSeconds = c.written();

      assertThat(c.closedByPeer() || atThreeSeconds == atTwoSeconds)
          .as(
              "Warden either dropped the flooding upstream or stopped reading it; it accepted"
                  + " %d bytes by 2 s and %d by 3 s",
              atTwoSeconds, atThreeSeconds)
          .isTrue();
      assertCleanFatal(login.get(), "");
      rig.assertStillServing();
    }
  }

  private void assertLoginAborted(byte[] hostile) throws Exception {
    FakeUpstream.Script script =
        c -> {
          c.readStartupPacket(T);
          c.write(Packets.authenticationOk(), hostile, FakeUpstream.greeting());
        };
    try (Rig rig = new Rig(script, TlsMode.DISABLE)) {
      List<WireMessage> seen = rig.loginToEvil();

      assertCleanFatal(seen, "");
      FakeUpstream.Connection c = rig.upstreamConnection();
      assertThat(c.awaitFinished(T)).isTrue();
      assertThat(c.closedByPeer()).isTrue();
      assertThat(typesAfterStartup(c.received())).isEmpty();
      rig.assertStillServing();
    }
  }

  // P14: hostile messages in an established session

  @Test
  void p14DataRowOf2To31BytesInASessionEndsItCleanly() throws Exception {
    assertSessionEnded(Packets.typedWithLength('D', 0x8000_0000L, new byte[] {0, 1}));
  }

  @Test
  void p14UnknownMessageTypeInASessionEndsItCleanly() throws Exception {
    assertSessionEnded(Packets.typed('x', CANARY.getBytes(StandardCharsets.UTF_8)));
  }

  @Test
  void p14ReadyForQueryOfTheWrongLengthInASessionEndsItCleanly() throws Exception {
    assertSessionEnded(Packets.typed('Z', new byte[] {'I', 'I'}));
  }

  private void assertSessionEnded(byte[] hostile) throws Exception {
    FakeUpstream.Script script =
        FakeUpstream.trust(
            c -> {
              c.readMessage(T);
              c.write(hostile);
            });
    try (Rig rig = new Rig(script, TlsMode.DISABLE)) {
      try (RawWire wire = rig.connect()) {
        wire.login(evilLogin(), ProxyFixture.PASSWORD);
        wire.write(Packets.query("SELECT 1"));
        RawWire.Drained d = wire.drain(T);

        // In a session the upstream broke the protocol, and the client is told so (08P01).
        assertCleanFatal(d.messages(), "08P01", "the upstream database sent a message it refuses");
        assertThat(d.closed()).isTrue();
      }
      FakeUpstream.Connection c = rig.upstreamConnection();
      assertThat(c.awaitFinished(T)).isTrue();
      assertThat(c.closedByPeer()).isTrue();
      rig.assertStillServing();
    }
  }

  @Test
  void p14OddButWellFramedMessagesInASessionAreRelayedVerbatimAndTheSessionGoesOn()
      throws Exception {
    // Warden reads only headers on the way back (it has no masking yet), so a RowDescription that
    // claims 65535 fields in two bytes, or an ErrorResponse without SQLSTATE, is the client's to
    // judge; Warden must pass it unchanged and keep both legs in step.
    byte[] lyingRowDescription = Packets.typed('T', Packets.body().int16(0xFFFF).toByteArray());
    byte[] errorWithoutState = Packets.errorResponse(Map.of('S', "ERROR", 'M', "no state"));
    FakeUpstream.Script script =
        FakeUpstream.trust(
            c -> {
              c.readMessage(T);
              c.write(lyingRowDescription, Packets.commandComplete("SELECT 0"), ready());
              c.readMessage(T);
              c.write(errorWithoutState, ready());
              FakeUpstream.answerQueries().run(c);
            });
    try (Rig rig = new Rig(script, TlsMode.DISABLE);
        RawWire wire = rig.connect()) {
      wire.login(evilLogin(), ProxyFixture.PASSWORD);
      wire.write(Packets.query("SELECT a"));
      List<WireMessage> first = wire.readThrough('Z', T);
      wire.write(Packets.query("SELECT b"));
      List<WireMessage> second = wire.readThrough('Z', T);
      wire.write(Packets.query("SELECT c"));
      List<WireMessage> third = wire.readThrough('Z', T);

      assertThat(first.getFirst().bytes()).isEqualTo(lyingRowDescription);
      assertThat(second.getFirst().bytes()).isEqualTo(errorWithoutState);
      assertThat(third).extracting(WireMessage::kind).containsExactly('C', 'Z');
      rig.assertStillServing();
    }
  }

  @Test
  void p14ParameterStatusFloodToAClientThatDoesNotReadIsHeldBackByBackpressure() throws Exception {
    byte[] status = Packets.parameterStatus("flood", "y".repeat(60_000));
    byte[] chunk = Packets.concat(status, status, status, status, status, status, status, status);
    FakeUpstream.Script script =
        FakeUpstream.trust(
            c -> {
              c.readMessage(T);
              while (c.written() < 256L << 20) {
                c.write(chunk);
              }
            });
    try (Rig rig = new Rig(script, TlsMode.DISABLE)) {
      FakeUpstream.Connection c;
      try (RawWire wire = rig.connect()) {
        wire.login(evilLogin(), ProxyFixture.PASSWORD);
        wire.write(Packets.query("SELECT 1"));
        c = rig.upstreamConnection();
        Thread.sleep(2_000);
        long afterTwoSeconds = c.written();
        Thread.sleep(500);

        assertThat(c.written()).as("the upstream is stalled").isEqualTo(afterTwoSeconds);
        assertThat(afterTwoSeconds).as("bytes in flight").isLessThan(32L << 20);
      }
      assertThat(c.awaitFinished(T)).as("closing the client closes the upstream").isTrue();
      rig.assertStillServing();
    }
  }

  // helpers

  /**
   * The proxy, a hostile upstream for database {@code evil}, and the real PostgreSQL for the rest.
   */
  private static final class Rig implements AutoCloseable {
    final FakeUpstream fake;
    final PostgresProxy proxy;
    final Connection bystander;

    Rig(FakeUpstream.Script script, TlsMode tls) throws Exception {
      this(script, tls, s -> s);
    }

    Rig(FakeUpstream.Script script, TlsMode tls, UnaryOperator<ProxySettings> settings)
        throws Exception {
      fake = FakeUpstream.start(script);
      Upstream hostile =
          new Upstream(
              "127.0.0.1",
              fake.port(),
              Optional.empty(),
              "warden",
              Secret.of(UPSTREAM_SECRET),
              tls,
              Optional.empty());
      Upstream real =
          new Upstream(
              ProxyFixture.PG_HOST,
              ProxyFixture.PG_PORT,
              Optional.empty(),
              ProxyFixture.PG_USER,
              Secret.of(""),
              TlsMode.DISABLE,
              Optional.empty());
      proxy =
          new PostgresProxy(
              // A scripted upstream answers only what its script says: no catalogue query.
              settings.apply(
                  ProxySettings.defaults(new InetSocketAddress("127.0.0.1", 0))
                      .withCatalogues(false)),
              new Environments(
                  List.of(
                      new Environment(EVIL, Set.of(), List.of(EVIL), hostile),
                      new Environment("real", Set.of(), List.of(Environment.ANY_DATABASE), real))),
              new ScramServer(users, Secret.of("mock-key-for-tests"), new SecureRandom()),
              new AuthThrottle(Clock.systemUTC()),
              Gatekeeper.allowAll(),
              new ProxyAudit(new RecordingAuditTrail(), false, Clock.systemUTC()));
      proxy.start();
      bystander = DriverManager.getConnection(realUrl(), credentials());
      assertThat(selectOne(bystander)).isEqualTo(1);
    }

    RawWire connect() throws Exception {
      return RawWire.connect(new InetSocketAddress("127.0.0.1", proxy.address().getPort()));
    }

    /** Logs in as alice to the hostile environment; returns all the client received. */
    List<WireMessage> loginToEvil() throws Exception {
      List<WireMessage> seen = new ArrayList<>();
      try (RawWire wire = connect()) {
        wire.write(Packets.startup(evilLogin()));
        Scram.Client scram = Scram.client(ProxyFixture.PASSWORD);
        seen.add(wire.expectAuthentication(T, 10));
        wire.write(Packets.saslInitialResponse("SCRAM-SHA-256", scram.clientFirst()));
        WireMessage serverFirst = wire.expectAuthentication(T, 11);
        seen.add(serverFirst);
        wire.write(
            Packets.saslResponse(
                scram.clientFinal(
                    Arrays.copyOfRange(serverFirst.body(), 4, serverFirst.body().length))));
        RawWire.Drained d = wire.drain(Duration.ofSeconds(10));
        seen.addAll(d.messages());
        assertThat(d.closed()).as("closed; received %s", seen).isTrue();
      }
      return seen;
    }

    FakeUpstream.Connection upstreamConnection() {
      assertThat(fake.connections()).hasSize(1);
      return fake.connections().getFirst();
    }

    void assertStillServing() throws Exception {
      assertThat(selectOne(bystander)).isEqualTo(1);
      try (Connection fresh = DriverManager.getConnection(realUrl(), credentials())) {
        assertThat(selectOne(fresh)).isEqualTo(1);
      }
    }

    private String realUrl() {
      return "jdbc:postgresql://127.0.0.1:"
          + proxy.address().getPort()
          + "/"
          + DATABASE
          + "?sslmode=disable";
    }

    @Override
    public void close() throws Exception {
      bystander.close();
      proxy.close();
      fake.close();
    }
  }

  /**
   * After Warden's authentication messages, exactly one FATAL 08006 whose message contains {@code
   * part}, no sign of a session, and the canary nowhere.
   */
  private static void assertCleanFatal(List<WireMessage> seen, String part) {
    assertCleanFatal(seen, "08006", part);
  }

  /**
   * After Warden's authentication messages, exactly one FATAL with {@code sqlState} whose message
   * contains {@code part}, no sign of a session, and the canary nowhere.
   */
  private static void assertCleanFatal(List<WireMessage> seen, String sqlState, String part) {
    List<WireMessage> afterAuth = seen.stream().filter(m -> !m.is('R')).toList();
    assertThat(afterAuth).as("after authentication: %s", seen).hasSize(1);
    WireMessage error = afterAuth.getFirst();
    assertThat(error.kind()).isEqualTo('E');
    assertThat(error.severity()).isEqualTo("FATAL");
    assertThat(error.sqlState()).isEqualTo(sqlState);
    assertThat(error.message()).contains(part);
    for (WireMessage m : seen) {
      assertThat(m.text()).doesNotContain(CANARY);
    }
  }

  /** The types of the typed messages after the first (untyped) startup packet in {@code bytes}. */
  private static List<Character> typesAfterStartup(byte[] bytes) {
    List<Character> types = new ArrayList<>();
    int at = readInt(bytes, 0);
    while (at + 5 <= bytes.length) {
      types.add((char) bytes[at]);
      at += 1 + readInt(bytes, at + 1);
    }
    return types;
  }

  private static int readInt(byte[] b, int at) {
    return ((b[at] & 0xFF) << 24)
        | ((b[at + 1] & 0xFF) << 16)
        | ((b[at + 2] & 0xFF) << 8)
        | (b[at + 3] & 0xFF);
  }

  private static Map<String, String> evilLogin() {
    Map<String, String> p = new LinkedHashMap<>();
    p.put("user", ProxyFixture.USER);
    p.put("database", EVIL);
    return p;
  }

  private static Properties credentials() {
    Properties p = new Properties();
    p.setProperty("user", ProxyFixture.USER);
    p.setProperty("password", ProxyFixture.PASSWORD);
    return p;
  }

  private static int selectOne(Connection c) throws Exception {
    try (Statement s = c.createStatement();
        ResultSet r = s.executeQuery("SELECT 1")) {
      r.next();
      return r.getInt(1);
    }
  }

  private static byte[] ready() {
    return Packets.readyForQuery('I');
  }

  private static ProxySettings withLoginDeadline(ProxySettings s, int seconds) {
    return new ProxySettings(
            s.listen(), s.tls(), Duration.ofSeconds(seconds), s.maxClients(), s.maxMessageBytes())
        .withCatalogues(s.readCatalogues());
  }

  private static String hex(int bytes) {
    byte[] b = new byte[bytes];
    new SecureRandom().nextBytes(b);
    return HexFormat.of().formatHex(b);
  }
}
