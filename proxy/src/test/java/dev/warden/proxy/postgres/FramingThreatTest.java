package dev.warden.proxy.postgres;

import static dev.warden.testkit.WireAssertions.assertFatal;
import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.core.gate.Gatekeeper;
import dev.warden.testkit.Packets;
import dev.warden.testkit.RawWire;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Length fields that lie (THREATS P01): below the minimum, at and past the configured maximum,
 * 2<sup>31</sup>−1, 2<sup>31</sup> (negative as an {@code int}) and 2<sup>32</sup>−1, for every
 * frontend message type, before authentication (startup packets and SASL messages) and after it
 * (the relay). Only headers are sent: each must be refused from the header alone with FATAL 08P01
 * and a close within one second, and the proxy, which runs in this JVM, must not have allocated for
 * the lengths it was told.
 */
class FramingThreatTest {
  private static final Duration CLOSE_WITHIN = Duration.ofSeconds(1);
  private static final Duration T = Duration.ofSeconds(5);
  private static final int MAX_MESSAGE = 1 << 20;

  /** Lengths no server accepts for any message type. */
  private static final long[] HOSTILE_LENGTHS = {0, 3, 0x7FFF_FFFFL, 0x8000_0000L, 0xFFFF_FFFFL};

  /** The messages Warden gathers whole to inspect, and so holds to maxMessageBytes. */
  private static final char[] INSPECTED_TYPES = {'Q', 'P', 'F', 'E', 'C'};

  /** Every type a client may send after login (Frontend/Backend Protocol, "Message Formats"). */
  private static final char[] FRONTEND_TYPES = {
    'Q', 'P', 'B', 'D', 'E', 'C', 'd', 'c', 'f', 'F', 'p', 'S', 'H', 'X'
  };

  private static final char[] FIXED_LENGTH_TYPES = {'S', 'H', 'X', 'c'};

  static ProxyFixture fixture;

  @BeforeAll
  static void start() throws Exception {
    fixture =
        new ProxyFixture(
            Gatekeeper.allowAll(),
            s ->
                new ProxySettings(
                    s.listen(), s.tls(), s.authTimeout(), s.maxClients(), MAX_MESSAGE));
    try (RawWire wire = connect()) {
      wire.login(alice(), ProxyFixture.PASSWORD); // warm up, so that deadlines measure the proxy
    }
  }

  @AfterAll
  static void stop() {
    if (fixture != null) {
      fixture.close();
    }
  }

  @Test
  void p01LyingStartupPacketLengthsAreRefusedFromTheHeader() throws Exception {
    long[] lengths = {0, 4, 7, 10_001, 0x7FFF_FFFFL, 0x8000_0000L, 0xFFFF_FFFFL};
    Footprint before = Footprint.now();
    for (long length : lengths) {
      try (RawWire wire = connect()) {
        wire.write(Packets.untypedWithLength(length, Packets.body().int32(3 << 16).toByteArray()));
        assertFatal(wire.drain(CLOSE_WITHIN), "08P01", "startup packet");
      }
    }
    before.assertGrewLessThan(Footprint.now(), 8 << 20);
  }

  @Test
  void p01LyingSaslMessageLengthsAreRefusedBeforeAuthentication() throws Exception {
    List<Long> lengths = new ArrayList<>();
    for (long l : HOSTILE_LENGTHS) {
      lengths.add(l);
    }
    lengths.add(MAX_MESSAGE + 1L);
    lengths.add(8 * 1024 + 5L); // above the 8 KiB cap on SASL messages
    Footprint before = Footprint.now();
    for (long length : lengths) {
      try (RawWire wire = connect()) {
        wire.write(Packets.startup(alice()));
        wire.expectAuthentication(T, 10);
        wire.write(Packets.typedWithLength('p', length, new byte[0]));
        RawWire.Drained d = wire.drain(CLOSE_WITHIN);
        assertFatal(d, "08P01", "");
        assertThat(d.messages()).as("length %d", length).hasSize(1);
      }
    }
    before.assertGrewLessThan(Footprint.now(), 8 << 20);
  }

