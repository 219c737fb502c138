package dev.warden.proxy.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.warden.core.environment.Environment;
import dev.warden.core.environment.Environments;
import dev.warden.core.environment.TlsMode;
import dev.warden.core.environment.Upstream;
import dev.warden.core.gate.Gatekeeper;
import dev.warden.core.identity.AuthThrottle;
import dev.warden.core.identity.ScramServer;
import dev.warden.core.identity.Secret;
import dev.warden.protocol.postgres.Limits;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Coverage-guided fuzzing of a client's first packets (THREATS P01–P05, T01, T02, T10): arbitrary
 * bytes, cut into arbitrary reads, go into a {@link ClientStartupHandler} in an {@link
 * EmbeddedChannel}. Whatever arrives, no exception may escape the pipeline, everything Warden
 * writes must be a one-byte TLS answer or well-formed backend messages, a FATAL must be the last
 * thing written and be followed by the close, and no input may get past authentication: the fuzzer
 * does not know alice's password, so AuthenticationOk, BackendKeyData or ReadyForQuery would be a
 * bypass.
 *
 * <p>A plain {@code mvn test} replays the seeds in {@code
 * src/test/resources/dev/warden/proxy/postgres/StartupFuzzThreatTestInputs/firstPackets/}. To fuzz:
 * {@code JAZZER_FUZZ=1 mvn -pl proxy test -Dtest=StartupFuzzThreatTest}.
 */
class StartupFuzzThreatTest {
  private static final InMemoryUsers USERS = new InMemoryUsers().add("alice", "alice-secret");
  private static final ProxyContext CONTEXT = context();

  @FuzzTest(maxDuration = "10m")
  void firstPackets(FuzzedDataProvider data) {
    EmbeddedChannel channel = new ClientChannel(new ClientStartupHandler(CONTEXT));
    try {
      while (data.remainingBytes() > 0 && channel.isOpen()) {
        byte[] read = data.consumeBytes(data.consumeInt(1, 256));
        channel.writeInbound(Unpooled.wrappedBuffer(read));
      }
      channel.checkException();
      List<String> written = writtenMessages(channel);
      assertThat(written).doesNotContain("R0", "K", "Z", "S");
      int fatal = written.indexOf("E FATAL");
      if (fatal >= 0) {
        assertThat(fatal)
            .as("FATAL is the last message: %s", written)
            .isEqualTo(written.size() - 1);
        channel.runPendingTasks();
        assertThat(channel.isOpen()).as("closed after FATAL").isFalse();
      }
    } finally {
      channel.finishAndReleaseAll();
    }
  }

  /**
   * What Warden wrote, one entry per message: {@code "N"} for a one-byte TLS/GSS answer, {@code
   * "R<code>"} for an Authentication message, {@code "E <severity>"} for an ErrorResponse, the type
   * otherwise. Fails on anything that is not well framed.
   */
  private static List<String> writtenMessages(EmbeddedChannel channel) {
    List<String> messages = new ArrayList<>();
    for (ByteBuf out = channel.readOutbound(); out != null; out = channel.readOutbound()) {
      try {
        if (out.readableBytes() == 1) {
          char answer = (char) out.readByte();
          assertThat(answer).isIn('N', 'S');
          messages.add(String.valueOf(answer));
          continue;
        }
        while (out.isReadable()) {
          assertThat(out.readableBytes()).isGreaterThanOrEqualTo(5);
          char type = (char) out.readByte();
          long length = out.readUnsignedInt();
          assertThat(length).isBetween(4L, (long) out.readableBytes() + 4);
          ByteBuf body = out.readSlice((int) length - 4);
          assertThat(type).isIn('R', 'E', 'v');
          messages.add(
              switch (type) {
                case 'R' -> "R" + body.getInt(0);
                case 'E' -> "E " + severity(body);
                default -> String.valueOf(type);
              });
        }
      } finally {
        out.release();
      }
    }
    return messages;
  }

  private static String severity(ByteBuf body) {
    int at = body.readerIndex();
    while (body.getByte(at) != 0) {
      byte code = body.getByte(at);
      int end = body.indexOf(at + 1, body.writerIndex(), (byte) 0);
      if (code == 'S') {
        return body.toString(at + 1, end - at - 1, StandardCharsets.UTF_8);
      }
      at = end + 1;
    }
    return "";
  }

  /** An embedded channel with a real-looking peer address, as the handler logs and keys on it. */
  private static final class ClientChannel extends EmbeddedChannel {
    ClientChannel(ClientStartupHandler handler) {
      super(handler);
    }

    @Override
    protected SocketAddress remoteAddress0() {
      return new InetSocketAddress("127.0.0.1", 40000);
    }
  }

  private static ProxyContext context() {
    ProxySettings settings = ProxySettings.defaults(new InetSocketAddress("127.0.0.1", 0));
    Upstream nowhere =
        new Upstream(
            "127.0.0.1",
            9,
            Optional.empty(),
            "u",
            Secret.of(""),
            TlsMode.DISABLE,
            Optional.empty());
    SecureRandom random = new SecureRandom();
    return new ProxyContext(
        settings,
        new Limits(settings.maxMessageBytes(), Limits.defaults().maxStartupBytes()),
        new Environments(
            List.of(new Environment("any", Set.of(), List.of(Environment.ANY_DATABASE), nowhere))),
        new ScramServer(USERS, Secret.of("mock-key-for-fuzzing"), random),
        // Never holds an answer: held answers would wait on a clock the embedded loop never runs.
        new AuthThrottle(
            Clock.systemUTC(),
            Integer.MAX_VALUE,
            Duration.ZERO,
            Duration.ZERO,
            Duration.ofMinutes(1)),
        Gatekeeper.allowAll(),
        new CancelRegistry(random, Clock.systemUTC()),
        Optional.empty(),
        new UpstreamTls(),
        new UpstreamPool(),
        Transport.best(),
        random,
        new AtomicInteger(),
        new Catalogs(settings.catalogueMaxAge()),
        new ProxyAudit(new dev.warden.testkit.RecordingAuditTrail(), false, Clock.systemUTC()),
        dev.warden.core.masking.DataMaps.NONE,
        LoginSettings.LOCAL_ONLY,
        dev.warden.core.gate.ApprovalGate.NONE,
        dev.warden.core.environment.AccessWindows.NONE,
        new dev.warden.core.session.SessionRegistry(dev.warden.core.audit.Redactor.NONE));
  }
}
