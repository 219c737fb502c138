package dev.warden.proxy.postgres;

import static dev.warden.testkit.WireAssertions.assertFatal;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warden.core.environment.Environment;
import dev.warden.core.environment.Environments;
import dev.warden.core.environment.TlsMode;
import dev.warden.core.environment.Upstream;
import dev.warden.core.gate.Gatekeeper;
import dev.warden.core.identity.AuthThrottle;
import dev.warden.core.identity.ScramServer;
import dev.warden.core.identity.Secret;
import dev.warden.testkit.Packets;
import dev.warden.testkit.PostgresSessions;
import dev.warden.testkit.RawWire;
import dev.warden.testkit.RecordingAuditTrail;
import dev.warden.testkit.Scram;
import dev.warden.testkit.WireMessage;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Attacks on Warden's own SCRAM login (THREATS AU09 to AU12): a wrong proof, a name in the SCRAM
 * message that differs from the startup user, a client demanding channel binding, user enumeration
 * by error bytes or timing, password guessing, and unknown identities. "Nothing reached the
 * upstream" is read from PostgreSQL's statistics for the fixture's database.
 */
class AuthenticationThreatTest {
  private static final Duration CLOSE_WITHIN = Duration.ofSeconds(2);
  private static final Duration T = Duration.ofSeconds(5);

  static ProxyFixture fixture;
  static PostgresSessions sessions;

  @BeforeAll
  static void start() throws Exception {
    // Counts upstream sessions to prove nothing reached the upstream: no parked connections.
    fixture = new ProxyFixture(Gatekeeper.allowAll(), s -> s.withUpstreamReuse(false));
    fixture.users.add("bob", "bob-secret");
    sessions =
        new PostgresSessions(ProxyFixture.PG_HOST, ProxyFixture.PG_PORT, ProxyFixture.PG_USER);
    try (RawWire wire = connect(fixture, null)) {
      wire.login(login("alice"), ProxyFixture.PASSWORD); // warm up
    }
  }

  @AfterAll
  static void stop() {
    if (fixture != null) {
      fixture.close();
    }
  }

  // AU09

  @Test
  void au09WrongProofIsRefusedAsAWrongPassword() throws Exception {
    long before = sessions.established(fixture.database);
    try (RawWire wire = connect(fixture, InetAddress.getByName("127.0.0.7"))) {
      wire.write(Packets.startup(login("alice")));
      Scram.Client scram = Scram.client(ProxyFixture.PASSWORD);
      wire.expectAuthentication(T, 10);
      wire.write(Packets.saslInitialResponse("SCRAM-SHA-256", scram.clientFirst()));
      WireMessage serverFirst = wire.expectAuthentication(T, 11);
      wire.write(Packets.saslResponse(scram.clientFinalWithWrongProof(payload(serverFirst))));

      RawWire.Drained d = wire.drain(CLOSE_WITHIN);
      assertFatal(d, "28P01", "password authentication failed for user \"alice\"");
      assertThat(d.messages()).hasSize(1);
    }
    assertNoUpstreamSession(before);
  }

  @Test
  void au09ANonceOtherThanTheServersIsRefused() throws Exception {
    long before = sessions.established(fixture.database);
    try (RawWire wire = connect(fixture, InetAddress.getByName("127.0.0.7"))) {
      wire.write(Packets.startup(login("alice")));
      Scram.Client scram = Scram.client(ProxyFixture.PASSWORD);
      wire.expectAuthentication(T, 10);
      wire.write(Packets.saslInitialResponse("SCRAM-SHA-256", scram.clientFirst()));
      WireMessage serverFirst = wire.expectAuthentication(T, 11);
      String nonce =
          Scram.attribute(new String(payload(serverFirst), StandardCharsets.UTF_8), "r=");
      wire.write(
          Packets.saslResponse(
              scram.clientFinalWithNonce(payload(serverFirst), nonce.substring(0, 24))));

      assertFatal(wire.drain(CLOSE_WITHIN), "08P01", "malformed SCRAM message");
    }
    assertNoUpstreamSession(before);
  }

  @Test
  void au09TheNameInsideScramIsIgnoredTheStartupUserLogsIn() throws Exception {
    try (RawWire wire = connect(fixture, null)) {
      wire.write(Packets.startup(login("alice")));
      wire.authenticate(Scram.client(ProxyFixture.PASSWORD, "bob", "n,,"));
      wire.write(Packets.query("SELECT current_setting('warden.identity')"));

      assertThat(StartupPacketThreatTest.dataRowText(wire.readThrough('Z', T))).isEqualTo("alice");
    }
    try (RawWire wire = connect(fixture, InetAddress.getByName("127.0.0.7"))) {
      wire.write(Packets.startup(login("bob")));
      assertThatThrownBy(
              () -> wire.authenticate(Scram.client(ProxyFixture.PASSWORD, "alice", "n,,")))
          .isInstanceOfSatisfying(
              RawWire.Refused.class,
              r ->
                  assertThat(r.error().message())
                      .isEqualTo("password authentication failed for user \"bob\""));
    }
  }