  @Test
  void p01EveryMessageTypeWithALyingLengthEndsTheSession() throws Exception {
    List<Case> cases = new ArrayList<>();
    for (char type : FRONTEND_TYPES) {
      for (long length : HOSTILE_LENGTHS) {
        cases.add(new Case(type, length, expectedState(type, length)));
      }
    }
    for (char type : INSPECTED_TYPES) {
      cases.add(new Case(type, MAX_MESSAGE + 1L, "08P01"));
    }
    for (char type : FIXED_LENGTH_TYPES) {
      for (long length : new long[] {5, 8}) {
        cases.add(new Case(type, length, "08P01"));
      }
    }
    for (int type : new int[] {0, 'A', 'Z', 'R', 'x', 0xFF}) {
      cases.add(new Case((char) type, 4, "08P01"));
    }
    Footprint before = Footprint.now();
    for (Case c : cases) {
      try (RawWire wire = connect()) {
        wire.login(alice(), ProxyFixture.PASSWORD);
        wire.write(Packets.typedWithLength(c.type(), c.length(), new byte[0]));
        RawWire.Drained d = wire.drain(CLOSE_WITHIN);
        try {
          assertFatal(d, c.sqlState(), "");
        } catch (AssertionError e) {
          throw new AssertionError(c + ": " + e.getMessage(), e);
        }
      }
    }
    before.assertGrewLessThan(Footprint.now(), 16 << 20);
  }

  /** One hostile header and the SQLSTATE of the FATAL that must end the session. */
  private record Case(char type, long length, String sqlState) {
    @Override
    public String toString() {
      return "type 0x" + Integer.toHexString(type) + " ('" + type + "') length " + length;
    }
  }

  /**
   * 08P01 when Warden refuses the header (it inspects Execute and Close whole, and holds Bind,
   * whose names it reads, to PostgreSQL's own large-message bound). A streamed message of length
   * 2<sup>31</sup>−1 is PostgreSQL's to refuse: it drops the connection without a word for
   * Describe, CopyData and CopyFail ({@code pq_getmessage} reports "invalid message length" only to
   * its log), and Warden then tells the client the upstream connection was lost (08006); for a
   * PasswordMessage outside authentication it sends FATAL 08P01 itself, which is relayed.
   */
  private static String expectedState(char type, long length) {
    boolean streamed = "Ddf".indexOf(type) >= 0;
    return streamed && length == 0x7FFF_FFFFL ? "08006" : "08P01";
  }

  @Test
  void p01TheLargestAllowedMessageIsRelayedAndOneByteMoreIsNot() throws Exception {
    String sql = "SELECT 'fits'";
    byte[] padded = new byte[MAX_MESSAGE - 4];
    java.util.Arrays.fill(padded, (byte) ' ');
    System.arraycopy(sql.getBytes(), 0, padded, 0, sql.length());
    padded[padded.length - 1] = 0;
    try (RawWire wire = connect()) {
      wire.login(alice(), ProxyFixture.PASSWORD);
      wire.write(Packets.typed('Q', padded));

      assertThat(StartupPacketThreatTest.dataRowText(wire.readThrough('Z', T))).isEqualTo("fits");
    }
    try (RawWire wire = connect()) {
      wire.login(alice(), ProxyFixture.PASSWORD);
      // One byte more than the limit, announced in the header: refused from the header alone, so
      // the body is not sent (Warden closes at once, and writing 64 MiB into a closed socket would
      // race with reading its answer).
      wire.write(Packets.typedWithLength('Q', MAX_MESSAGE + 1L, new byte[0]));

      assertFatal(wire.drain(CLOSE_WITHIN), "08P01", "larger than the configured limit");
    }
  }

  private static RawWire connect() throws Exception {
    return RawWire.connect(new InetSocketAddress("127.0.0.1", fixture.port()));
  }

  private static Map<String, String> alice() {
    return Map.of("user", ProxyFixture.USER, "database", fixture.database);
  }

  /** Heap in use after a collection, and the direct memory Netty's default allocator holds. */
  private record Footprint(long heap, long direct) {
    static Footprint now() {
      System.gc();
      long heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
      long direct =
          ByteBufAllocator.DEFAULT instanceof ByteBufAllocatorMetricProvider p
              ? p.metric().usedDirectMemory() + p.metric().usedHeapMemory()
              : 0;
      return new Footprint(heap, direct);
    }

    void assertGrewLessThan(Footprint after, long bytes) {
      assertThat(after.heap - heap).as("heap growth").isLessThan(bytes);
      assertThat(after.direct - direct).as("Netty buffer growth").isLessThan(bytes);
    }
  }
}
