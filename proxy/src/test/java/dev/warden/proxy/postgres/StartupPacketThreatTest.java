package dev.warden.proxy.postgres;

import static dev.warden.testkit.WireAssertions.assertFatal;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.warden.core.gate.Gatekeeper;
import dev.warden.testkit.Packets;
import dev.warden.testkit.PostgresSessions;
import dev.warden.testkit.RawWire;
import dev.warden.testkit.Scram;
import dev.warden.testkit.WireMessage;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Hostile startup packets and pre-authentication messages (THREATS P02, P03, P04, P05, AU13, AU14).
 * Where PostgreSQL itself is the reference (protocol versions), the same bytes are sent to it
 * directly and the answers compared. "Nothing reached the upstream" is read from PostgreSQL's own
 * statistics for the fixture's database; a control test shows that a real login does show up there.
 */
class StartupPacketThreatTest {
  private static final Duration CLOSE_WITHIN = Duration.ofSeconds(2);
  private static final Duration T = Duration.ofSeconds(5);

  static ProxyFixture fixture;
  static PostgresSessions sessions;

  @BeforeAll
  static void start() {
    // Counts upstream sessions to prove nothing reached the upstream: no parked connections.
    fixture = new ProxyFixture(Gatekeeper.allowAll(), s -> s.withUpstreamReuse(false));
    fixture.users.add("bob", "bob-secret");
    sessions =
        new PostgresSessions(ProxyFixture.PG_HOST, ProxyFixture.PG_PORT, ProxyFixture.PG_USER);
  }

  @AfterAll
  static void stop() {
    if (fixture != null) {
      fixture.close();
    }
  }

  @Test
  void theSessionOracleSeesALoginThroughTheProxy() throws Exception {
    long before = sessions.established(fixture.database);
    try (RawWire wire = proxy()) {
      wire.login(alice(), ProxyFixture.PASSWORD);
      assertThat(sessions.connected(fixture.database)).isEqualTo(1);
    }
    awaitEstablished(before + 1);
  }

  @Test
  void packetsSplitAtAnyByteAreReassembled() throws Exception {
    Duration pause = Duration.ofMillis(1);
    try (RawWire wire = proxy()) {
      byte[] startup = Packets.startup(alice());
      wire.writeSplit(startup, pause, IntStream.range(1, startup.length).toArray());
      wire.expectAuthentication(T, 10);
      Scram.Client scram = Scram.client(ProxyFixture.PASSWORD);
      wire.writeSplit(
          Packets.saslInitialResponse("SCRAM-SHA-256", scram.clientFirst()),
          pause,
          1,
          2,
          3,
          4,
          5,
          9);
      WireMessage serverFirst = wire.expectAuthentication(T, 11);
      byte[] body = serverFirst.body();
      wire.writeSplit(
          Packets.saslResponse(scram.clientFinal(Arrays.copyOfRange(body, 4, body.length))),
          pause,
          1,
          3);
      WireMessage serverFinal = wire.expectAuthentication(T, 12);
      assertThat(
              scram.verifyServerFinal(
                  Arrays.copyOfRange(serverFinal.body(), 4, serverFinal.body().length)))
          .isTrue();
      wire.expectAuthentication(T, 0);
      wire.afterAuthenticationOk(T);
      byte[] pipelined =
          Packets.concat(Packets.query("SELECT 'split'"), Packets.query("SELECT 'pipelined'"));
      wire.writeSplit(pipelined, pause, 2, 7, pipelined.length - 3);

      assertThat(dataRowText(wire.readThrough('Z', T))).isEqualTo("split");
      assertThat(dataRowText(wire.readThrough('Z', T))).isEqualTo("pipelined");
    }
  }

  // P02

  @Test
  void p02StartupPacketLongerThanPostgresAcceptsIsRefusedFromItsHeader() throws Exception {
    try (RawWire wire = proxy()) {
      // Only the header is sent: the refusal must not wait for (or buffer) the announced bytes.
      wire.write(Packets.untypedWithLength(10_001, Packets.body().int32(3 << 16).toByteArray()));
      assertFatal(wire.drain(CLOSE_WITHIN), "08P01", "exceeds");
    }
  }