  @Test
  void au09AClientThatRequiresChannelBindingFailsCleanly() throws Exception {
    long before = sessions.established(fixture.database);
    try (RawWire wire = connect(fixture, InetAddress.getByName("127.0.0.8"))) {
      wire.write(Packets.startup(login("alice")));
      wire.expectAuthentication(T, 10);
      Scram.Client scram = Scram.client(ProxyFixture.PASSWORD, "", "p=tls-server-end-point,,");
      wire.write(Packets.saslInitialResponse("SCRAM-SHA-256", scram.clientFirst()));

      RawWire.Drained d = wire.drain(CLOSE_WITHIN);
      assertFatal(d, "28P01", "password authentication failed");
      assertThat(d.messages()).noneMatch(m -> m.is('R'));
    }
    Properties p = new Properties();
    p.setProperty("user", ProxyFixture.USER);
    p.setProperty("password", ProxyFixture.PASSWORD);
    p.setProperty("channelBinding", "require");
    assertThatThrownBy(() -> DriverManager.getConnection(fixture.proxyUrl(), p).close())
        .isInstanceOf(SQLException.class)
        .satisfies(e -> assertThat(e.getMessage()).containsIgnoringCase("channel binding"));
    assertNoUpstreamSession(before);
  }

  // AU10

  @Test
  void au10UnknownUserAndWrongPasswordLookTheSameOnTheWireAndInTime() throws Exception {
    // A throttle that never delays, so that 400 failures measure the login and nothing else.
    AuthThrottle lenient =
        new AuthThrottle(
            Clock.systemUTC(),
            Integer.MAX_VALUE,
            Duration.ZERO,
            Duration.ZERO,
            Duration.ofMinutes(1));
    PostgresProxy proxy = proxyWith(lenient);
    try {
      Attempt known = attempt(proxy, "alice");
      Attempt unknown = attempt(proxy, "mallo");
      Attempt unknownAgain = attempt(proxy, "mallo");

      // Same shape of challenge: iteration count and salt length, and a stable salt per name.
      assertThat(unknown.attribute("i=")).isEqualTo(known.attribute("i="));
      assertThat(unknown.attribute("s=")).hasSameSizeAs(known.attribute("s="));
      assertThat(unknownAgain.attribute("s=")).isEqualTo(unknown.attribute("s="));
      // Same error bytes but for the name, which has the same length here.
      assertThat(unknown.error()).hasSameSizeAs(known.error());
      assertThat(new String(unknown.error(), StandardCharsets.UTF_8).replace("mallo", "alice"))
          .isEqualTo(new String(known.error(), StandardCharsets.UTF_8));

      int rounds = 200;
      long[] knownNanos = new long[rounds];
      long[] unknownNanos = new long[rounds];
      for (int i = 0; i < 20; i++) {
        attempt(proxy, "alice");
        attempt(proxy, "mallo");
      }
      for (int i = 0; i < rounds; i++) {
        // Interleaved, so that load from elsewhere on the machine hits both alike.
        knownNanos[i] = attempt(proxy, "alice").serverNanos();
        unknownNanos[i] = attempt(proxy, "mallo").serverNanos();
      }
      double a = median(knownNanos);
      double b = median(unknownNanos);
      assertThat(Math.abs(a - b) / Math.max(a, b))
          .as("median server time: wrong password %.0f µs, unknown user %.0f µs", a / 1e3, b / 1e3)
          .isLessThan(0.25);
    } finally {
      proxy.close();
    }
  }

  /** One failed login: the server's challenge, its error bytes, and the server's time. */
  private record Attempt(String serverFirst, byte[] error, long serverNanos) {
    String attribute(String key) {
      return Scram.attribute(serverFirst, key);
    }
  }

  private static Attempt attempt(PostgresProxy proxy, String user) throws Exception {
    try (RawWire wire =
        RawWire.connect(new InetSocketAddress("127.0.0.1", proxy.address().getPort()))) {
      wire.write(Packets.startup(Map.of("user", user, "database", "postgres")));
      wire.expectAuthentication(T, 10);
      Scram.Client scram = Scram.client("not-the-password");
      long t0 = System.nanoTime();
      wire.write(Packets.saslInitialResponse("SCRAM-SHA-256", scram.clientFirst()));
      WireMessage serverFirst = wire.expectAuthentication(T, 11);
      long first = System.nanoTime() - t0;
      byte[] clientFinal = scram.clientFinal(payload(serverFirst));
      long t1 = System.nanoTime();
      wire.write(Packets.saslResponse(clientFinal));
      WireMessage error = wire.read(T);
      long last = System.nanoTime() - t1;
      assertThat(error.sqlState()).isEqualTo("28P01");
      return new Attempt(
          new String(payload(serverFirst), StandardCharsets.UTF_8), error.bytes(), first + last);
    }
  }

