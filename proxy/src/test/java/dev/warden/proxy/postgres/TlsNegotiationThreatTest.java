package dev.warden.proxy.postgres;

import static dev.warden.testkit.WireAssertions.assertFatal;
import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.core.gate.Gatekeeper;
import dev.warden.testkit.Packets;
import dev.warden.testkit.PostgresSessions;
import dev.warden.testkit.RawWire;
import dev.warden.testkit.WireMessage;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * TLS negotiation with a hostile client (THREATS T01, T02, T05, T10): plaintext smuggled after
 * SSLRequest or GSSENCRequest, a plaintext login on a listener that requires TLS, and TLS asked for
 * twice or too late. Each case must end in FATAL and a closed connection with no upstream session
 * opened, checked against PostgreSQL's own session statistics.
 */
class TlsNegotiationThreatTest {
  private static final Duration CLOSE_WITHIN = Duration.ofSeconds(2);
  private static final Duration T = Duration.ofSeconds(5);

  @TempDir static Path dir;
  static ProxyFixture plain;
  static ProxyFixture tls;
  static ProxyFixture tlsRequired;
  static PostgresSessions sessions;

  @BeforeAll
  static void start() {
    TestCertificates.Pem cert = TestCertificates.selfSigned(dir, "127.0.0.1", "localhost");
    // These tests count upstream sessions to prove nothing reached the upstream: no parked
    // connections.
    plain = new ProxyFixture(Gatekeeper.allowAll(), s -> s.withUpstreamReuse(false));
    tls =
        new ProxyFixture(
            Gatekeeper.allowAll(),
            s ->
                s.withUpstreamReuse(false)
                    .withTls(new ListenerTls(cert.certificate(), cert.privateKey(), false)));
    tlsRequired =
        new ProxyFixture(
            Gatekeeper.allowAll(),
            s ->
                s.withUpstreamReuse(false)
                    .withTls(new ListenerTls(cert.certificate(), cert.privateKey(), true)));
    sessions =
        new PostgresSessions(ProxyFixture.PG_HOST, ProxyFixture.PG_PORT, ProxyFixture.PG_USER);
  }

  @AfterAll
  static void stop() {
    for (ProxyFixture f : new ProxyFixture[] {plain, tls, tlsRequired}) {
      if (f != null) {
        f.close();
      }
    }
  }

  @Test
  void t01QueryPipelinedAfterSslRequestIsRefusedUnread() throws Exception {
    for (ProxyFixture f : List.of(plain, tls)) {
      long before = sessions.established(f.database);
      try (RawWire wire = connect(f)) {
        wire.write(
            Packets.sslRequest(),
            Packets.startup(login(f)),
            Packets.query("CREATE TABLE smuggled(x int)"));

        RawWire.Drained d = wire.drain(CLOSE_WITHIN);
        // No 'S' or 'N' comes first: the answer is refused before it is given.
        assertFatal(d, "08P01", "received unencrypted data after SSLRequest");
      }
      assertNoUpstreamSession(f, before);
    }
  }

  @Test
  void t02DataPipelinedAfterGssEncRequestIsRefused() throws Exception {
    long before = sessions.established(plain.database);
    try (RawWire wire = connect(plain)) {
      wire.write(Packets.gssEncRequest(), Packets.startup(login(plain)));

      assertFatal(
          wire.drain(CLOSE_WITHIN), "08P01", "received unencrypted data after GSSENCRequest");
    }
    assertNoUpstreamSession(plain, before);
  }

  @Test
  void t02GssEncRequestAloneIsDeclinedAndTheLoginGoesOn() throws Exception {
    try (RawWire wire = connect(plain)) {
      wire.write(Packets.gssEncRequest());
      assertThat(wire.readByte(T)).isEqualTo('N');

      RawWire.Session session = wire.login(login(plain), ProxyFixture.PASSWORD);
      assertThat(session.processId()).isPositive();
      wire.write(Packets.query("SELECT 1"));
      assertThat(wire.readThrough('Z', T)).extracting(WireMessage::kind).contains('D');
    }
  }