  @Test
  void p02StartupPacketOfExactly10000BytesIsAccepted() throws Exception {
    Map<String, String> params = new LinkedHashMap<>(alice());
    params.put("application_name", "");
    int padding = 10_000 - Packets.startup(params).length;
    params.put("application_name", "a".repeat(padding));
    byte[] packet = Packets.startup(params);
    assertThat(packet).hasSize(10_000);
    try (RawWire wire = proxy()) {
      wire.write(packet);
      assertThat(wire.expectAuthentication(T, 10).text()).contains("SCRAM-SHA-256");
    }
  }

  @Test
  void p02MalformedStartupPacketsAreRefused() throws Exception {
    Map<String, byte[]> cases = new LinkedHashMap<>();
    cases.put("missing terminator", nul("user", "alice"));
    cases.put("name without value", concat(nul("user", "alice", "database"), new byte[] {0}));
    cases.put("value not terminated", concat(nul("user"), ascii("alice")));
    cases.put("empty name", nul("user", "alice", "", "x", ""));
    cases.put("duplicate name", nul("user", "alice", "user", "bob", ""));
    cases.put("no user", nul("database", "x", ""));
    cases.put(
        "invalid UTF-8",
        concat(nul("user"), new byte[] {'a', (byte) 0xC3, 'l', 0}, new byte[] {0}));
    Map<String, String> expectedState = Map.of("no user", "28000", "invalid UTF-8", "22021");
    long before = sessions.established(fixture.database);
    for (var c : cases.entrySet()) {
      try (RawWire wire = proxy()) {
        wire.write(Packets.untyped(3 << 16, c.getValue()));
        RawWire.Drained d = wire.drain(CLOSE_WITHIN);
        assertThat(d.closed()).as(c.getKey()).isTrue();
        assertThat(d.first().severity()).as(c.getKey()).isEqualTo("FATAL");
        assertThat(d.first().sqlState())
            .as(c.getKey())
            .isEqualTo(expectedState.getOrDefault(c.getKey(), "08P01"));
        assertThat(d.messages()).as(c.getKey()).noneMatch(m -> m.is('R'));
      }
    }
    assertNoUpstreamSession(before);
  }

  // P03

  @Test
  void p03MajorVersion4GetsTheServersOwnRefusal() throws Exception {
    byte[] packet = Packets.startup(4, 0, alice());
    WireMessage fromPostgres;
    try (RawWire wire = direct()) {
      wire.write(packet);
      fromPostgres = wire.drain(T).first();
    }
    try (RawWire wire = proxy()) {
      wire.write(packet);
      RawWire.Drained d = wire.drain(CLOSE_WITHIN);

      assertFatal(d, fromPostgres.sqlState(), "unsupported frontend protocol 4.0");
    }
  }

  @Test
  void p03MajorVersionsBelow3AreRefusedAsFeatureNotSupported() throws Exception {
    // PostgreSQL answers these in the old protocol-2 error format, which has no SQLSTATE; its
    // code for the condition is 0A000 (feature_not_supported, ProcessStartupPacket).
    long before = sessions.established(fixture.database);
    for (int major : new int[] {0, 1, 2}) {
      try (RawWire wire = proxy()) {
        wire.write(Packets.startup(major, 0, alice()));
        assertFatal(wire.drain(CLOSE_WITHIN), "0A000", "unsupported frontend protocol " + major);
      }
    }
    assertNoUpstreamSession(before);
  }

  @Test
  void p03NewerMinorVersionIsNegotiatedExactlyAsPostgresDoesAndLaterMessagesStayFramed()
      throws Exception {
    Map<String, String> params = new LinkedHashMap<>(alice());
    params.put("_pq_.fancy_extension", "on");
    WireMessage fromPostgres;
    try (RawWire wire = direct()) {
      Map<String, String> direct = new LinkedHashMap<>(params);
      direct.put("user", ProxyFixture.PG_USER);
      wire.write(Packets.startup(3, 99, direct));
      fromPostgres = wire.read(T);
    }
    try (RawWire wire = proxy()) {
      wire.write(Packets.startup(3, 99, params));
      WireMessage negotiate = wire.read(T);

      assertThat(negotiate.kind()).isEqualTo('v');
      // PostgreSQL sends its newest version as a whole (3.0 is 0x00030000, pqcomm.h
      // PG_PROTOCOL_LATEST), not the bare minor number the protocol page describes, and libpq
      // reads it that way.
      assertThat(negotiate.bytes()).isEqualTo(fromPostgres.bytes());
      assertThat(negotiate.text()).contains("_pq_.fancy_extension");
      wire.authenticate(Scram.client(ProxyFixture.PASSWORD));
      wire.write(Packets.query("SELECT 40 + 2"));
      assertThat(dataRowText(wire.readThrough('Z', T))).isEqualTo("42");
    }
  }