  // AU11

  @Test
  void au11AfterRepeatedFailuresAnswersAreHeldButOnlyForThatUserAndSource() throws Exception {
    InetAddress attacker = InetAddress.getByName("127.0.0.9");
    InetAddress elsewhere = InetAddress.getByName("127.0.0.2");
    for (int i = 0; i < 3; i++) {
      long start = System.nanoTime();
      assertThatThrownBy(() -> loginFrom(attacker, "wrong-" + Math.random()))
          .isInstanceOf(RawWire.Refused.class);
      assertThat(Duration.ofNanos(System.nanoTime() - start))
          .as("free failure %d", i + 1)
          .isLessThan(Duration.ofMillis(700));
    }
    // The fourth attempt is held for a second, right password or not.
    try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
      Future<Duration> held =
          pool.submit(
              () -> {
                long start = System.nanoTime();
                loginFrom(attacker, ProxyFixture.PASSWORD);
                return Duration.ofNanos(System.nanoTime() - start);
              });
      Thread.sleep(100);
      long start = System.nanoTime();
      loginFrom(elsewhere, ProxyFixture.PASSWORD);
      Duration otherSource = Duration.ofNanos(System.nanoTime() - start);

      assertThat(otherSource).as("the same user from elsewhere").isLessThan(Duration.ofMillis(700));
      assertThat(held.get()).isGreaterThanOrEqualTo(Duration.ofMillis(950));
    }
    // A success clears the pair's failures.
    long start = System.nanoTime();
    assertThatThrownBy(() -> loginFrom(attacker, "wrong-again"))
        .isInstanceOf(RawWire.Refused.class);
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofMillis(700));
  }

  private static void loginFrom(InetAddress source, String password) throws Exception {
    try (RawWire wire = connect(fixture, source)) {
      wire.login(login("alice"), password);
    }
  }

  // AU12

  @Test
  void au12IdentitiesOutsideTheDirectoryNeverReachTheUpstream() throws Exception {
    long before = sessions.established(fixture.database);
    for (String stranger : List.of("mallory", ProxyFixture.PG_USER, "ALICE", "alice ")) {
      try (RawWire wire = connect(fixture, InetAddress.getByName("127.0.0.10"))) {
        wire.write(Packets.startup(login(stranger)));
        assertThatThrownBy(() -> wire.authenticate(Scram.client(ProxyFixture.PASSWORD)))
            .isInstanceOfSatisfying(
                RawWire.Refused.class,
                r -> {
                  assertThat(r.error().sqlState()).isEqualTo("28P01");
                  assertThat(r.error().message())
                      .isEqualTo("password authentication failed for user \"" + stranger + "\"");
                });
        assertThat(wire.drain(CLOSE_WITHIN).closed()).isTrue();
      }
    }
    Properties p = new Properties();
    p.setProperty("user", ProxyFixture.PG_USER);
    p.setProperty("password", "anything");
    assertThatThrownBy(() -> DriverManager.getConnection(fixture.proxyUrl(), p).close())
        .isInstanceOf(SQLException.class);
    assertNoUpstreamSession(before);
  }

  // helpers

  private static PostgresProxy proxyWith(AuthThrottle throttle) {
    Upstream upstream =
        new Upstream(
            ProxyFixture.PG_HOST,
            ProxyFixture.PG_PORT,
            Optional.empty(),
            ProxyFixture.PG_USER,
            Secret.of(""),
            TlsMode.DISABLE,
            Optional.empty());
    PostgresProxy proxy =
        new PostgresProxy(
            ProxySettings.defaults(new InetSocketAddress("127.0.0.1", 0)),
            new Environments(
                List.of(
                    new Environment(
                        "test", Set.of(), List.of(Environment.ANY_DATABASE), upstream))),
            new ScramServer(fixture.users, Secret.of("mock-key-for-tests"), new SecureRandom()),
            throttle,
            Gatekeeper.allowAll(),
            new ProxyAudit(new RecordingAuditTrail(), false, Clock.systemUTC()));
    proxy.start();
    return proxy;
  }

  private static RawWire connect(ProxyFixture f, InetAddress source) throws Exception {
    return RawWire.connect(new InetSocketAddress("127.0.0.1", f.port()), source);
  }

  private static Map<String, String> login(String user) {
    return Map.of("user", user, "database", fixture.database);
  }

  private static byte[] payload(WireMessage authentication) {
    byte[] body = authentication.body();
    return Arrays.copyOfRange(body, 4, body.length);
  }

  private static double median(long[] values) {
    long[] sorted = values.clone();
    Arrays.sort(sorted);
    return sorted.length % 2 == 1
        ? sorted[sorted.length / 2]
        : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2.0;
  }

  private static void assertNoUpstreamSession(long before) throws Exception {
    Thread.sleep(200);
    assertThat(sessions.connected(fixture.database)).isZero();
    assertThat(sessions.established(fixture.database)).isEqualTo(before);
  }
}
