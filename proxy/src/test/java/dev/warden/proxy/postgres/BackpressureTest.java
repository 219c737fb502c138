package dev.warden.proxy.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.testkit.Packets;
import dev.warden.testkit.RawWire;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import java.net.InetSocketAddress;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A client that stops reading slows its own upstream and nothing else (THREATS P10): Warden stops
 * reading from the server instead of buffering the result, so the server's backend waits to write
 * (pg_stat_activity shows {@code ClientWrite}), other sessions keep working, and when the client
 * goes away the upstream session ends too.
 */
class BackpressureTest {
  static final String APP = "warden-backpressure-test";
  static ProxyFixture fixture;

  @BeforeAll
  static void start() {
    fixture = new ProxyFixture();
  }

  @AfterAll
  static void stop() {
    fixture.close();
  }

  private static Optional<String> upstreamWaitEvent() throws SQLException {
    try (Connection c = fixture.direct();
        Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT coalesce(wait_event, state) FROM pg_stat_activity"
                    + " WHERE application_name = '"
                    + APP
                    + "'")) {
      return rs.next() ? Optional.of(rs.getString(1)) : Optional.empty();
    }
  }

  private static long directMemoryInUse() {
    return ((ByteBufAllocatorMetricProvider) ByteBufAllocator.DEFAULT).metric().usedDirectMemory();
  }

  @Test
  void aClientThatStopsReadingPausesItsUpstreamAndOthersGoOn() throws Exception {
    RawWire stalled = RawWire.connect(new InetSocketAddress("127.0.0.1", fixture.port()));
    stalled.login(
        Map.of("user", ProxyFixture.USER, "database", fixture.database, "application_name", APP),
        ProxyFixture.PASSWORD);
    // About 2 GB of rows: far more than any socket buffer, and more than Warden could hold.
    stalled.write(Packets.query("SELECT repeat('x', 1000) FROM generate_series(1, 2000000)"));

    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    Optional<String> wait = upstreamWaitEvent();
    while (!wait.equals(Optional.of("ClientWrite")) && System.nanoTime() < deadline) {
      Thread.sleep(100);
      wait = upstreamWaitEvent();
    }
    assertThat(wait).contains("ClientWrite");
    // Stalled, not merely slow: the server stays blocked on the write for a good while, and
    // Warden holds only a bounded amount of the result.
    for (int i = 0; i < 20; i++) {
      Thread.sleep(100);
      assertThat(upstreamWaitEvent()).contains("ClientWrite");
    }
    assertThat(directMemoryInUse()).isLessThan(128L << 20);

    try (Connection other = fixture.connect();
        Statement s = other.createStatement();
        ResultSet rs = s.executeQuery("SELECT 42")) {
      assertThat(rs.next()).isTrue();
      assertThat(rs.getInt(1)).isEqualTo(42);
    }

    stalled.close();
    deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (upstreamWaitEvent().isPresent() && System.nanoTime() < deadline) {
      Thread.sleep(100);
    }
    assertThat(upstreamWaitEvent()).isEmpty();
  }
}
