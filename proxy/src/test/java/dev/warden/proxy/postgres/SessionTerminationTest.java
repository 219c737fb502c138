package dev.warden.proxy.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.core.session.LiveSession;
import dev.warden.core.session.SessionSnapshot;
import dev.warden.testkit.Packets;
import dev.warden.testkit.RawWire;
import dev.warden.testkit.WireMessage;
import java.net.InetSocketAddress;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Ending a session from another thread, at the wire: the client gets exactly one FATAL
 * ErrorResponse (57P01) between whole messages and the connection closes, and the session leaves
 * the registry; when the client stops reading in the middle of a message, the error is not wedged
 * into it and the connection is closed without it.
 */
class SessionTerminationTest {
  static ProxyFixture fixture;

  @BeforeAll
  static void start() {
    fixture = new ProxyFixture();
  }

  @AfterAll
  static void stop() {
    fixture.close();
  }

  private static RawWire login(String application) throws Exception {
    RawWire wire = RawWire.connect(new InetSocketAddress("127.0.0.1", fixture.port()));
    wire.login(
        Map.of(
            "user", ProxyFixture.USER,
            "database", fixture.database,
            "application_name", application),
        ProxyFixture.PASSWORD);
    return wire;
  }

  private static LiveSession live(String application) throws InterruptedException {
    for (int i = 0; i < 200; i++) {
      for (SessionSnapshot s : fixture.proxy.sessions().snapshots()) {
        if (s.application().equals(application)) {
          return fixture.proxy.sessions().find(s.id()).orElseThrow();
        }
      }
      Thread.sleep(10);
    }
    throw new AssertionError("no live session of " + application);
  }

  private static long upstreamSessions(String application) throws SQLException {
    try (Connection c = fixture.direct();
        Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = '"
                    + application
                    + "'")) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private static void awaitNoUpstream(String application) throws Exception {
    for (int i = 0; i < 400; i++) {
      if (upstreamSessions(application) == 0) {
        return;
      }
      Thread.sleep(25);
    }
    throw new AssertionError("the upstream session of " + application + " is still there");
  }

  @Test
  void anIdleClientGetsOneFatalErrorAndTheConnectionCloses() throws Exception {
    try (RawWire wire = login("terminate-idle")) {
      wire.write(Packets.query("SELECT 1"));
      wire.readThrough('Z', Duration.ofSeconds(5));
      LiveSession session = live("terminate-idle");
      assertThat(session.statements()).isEqualTo(1);
      session.terminate("root", "maintenance window");

      RawWire.Drained drained = wire.drain(Duration.ofSeconds(10));
      assertThat(drained.closed()).isTrue();
      assertThat(drained.messages()).hasSize(1);
      WireMessage error = drained.first();
      assertThat(error.kind()).isEqualTo('E');
      assertThat(error.field('S')).isEqualTo("FATAL");
      assertThat(error.sqlState()).isEqualTo("57P01");
      assertThat(error.field('M'))
          .isEqualTo(
              "terminating connection: this session was ended by Warden administrator root:"
                  + " maintenance window");
      awaitNoUpstream("terminate-idle");
      assertThat(fixture.proxy.sessions().find(session.context().id())).isEmpty();
      session.terminate("root", "again"); // an ended session: nothing happens
    }
  }

  @Test
  void aClientStalledInsideAMessageIsClosedWithoutTheErrorWedgedIntoIt() throws Exception {
    try (RawWire wire = login("terminate-stalled")) {
      // One 48 MB row, far more than the socket buffers hold: the client reads none of it, so the
      // relay stays in the middle of the DataRow.
      wire.write(Packets.query("SELECT repeat('x', 48 * 1024 * 1024)"));
      LiveSession session = live("terminate-stalled");
      Thread.sleep(500);
      session.terminate("root", "stuck");
      // Still not reading, past the wait for the end of the message: the connection is closed.
      Thread.sleep(SessionTermination.BOUNDARY_WAIT.plusSeconds(1).toMillis());
      assertThat(fixture.proxy.sessions().find(session.context().id())).isEmpty();
      RawWire.Drained drained = wire.drain(Duration.ofSeconds(10));
      assertThat(drained.closed()).isTrue();
      // Only whole messages arrived (the row description); the half-sent row was dropped at the
      // close, and no error was inserted into it.
      assertThat(drained.messages()).extracting(WireMessage::kind).containsExactly('T');
      awaitNoUpstream("terminate-stalled");
    }
  }

  @Test
  void aClientReadingALargeResultGetsTheErrorAfterAWholeMessage() throws Exception {
    try (RawWire wire = login("terminate-reading")) {
      wire.write(Packets.query("SELECT repeat('x', 1000) FROM generate_series(1, 200000)"));
      LiveSession session = live("terminate-reading");
      assertThat(wire.read(Duration.ofSeconds(5)).kind()).isEqualTo('T'); // the result has begun
      session.terminate("root", "enough");
      RawWire.Drained drained = wire.drain(Duration.ofSeconds(20));
      assertThat(drained.closed()).isTrue();
      // Rows, then the error right after a whole one (not after the whole result), and nothing
      // after the error.
      WireMessage last = drained.messages().getLast();
      assertThat(last.kind()).isEqualTo('E');
      assertThat(last.sqlState()).isEqualTo("57P01");
      assertThat(
              drained.messages().subList(0, drained.messages().size() - 1).stream()
                  .map(WireMessage::kind)
                  .filter(k -> k != 'D')
                  .toList())
          .isEmpty();
      assertThat(drained.messages().size()).isLessThan(150_000);
      awaitNoUpstream("terminate-reading");
    }
  }
}