  @Test
  void p03MinorVersionAloneIsNegotiatedExactlyAsPostgresDoes() throws Exception {
    WireMessage fromPostgres;
    try (RawWire wire = direct()) {
      wire.write(
          Packets.startup(
              3, 2, Map.of("user", ProxyFixture.PG_USER, "database", fixture.database)));
      fromPostgres = wire.read(T);
    }
    try (RawWire wire = proxy()) {
      wire.write(Packets.startup(3, 2, alice()));
      WireMessage negotiate = wire.read(T);

      assertThat(negotiate.bytes()).isEqualTo(fromPostgres.bytes());
      assertThat(wire.expectAuthentication(T, 10).text()).contains("SCRAM-SHA-256");
    }
  }

  // P04

  @Test
  void p04AnyMessageButASaslResponseBeforeAuthenticationClosesWithoutUpstream() throws Exception {
    List<byte[]> messages =
        List.of(
            Packets.query("SELECT 1"),
            Packets.parse("", "SELECT 1"),
            Packets.bind("", ""),
            Packets.execute("", 0),
            Packets.functionCall(177, "1", "2"),
            Packets.sync(),
            Packets.terminate(),
            Packets.copyData(new byte[] {1}));
    long before = sessions.established(fixture.database);
    for (byte[] message : messages) {
      try (RawWire wire = proxy()) {
        wire.write(Packets.startup(alice()));
        wire.expectAuthentication(T, 10);
        wire.write(message);

        assertFatal(wire.drain(CLOSE_WITHIN), "08P01", "expected a SASL response");
      }
    }
    assertNoUpstreamSession(before);
  }

  @Test
  void p04QueryInsteadOfAStartupPacketIsRefused() throws Exception {
    long before = sessions.established(fixture.database);
    try (RawWire wire = proxy()) {
      wire.write(Packets.query("SELECT 1"));
      assertFatal(wire.drain(CLOSE_WITHIN), "08P01", "startup packet");
    }
    assertNoUpstreamSession(before);
  }

  // P05

  @Test
  void p05SecondStartupMessageDuringScramIsAViolationAndNobodyLogsIn() throws Exception {
    long before = sessions.established(fixture.database);
    Map<String, String> bob = Map.of("user", "bob", "database", fixture.database);
    try (RawWire wire = proxy()) {
      wire.write(Packets.startup(alice()));
      wire.expectAuthentication(T, 10);
      Scram.Client scram = Scram.client(ProxyFixture.PASSWORD);
      wire.write(Packets.saslInitialResponse("SCRAM-SHA-256", scram.clientFirst()));
      wire.expectAuthentication(T, 11);
      wire.write(Packets.startup(bob));

      RawWire.Drained d = wire.drain(CLOSE_WITHIN);
      assertFatal(d, "08P01", "expected a SASL response");
      assertThat(d.messages()).noneMatch(m -> m.is('R'));
    }
    try (RawWire wire = proxy()) {
      wire.write(Packets.startup(alice()));
      wire.expectAuthentication(T, 10);
      wire.write(Packets.startup(bob));

      assertFatal(wire.drain(CLOSE_WITHIN), "08P01", "expected a SASL response");
    }
    assertNoUpstreamSession(before);
  }

  // AU13

  @Test
  void au13CraftedDatabaseNamesReachPostgresVerbatimAndNowhereElse() throws Exception {
    List<String> names =
        List.of(
            "x' host=evil.invalid",
            "x?sslmode=disable",
            "x dbname=postgres",
            "x%00y",
            "postgres?options=-c role=x",
            "x\\' port=1");
    for (String name : names) {
      Map<String, String> params = Map.of("user", ProxyFixture.USER, "database", name);
      WireMessage fromPostgres;
      try (RawWire wire = direct()) {
        wire.write(Packets.startup(Map.of("user", ProxyFixture.PG_USER, "database", name)));
        fromPostgres =
            wire.drain(T).messages().stream().filter(m -> m.is('E')).findFirst().orElseThrow();
      }
      try (RawWire wire = proxy()) {
        wire.write(Packets.startup(params));
        RawWire.Refused refused =
            assertThrows(
                RawWire.Refused.class,
                () -> wire.authenticate(Scram.client(ProxyFixture.PASSWORD)));

        assertThat(refused.error().sqlState()).as(name).isEqualTo("3D000");
        assertThat(refused.error().message())
            .as(name)
            .isEqualTo("database \"" + name + "\" does not exist")
            .isEqualTo(fromPostgres.message());
        assertThat(wire.drain(CLOSE_WITHIN).closed()).isTrue();
      }
    }
  }

