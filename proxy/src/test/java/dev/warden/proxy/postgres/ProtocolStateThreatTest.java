package dev.warden.proxy.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.core.gate.Gatekeeper;
import dev.warden.core.gate.Verdict;
import dev.warden.testkit.Packets;
import dev.warden.testkit.RawWire;
import dev.warden.testkit.WireMessage;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Messages that are illegal or odd for the session's state (THREATS P16): CopyData outside COPY,
 * Sync inside COPY IN, a FunctionCall inside an extended-protocol batch, a Query or FunctionCall
 * while the server skips to Sync after an error, Terminate in the middle of a pipeline. The same
 * bytes go to PostgreSQL directly and through Warden, and the answers must be identical. Then,
 * through Warden, a statement the decision point refuses must get its error exactly in its own
 * place, which holds only if Warden's idea of where each ReadyForQuery belongs still matches the
 * server's after the odd sequence.
 */
class ProtocolStateThreatTest {
  private static final Duration T = Duration.ofSeconds(5);
  private static final String DENIED = "warden_denied_marker";
  private static final int INT4PL = 177; // pg_proc OID of int4pl(int4, int4)

  static ProxyFixture fixture;

  @BeforeAll
  static void start() throws Exception {
    Gatekeeper denyMarked =
        Gatekeeper.judging(
            request ->
                request.sql().contains(DENIED)
                    ? new Verdict.Deny("42501", "refused by the test policy", "ask the test")
                    : Verdict.ALLOW);
    fixture = new ProxyFixture(denyMarked, s -> s);
    try (RawWire wire = proxy()) {
      wire.login(alice(), ProxyFixture.PASSWORD); // warm up
    }
  }

  @AfterAll
  static void stop() {
    if (fixture != null) {
      fixture.close();
    }
  }

  @Test
  void control_aRefusalOnAFreshSessionLandsInItsPlace() throws Exception {
    try (RawWire wire = proxy()) {
      wire.login(alice(), ProxyFixture.PASSWORD);
      assertRefusalsStayInPlace(wire);
    }
  }

  @Test
  void p16CopyDataOutsideCopyIsIgnoredAsByPostgres() throws Exception {
    assertSameAsPostgres(
        List.of(
            Packets.copyData("junk\n".getBytes(StandardCharsets.UTF_8)),
            Packets.copyDone(),
            Packets.query("SELECT 1")),
        true);
  }

  @Test
  void p16SyncInsideCopyInIsIgnoredAsByPostgres() throws Exception {
    // PostgreSQL ignores Sync and Flush during COPY IN (copyfromparse.c, CopyGetData): a Sync
    // there produces no ReadyForQuery.
    assertSameAsPostgres(
        List.of(
            Packets.query("CREATE TEMP TABLE copied(x int)"),
            Packets.query("COPY copied FROM STDIN"),
            Packets.copyData("1\n".getBytes(StandardCharsets.UTF_8)),
            Packets.sync(),
            Packets.copyData("2\n".getBytes(StandardCharsets.UTF_8)),
            Packets.copyDone(),
            Packets.query("SELECT count(*) FROM copied")),
        true);
  }

  @Test
  void p16FunctionCallInsideAnExtendedBatchAnswersAsPostgres() throws Exception {
    assertSameAsPostgres(
        List.of(
            Packets.parse("", "SELECT 1"),
            Packets.bind("", ""),
            Packets.functionCall(INT4PL, "1", "2"),
            Packets.execute("", 0),
            Packets.sync()),
        true);
  }

  @Test
  void p16FunctionCallAfterAFailedParseIsSkippedAsByPostgres() throws Exception {
    // After an error in an extended batch the server discards everything up to Sync, a
    // FunctionCall too, so that FunctionCall gets no ReadyForQuery of its own.
    assertSameAsPostgres(
        List.of(
            Packets.parse("", "SELEC 1"), Packets.functionCall(INT4PL, "1", "2"), Packets.sync()),
        true);
  }

  @Test
  void p16QueryAfterAFailedParseIsSkippedAsByPostgres() throws Exception {
    assertSameAsPostgres(
        List.of(Packets.parse("", "SELEC 1"), Packets.query("SELECT 1"), Packets.sync()), true);
  }

