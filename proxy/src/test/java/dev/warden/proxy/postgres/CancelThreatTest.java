package dev.warden.proxy.postgres;

import static dev.warden.testkit.WireAssertions.assertFatal;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warden.testkit.Packets;
import dev.warden.testkit.RawWire;
import dev.warden.testkit.WireMessage;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Cancel-key forgery and malformed cancels (THREATS P12, P13). The oracle is a {@code pg_sleep}
 * running through the proxy: it must survive every forged or malformed CancelRequest (it is still
 * active in {@code pg_stat_activity} and its client has heard nothing) and be cut short by a
 * genuine one. Each test sends from its own loopback address, because the proxy ignores a source
 * after 20 bad keys a minute.
 */
class CancelThreatTest {
  private static final Duration T = Duration.ofSeconds(5);
  private static final int FORGERIES = 1000;
  private static final String QUERY_CANCELED = "57014";

  static ProxyFixture fixture;

  @BeforeAll
  static void start() throws Exception {
    fixture = new ProxyFixture();
    try (RawWire wire = connect(null)) {
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
  void p12ForgedCancelsNeverCancelAndAGuessingSourceIsIgnoredEvenWithTheRightKey()
      throws Exception {
    InetAddress guesser = InetAddress.getByName("127.0.0.3");
    InetAddress padder = InetAddress.getByName("127.0.0.4");
    InetAddress honest = InetAddress.getByName("127.0.0.5");
    try (RawWire victim = connect(null)) {
      RawWire.Session session = victim.login(alice(), ProxyFixture.PASSWORD);
      victim.write(Packets.query("SELECT pg_backend_pid()"));
      assertThat(StartupPacketThreatTest.dataRowText(victim.readThrough('Z', T)))
          .as("BackendKeyData carries the upstream's real process id")
          .isEqualTo(Integer.toString(session.processId()));
      assertThat(session.secretKey()).hasSize(4);

      victim.write(Packets.query("SELECT pg_sleep(60)"));
      awaitRunning(session.processId());
      SecureRandom random = new SecureRandom();
      try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
        List<Future<RawWire.Drained>> answers = new ArrayList<>();
        for (int i = 0; i < FORGERIES; i++) {
          byte[] key = new byte[4];
          random.nextBytes(key);
          int pid = i % 2 == 0 ? session.processId() : random.nextInt();
          answers.add(pool.submit(() -> cancel(guesser, pid, key)));
          if (answers.size() % 16 == 0) {
            answers.getLast().get(); // a bounded number of sockets in flight
          }
        }
        for (Future<RawWire.Drained> a : answers) {
          RawWire.Drained d = a.get();
          assertThat(d.closed()).isTrue();
          assertThat(d.messages()).isEmpty();
        }
      }
      // After 20 bad keys the guesser is not even heard, though this key is right.
      cancel(guesser, session.processId(), session.secretKey());
      // The right key with one byte more is not the key Warden handed out (THREATS P13).
      cancel(padder, session.processId(), Arrays.copyOf(session.secretKey(), 5));

      assertThat(victim.drain(Duration.ofMillis(300)).messages())
          .as("the victim's query was not interrupted")
          .isEmpty();
      assertThat(activeQuery(session.processId())).contains("pg_sleep(60)");

      long start = System.nanoTime();
      cancel(honest, session.processId(), session.secretKey());
      List<WireMessage> result = victim.readThrough('Z', T);
      assertThat(result)
          .filteredOn(m -> m.is('E'))
          .singleElement()
          .satisfies(e -> assertThat(e.sqlState()).isEqualTo(QUERY_CANCELED));
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(3));
    }
  }

  /** The query the backend is running, or the empty string if it is idle or gone. */
  private static String activeQuery(int processId) throws Exception {
    try (Connection c = fixture.direct();
        PreparedStatement s =
            c.prepareStatement(
                "SELECT query FROM pg_stat_activity WHERE pid = ? AND state = 'active'")) {
      s.setInt(1, processId);
      try (ResultSet r = s.executeQuery()) {
        return r.next() ? r.getString(1) : "";
      }
    }
  }

  private static void awaitRunning(int processId) throws Exception {
    long deadline = System.nanoTime() + T.toNanos();
    while (!activeQuery(processId).contains("pg_sleep") && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
  }

  @Test
  void p12PgjdbcStatementCancelCancelsThroughTheProxy() throws Exception {
    try (Connection c = fixture.connect();
        Statement s = c.createStatement();
        ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
      Future<Boolean> running = pool.submit(() -> s.execute("SELECT pg_sleep(30)"));
      Thread.sleep(300);
      long start = System.nanoTime();
      s.cancel();

      assertThatThrownBy(() -> running.get(5, TimeUnit.SECONDS))
          .isInstanceOf(ExecutionException.class)
          .cause()
          .isInstanceOfSatisfying(
              SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo(QUERY_CANCELED));
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(3));
    }
  }

  @Test
  void p13CancelKeysOfImpossibleLengthAreRefused() throws Exception {
    InetAddress source = InetAddress.getByName("127.0.0.6");
    for (int keyLength : new int[] {0, 3, 257, 1024}) {
      try (RawWire wire = connect(source)) {
        wire.write(Packets.cancelRequest(4242, new byte[keyLength]));
        assertFatal(wire.drain(T), "08P01", "CancelRequest");
      }
    }
  }

  private static RawWire.Drained cancel(InetAddress from, int processId, byte[] key)
      throws Exception {
    try (RawWire wire = connect(from)) {
      wire.write(Packets.cancelRequest(processId, key));
      return wire.drain(T);
    }
  }

  private static RawWire connect(InetAddress from) throws Exception {
    return RawWire.connect(new InetSocketAddress("127.0.0.1", fixture.port()), from);
  }

  private static Map<String, String> alice() {
    return Map.of("user", ProxyFixture.USER, "database", fixture.database);
  }
}
