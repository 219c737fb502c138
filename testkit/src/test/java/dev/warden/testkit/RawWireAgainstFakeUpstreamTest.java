package dev.warden.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The two halves of the testkit against each other, so each is known to work before use. */
class RawWireAgainstFakeUpstreamTest {
  private static final Duration T = Duration.ofSeconds(5);

  @Test
  void scramLoginSucceedsAgainstACorrectServer() throws Exception {
    try (FakeUpstream server =
            FakeUpstream.start(
                FakeUpstream.scram(
                    "pencil", FakeUpstream.SaslFlaw.NONE, "canary", FakeUpstream.answerQueries()));
        RawWire wire = RawWire.connect(server.address())) {
      RawWire.Session session = wire.login(Map.of("user", "u", "database", "d"), "pencil");

      assertThat(session.processId()).isEqualTo(4242);
      assertThat(session.secretKey()).containsExactly(1, 2, 3, 4);
      assertThat(session.parameter("application_name")).isEqualTo("canary");
      wire.write(Packets.query("SELECT 1"));
      assertThat(wire.readThrough('Z', T)).extracting(WireMessage::kind).containsExactly('C', 'Z');
      assertThat(server.connections().getFirst().startupParameters())
          .containsEntry("user", "u")
          .containsEntry("database", "d");
    }
  }

  @Test
  void loginRejectsABadServerSignature() throws Exception {
    try (FakeUpstream server =
            FakeUpstream.start(
                FakeUpstream.scram(
                    "pencil",
                    FakeUpstream.SaslFlaw.BAD_SERVER_SIGNATURE,
                    "canary",
                    FakeUpstream.answerQueries()));
        RawWire wire = RawWire.connect(server.address())) {
      assertThatThrownBy(() -> wire.login(Map.of("user", "u"), "pencil"))
          .hasMessageContaining("server signature does not verify");
    }
  }

  @Test
  void splitWritesArriveWholeAndTheServerRecordsThem() throws Exception {
    byte[] startup = Packets.startup(Map.of("user", "u"));
    try (FakeUpstream server =
            FakeUpstream.start(
                FakeUpstream.trust(c -> c.write(Packets.errorResponse(Map.of('S', "FATAL")))));
        RawWire wire = RawWire.connect(server.address())) {
      wire.writeSplit(startup, Duration.ofMillis(20), 1, 4, 9);
      var messages = wire.readThrough('E', T);
      wire.close();
      FakeUpstream.Connection c = server.connections().getFirst();
      assertThat(c.awaitFinished(T)).isTrue();

      assertThat(messages)
          .extracting(WireMessage::kind)
          .containsExactly('R', 'S', 'S', 'S', 'K', 'Z', 'E');
      assertThat(c.received()).isEqualTo(startup);
      assertThat(c.closedByPeer()).isTrue();
    }
  }

  @Test
  void drainReportsTheCloseOfTheServer() throws Exception {
    try (FakeUpstream server = FakeUpstream.start(c -> c.readStartupPacket(T));
        RawWire wire = RawWire.connect(server.address())) {
      byte[] startup = Packets.startup(Map.of("user", "u"));
      wire.write(startup);
      long deadline = System.nanoTime() + T.toNanos();
      while ((server.connections().isEmpty()
              || server.connections().getFirst().received().length < startup.length)
          && System.nanoTime() < deadline) {
        Thread.sleep(5);
      }
      server.close();

      RawWire.Drained drained = wire.drain(T);
      assertThat(drained.closed()).isTrue();
      assertThat(drained.messages()).isEmpty();
      assertThat(drained.elapsed()).isLessThan(T);
    }
  }
}