  @Test
  void au13CraftedIdentityAndSettingValuesStayLiteral() throws Exception {
    List<String> names =
        List.of("eve' host=evil.invalid", "eve -c role=pg_read_all_data", "eve%00", "eve?x=y");
    for (String name : names) {
      fixture.users.add(name, "eve-secret");
      Map<String, String> params = new LinkedHashMap<>();
      params.put("user", name);
      params.put("database", fixture.database);
      params.put("application_name", "app' -c search_path=evil");
      try (RawWire wire = proxy()) {
        wire.login(params, "eve-secret");
        wire.write(
            Packets.query(
                "SELECT concat_ws('|', current_setting('warden.identity'), current_user,"
                    + " current_setting('application_name'), current_setting('search_path'),"
                    + " current_setting('role'))"));

        assertThat(dataRowText(wire.readThrough('Z', T)))
            .isEqualTo(
                String.join(
                    "|",
                    name,
                    ProxyFixture.PG_USER,
                    "app' -c search_path=evil",
                    "\"$user\", public",
                    "none"));
      }
    }
  }

  // AU14

  @Test
  void au14ReplicationStartupIsRefusedBeforeAuthentication() throws Exception {
    long before = sessions.established(fixture.database);
    for (String mode : List.of("database", "true", "on", "1", "false")) {
      Map<String, String> params = new LinkedHashMap<>(alice());
      params.put("replication", mode);
      try (RawWire wire = proxy()) {
        wire.write(Packets.startup(params));
        RawWire.Drained d = wire.drain(CLOSE_WITHIN);

        assertFatal(d, "42501", "replication");
        assertThat(d.messages()).as(mode).noneMatch(m -> m.is('R'));
      }
    }
    assertNoUpstreamSession(before);
  }

  @Test
  void au14PgjdbcReplicationConnectionIsRefused() throws Exception {
    Properties p = new Properties();
    p.setProperty("user", ProxyFixture.USER);
    p.setProperty("password", ProxyFixture.PASSWORD);
    p.setProperty("replication", "database");
    p.setProperty("assumeMinServerVersion", "9.4");
    p.setProperty("preferQueryMode", "simple");
    assertThatThrownBy(() -> DriverManager.getConnection(fixture.proxyUrl(), p).close())
        .isInstanceOfSatisfying(
            SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("42501"));
  }

  // helpers

  private static RawWire proxy() throws Exception {
    return RawWire.connect(new InetSocketAddress("127.0.0.1", fixture.port()));
  }

  private static RawWire direct() throws Exception {
    return RawWire.connect(new InetSocketAddress(ProxyFixture.PG_HOST, ProxyFixture.PG_PORT));
  }

  private static Map<String, String> alice() {
    Map<String, String> p = new LinkedHashMap<>();
    p.put("user", ProxyFixture.USER);
    p.put("database", fixture.database);
    return p;
  }

  /** The first column of the first DataRow, as text. */
  static String dataRowText(List<WireMessage> messages) {
    WireMessage row =
        messages.stream()
            .filter(m -> m.is('D'))
            .findFirst()
            .orElseThrow(() -> new AssertionError("no DataRow in " + messages));
    byte[] b = row.body();
    int length = row.int32(2);
    return new String(b, 6, length, StandardCharsets.UTF_8);
  }

  private static byte[] nul(String... parts) {
    Packets.Body b = Packets.body();
    for (String part : parts) {
      b.cstring(part);
    }
    return b.toByteArray();
  }

  private static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }

  private static byte[] concat(byte[]... parts) {
    return Packets.concat(parts);
  }

  private static void assertNoUpstreamSession(long before) throws Exception {
    Thread.sleep(200);
    assertThat(sessions.connected(fixture.database)).isZero();
    assertThat(sessions.established(fixture.database)).isEqualTo(before);
  }

  private static void awaitEstablished(long expected) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    while (sessions.established(fixture.database) < expected && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
    assertThat(sessions.established(fixture.database)).isEqualTo(expected);
  }
}