  @Test
  void p16TerminateMidPipelineEndsTheSessionAsPostgresDoes() throws Exception {
    assertSameAsPostgres(
        List.of(
            Packets.parse("", "SELECT 1"),
            Packets.bind("", ""),
            Packets.execute("", 0),
            Packets.terminate()),
        false);
  }

  /**
   * Sends {@code steps} (one write each) to PostgreSQL and to Warden, then, if the session is to go
   * on, a marker query; the answers up to the marker's ReadyForQuery, or to the close, must be the
   * same bytes. Through Warden the refusal check follows.
   */
  private static void assertSameAsPostgres(List<byte[]> steps, boolean sessionGoesOn)
      throws Exception {
    List<WireMessage> fromPostgres;
    try (RawWire wire = direct()) {
      fromPostgres = run(wire, steps, sessionGoesOn);
    }
    try (RawWire wire = proxy()) {
      wire.login(alice(), ProxyFixture.PASSWORD);
      List<WireMessage> fromWarden = run(wire, steps, sessionGoesOn);

      assertThat(describe(fromWarden)).isEqualTo(describe(fromPostgres));
      assertThat(fromWarden).isEqualTo(fromPostgres);
      if (sessionGoesOn) {
        assertRefusalsStayInPlace(wire);
      }
    }
  }

  private static List<WireMessage> run(RawWire wire, List<byte[]> steps, boolean sessionGoesOn)
      throws Exception {
    for (byte[] step : steps) {
      wire.write(step);
    }
    if (!sessionGoesOn) {
      RawWire.Drained d = wire.drain(T);
      assertThat(d.closed()).as("closed after Terminate; read %s", d.messages()).isTrue();
      return d.messages();
    }
    wire.write(Packets.query("SELECT 'end of test'"));
    List<WireMessage> all = new ArrayList<>();
    while (true) {
      List<WireMessage> part = wire.readThrough('Z', T);
      all.addAll(part);
      if (part.stream().anyMatch(m -> m.is('D') && m.text().contains("end of test"))) {
        return all;
      }
    }
  }

  /** A refused simple query, a refused extended batch, then an allowed query, each in place. */
  private static void assertRefusalsStayInPlace(RawWire wire) throws Exception {
    wire.write(Packets.query("SELECT '" + DENIED + "'"));
    List<WireMessage> refused = wire.readThrough('Z', T);
    assertThat(describe(refused)).as("refused Query").containsExactly("E 42501", "Z");

    wire.write(
        Packets.parse("", "SELECT '" + DENIED + "'"),
        Packets.bind("", ""),
        Packets.execute("", 0),
        Packets.sync());
    List<WireMessage> refusedBatch = wire.readThrough('Z', T);
    assertThat(describe(refusedBatch)).as("refused batch").containsExactly("E 42501", "Z");

    wire.write(Packets.query("SELECT 'allowed'"));
    List<WireMessage> allowed = wire.readThrough('Z', T);
    assertThat(describe(allowed)).as("allowed Query").containsExactly("T", "D", "C", "Z");
    assertThat(StartupPacketThreatTest.dataRowText(allowed)).isEqualTo("allowed");
  }

  private static List<String> describe(List<WireMessage> messages) {
    return messages.stream().map(m -> m.is('E') ? "E " + m.sqlState() : "" + m.kind()).toList();
  }

  private static RawWire proxy() throws Exception {
    return RawWire.connect(new InetSocketAddress("127.0.0.1", fixture.port()));
  }

  /** A session straight to PostgreSQL, which trusts the superuser on this machine. */
  private static RawWire direct() throws Exception {
    RawWire wire =
        RawWire.connect(new InetSocketAddress(ProxyFixture.PG_HOST, ProxyFixture.PG_PORT));
    wire.write(Packets.startup(Map.of("user", ProxyFixture.PG_USER, "database", fixture.database)));
    wire.expectAuthentication(T, 0);
    wire.afterAuthenticationOk(T);
    return wire;
  }

  private static Map<String, String> alice() {
    return Map.of("user", ProxyFixture.USER, "database", fixture.database);
  }
}
