package dev.warden.proxy.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.core.gate.Gatekeeper;
import dev.warden.testkit.Packets;
import dev.warden.testkit.RawWire;
import dev.warden.testkit.Scram;
import dev.warden.testkit.WireMessage;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Slowloris (THREATS P07): clients that trickle their startup packet, or their first SASL message,
 * one byte at a time. The whole login has one deadline (here one second), so each is cut when it
 * expires, however steadily it sends; meanwhile an honest client still logs in promptly.
 */
class SlowlorisThreatTest {
  private static final Duration LOGIN_DEADLINE = Duration.ofSeconds(1);
  private static final Duration GRACE = Duration.ofSeconds(2);
  private static final Duration BYTE_EVERY = Duration.ofMillis(200);
  private static final int TRICKLERS = 30;

  static ProxyFixture fixture;

  @BeforeAll
  static void start() throws Exception {
    fixture =
        new ProxyFixture(
            Gatekeeper.allowAll(),
            s ->
                new ProxySettings(
                    s.listen(), s.tls(), LOGIN_DEADLINE, s.maxClients(), s.maxMessageBytes()));
    probe(); // warm up
  }

  @AfterAll
  static void stop() {
    if (fixture != null) {
      fixture.close();
    }
  }

  @Test
  void p07TricklingClientsAreCutAtTheLoginDeadlineWhileAnHonestClientLogsIn() throws Exception {
    List<Future<Trickle>> trickles = new ArrayList<>();
    List<Duration> probes = new ArrayList<>();
    try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
      for (int i = 0; i < TRICKLERS; i++) {
        boolean stallInSasl = i % 3 == 0;
        trickles.add(pool.submit(() -> trickle(stallInSasl)));
      }
      for (int i = 0; i < 4; i++) {
        Thread.sleep(250);
        probes.add(probe());
      }
    }

    assertThat(probes).allSatisfy(p -> assertThat(p).isLessThan(Duration.ofSeconds(1)));
    for (Future<Trickle> f : trickles) {
      Trickle t = f.get();
      assertThat(t.closedAfter())
          .as("trickler %s closed", t.stalledInSasl() ? "in SASL" : "in startup")
          .isNotNull()
          .isGreaterThanOrEqualTo(LOGIN_DEADLINE.minusMillis(100))
          .isLessThanOrEqualTo(LOGIN_DEADLINE.plus(GRACE));
      assertThat(t.messages()).as("what the proxy said before closing").isNotEmpty();
      WireMessage last = t.messages().getLast();
      assertThat(last.severity()).isEqualTo("FATAL");
      assertThat(last.sqlState()).isEqualTo("08006");
      assertThat(last.message()).isEqualTo("login timed out");
      if (t.stalledInSasl()) {
        assertThat(t.messages().getFirst().kind()).isEqualTo('R');
      }
    }
    long deadline = System.nanoTime() + Duration.ofSeconds(1).toNanos();
    while (fixture.proxy.clientCount() > 0 && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertThat(fixture.proxy.clientCount()).isZero();
  }

  /** What one trickling client saw: when the proxy closed on it, and what it said first. */
  private record Trickle(boolean stalledInSasl, Duration closedAfter, List<WireMessage> messages) {}

  private static Trickle trickle(boolean stallInSasl) throws IOException {
    try (RawWire wire = RawWire.connect(new InetSocketAddress("127.0.0.1", fixture.port()))) {
      long start = System.nanoTime();
      byte[] slow =
          Packets.startup(Map.of("user", ProxyFixture.USER, "database", fixture.database));
      if (stallInSasl) {
        wire.write(slow);
        slow = Packets.saslInitialResponse("SCRAM-SHA-256", Scram.client("x").clientFirst());
      }
      List<WireMessage> messages = new ArrayList<>();
      int at = 0;
      while (System.nanoTime() - start < Duration.ofSeconds(6).toNanos()) {
        if (at < slow.length) {
          try {
            wire.write(new byte[] {slow[at++]});
          } catch (IOException closed) {
            // the proxy closed; the drain below sees it
          }
        }
        RawWire.Drained d = wire.drain(BYTE_EVERY);
        messages.addAll(d.messages());
        if (d.closed()) {
          return new Trickle(stallInSasl, Duration.ofNanos(System.nanoTime() - start), messages);
        }
      }
      return new Trickle(stallInSasl, null, messages);
    }
  }

  private static Duration probe() throws Exception {
    long start = System.nanoTime();
    try (Connection c = fixture.connect();
        Statement s = c.createStatement();
        ResultSet r = s.executeQuery("SELECT 1")) {
      assertThat(r.next()).isTrue();
    }
    return Duration.ofNanos(System.nanoTime() - start);
  }
}