  @Test
  void t05PlaintextStartupOnATlsOnlyListenerIsRefusedBeforeAnyAuthenticationRequest()
      throws Exception {
    long before = sessions.established(tlsRequired.database);
    try (RawWire wire = connect(tlsRequired)) {
      wire.write(Packets.startup(login(tlsRequired)));

      RawWire.Drained d = wire.drain(CLOSE_WITHIN);
      assertFatal(d, "28000", "requires TLS");
      assertThat(d.messages()).noneMatch(m -> m.is('R'));
    }
    assertNoUpstreamSession(tlsRequired, before);
  }

  @Test
  void t05TheSameLoginOverTlsSucceeds() throws Exception {
    try (RawWire wire = connect(tlsRequired)) {
      wire.write(Packets.sslRequest());
      assertThat(wire.readByte(T)).isEqualTo('S');
      wire.startTls();

      RawWire.Session session = wire.login(login(tlsRequired), ProxyFixture.PASSWORD);
      assertThat(session.processId()).isPositive();
    }
  }

  @Test
  void t10SecondSslRequestInsideTlsIsAProtocolViolation() throws Exception {
    long before = sessions.established(tls.database);
    try (RawWire wire = connect(tls)) {
      wire.write(Packets.sslRequest());
      assertThat(wire.readByte(T)).isEqualTo('S');
      wire.startTls();
      wire.write(Packets.sslRequest());

      assertFatal(wire.drain(CLOSE_WITHIN), "08P01", "SSLRequest received twice");
    }
    assertNoUpstreamSession(tls, before);
  }

  @Test
  void t10SecondSslRequestAfterARefusalIsAProtocolViolation() throws Exception {
    long before = sessions.established(plain.database);
    try (RawWire wire = connect(plain)) {
      wire.write(Packets.sslRequest());
      assertThat(wire.readByte(T)).isEqualTo('N');
      wire.write(Packets.sslRequest());

      assertFatal(wire.drain(CLOSE_WITHIN), "08P01", "SSLRequest received twice");
    }
    assertNoUpstreamSession(plain, before);
  }

  @Test
  void t10SslRequestAfterTheStartupMessageIsAProtocolViolation() throws Exception {
    long before = sessions.established(tls.database);
    try (RawWire wire = connect(tls)) {
      wire.write(Packets.startup(login(tls)));
      WireMessage sasl = wire.expectAuthentication(T, 10);
      assertThat(sasl.text()).contains("SCRAM-SHA-256");
      wire.write(Packets.sslRequest());

      assertFatal(wire.drain(CLOSE_WITHIN), "08P01", "expected a SASL response");
    }
    assertNoUpstreamSession(tls, before);
  }

  @Test
  void t10SslRequestInsideAnEstablishedSessionIsAProtocolViolation() throws Exception {
    try (RawWire wire = connect(tls)) {
      wire.login(login(tls), ProxyFixture.PASSWORD);
      wire.write(Packets.sslRequest());

      assertFatal(wire.drain(CLOSE_WITHIN), "08P01", "invalid frontend message type");
    }
  }

  private static RawWire connect(ProxyFixture f) throws Exception {
    return RawWire.connect(new InetSocketAddress("127.0.0.1", f.port()));
  }

  private static Map<String, String> login(ProxyFixture f) {
    return Map.of("user", ProxyFixture.USER, "database", f.database);
  }

  /** No session reached the fixture's database since {@code before}, and none is connected. */
  private static void assertNoUpstreamSession(ProxyFixture f, long before) throws Exception {
    Thread.sleep(200);
    assertThat(sessions.connected(f.database)).isZero();
    assertThat(sessions.established(f.database)).isEqualTo(before);
  }
}
