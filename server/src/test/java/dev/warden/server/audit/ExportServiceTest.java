package dev.warden.server.audit;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.warden.core.audit.ChainedRecord;
import dev.warden.core.identity.Secret;
import dev.warden.server.config.AuditConfig;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ExportServiceTest {
  private static final String LOG = "w-0123456789ab";
  private static final String HOOK_SECRET = "hook-secret-for-tests";

  @TempDir Path dir;
  private final AuditJson json = new AuditJson();
  private final MemorySource source = new MemorySource(LOG);
  private final List<AutoCloseable> open = new ArrayList<>();

  private static ExportSettings fast(int batchSize) {
    return new ExportSettings(
        batchSize,
        batchSize,
        Duration.ofMillis(50),
        Duration.ofMillis(5),
        Duration.ofMillis(40),
        Duration.ofSeconds(2));
  }

  @AfterEach
  void close() throws Exception {
    for (AutoCloseable c : open.reversed()) {
      c.close();
    }
  }

  private ExportService start(List<AuditConfig.Export> exports, int batchSize, PrintStream out) {
    ExportService service =
        ExportService.start(exports, dir.resolve("export"), source, source, fast(batchSize), out);
    open.add(service);
    return service;
  }

  private ExportService start(Sink sink) {
    ExportService service =
        ExportService.start(List.of(sink), dir.resolve("export"), source, source, fast(10));
    open.add(service);
    return service;
  }

  private static void await(String what, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting until " + what);
      }
      Thread.sleep(10);
    }
  }

  private List<Map<String, Object>> lines(Path file) throws IOException {
    if (!Files.exists(file)) {
      return List.of();
    }
    List<Map<String, Object>> out = new ArrayList<>();
    for (String line : Files.readAllLines(file)) {
      @SuppressWarnings("unchecked")
      Map<String, Object> m = (Map<String, Object>) json.read(line);
      out.add(m);
    }
    return out;
  }

  private static List<Long> seqs(List<Map<String, Object>> lines) {
    return lines.stream().map(l -> ((Number) l.get("seq")).longValue()).toList();
  }

  private static List<Long> range(long from, long to) {
    List<Long> out = new ArrayList<>();
    for (long i = from; i <= to; i++) {
      out.add(i);
    }
    return out;
  }

  @Test
  void jsonLinesFileGetsEveryRecordWithItsPositionAndFollowsTheTrail() throws Exception {
    List<ChainedRecord> first = source.appendEvents(30);
    Path file = dir.resolve("audit.jsonl");
    ExportService service =
        start(List.of(new AuditConfig.Export.JsonLines(Optional.of(file))), 7, System.out);
    await("30 lines are exported", () -> safeLines(file) == 30);
    List<Map<String, Object>> lines = lines(file);
    assertThat(seqs(lines)).isEqualTo(range(1, 30));
    Map<String, Object> line = lines.get(4);
    assertThat(List.copyOf(line.keySet()).subList(0, 3)).containsExactly("log_id", "seq", "hash");
    assertThat(line)
        .containsEntry("log_id", LOG)
        .containsEntry("hash", HexFormat.of().formatHex(first.get(4).hash()))
        .containsEntry("event", "test-event")
        .containsEntry("user", "alice");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file)))
        .isEqualTo("rw-------");

    // The feed wakes the sink: new records follow well within the poll interval's reach.
    source.appendEvents(5);
    await("35 lines are exported", () -> safeLines(file) == 35);
    assertThat(seqs(lines(file))).isEqualTo(range(1, 35));
    await("the cursor reaches 35", () -> service.status().getFirst().delivered() == 35);
    Path cursorFile = ExportCursor.file(dir.resolve("export"), service.status().getFirst().name());
    assertThat(ExportCursor.read(cursorFile)).contains(new ExportCursor(LOG, 35));
  }

  private int safeLines(Path file) {
    try {
      return Files.exists(file) ? Files.readAllLines(file).size() : 0;
    } catch (IOException e) {
      return -1;
    }
  }

  @Test
  void resumesFromItsCursorAfterARestartWithoutDuplicates() throws Exception {
    Path file = dir.resolve("audit.jsonl");
    List<AuditConfig.Export> exports = List.of(new AuditConfig.Export.JsonLines(Optional.of(file)));
    source.appendEvents(10);
    ExportService first = start(exports, 4, System.out);
    await("10 lines", () -> safeLines(file) == 10);
    await("the cursor reaches 10", () -> first.status().getFirst().delivered() == 10);
    first.close();

    source.appendEvents(5); // written while no exporter runs
    start(exports, 4, System.out);
    await("15 lines", () -> safeLines(file) == 15);
    Thread.sleep(100); // nothing more arrives
    assertThat(seqs(lines(file))).isEqualTo(range(1, 15));
  }

  @Test
  void standardOutputGetsTerminalSafeLines() throws Exception {
    source.append(List.of(MemorySource.event(1, "red \u001b[31m csi \u009b1m rtl \u202e end")));
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
    start(List.of(new AuditConfig.Export.JsonLines(Optional.empty())), 10, out);
    await("one line on stdout", () -> bytes.toString(StandardCharsets.UTF_8).endsWith("\n"));
    String text = bytes.toString(StandardCharsets.UTF_8);
    assertThat(text.chars().filter(c -> c < 0x20 && c != '\n' || c >= 0x7f && c <= 0x9f)).isEmpty();
    assertThat(text).doesNotContain("\u202e").contains("\\u001B[31m", "\\u009B1m", "\\u202E");
    @SuppressWarnings("unchecked")
    Map<String, Object> line = (Map<String, Object>) json.read(text.strip());
    @SuppressWarnings("unchecked")
    Map<String, Object> details = (Map<String, Object>) line.get("details");
    assertThat(details.get("text")).isEqualTo("red \u001b[31m csi \u009b1m rtl \u202e end");
  }

  /** An HTTP receiver that refuses the first {@code failures} requests with 503. */
  private final class Receiver implements AutoCloseable {
    final HttpServer server;
    final ConcurrentLinkedQueue<byte[]> accepted = new ConcurrentLinkedQueue<>();
    final ConcurrentLinkedQueue<String> signatures = new ConcurrentLinkedQueue<>();
    final ConcurrentLinkedQueue<String> deliveries = new ConcurrentLinkedQueue<>();
    final AtomicInteger refused = new AtomicInteger();

    Receiver(int port, int failures) throws IOException {
      server = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 0);
      server.createContext(
          "/hook",
          exchange -> {
            byte[] body = exchange.getRequestBody().readAllBytes();
            if (refused.get() < failures) {
              refused.incrementAndGet();
              exchange.sendResponseHeaders(503, -1);
            } else {
              accepted.add(body);
              String signature = exchange.getRequestHeaders().getFirst("X-Warden-Signature");
              signatures.add(signature == null ? "none" : signature);
              deliveries.add(exchange.getRequestHeaders().getFirst("X-Warden-Delivery"));
              exchange.sendResponseHeaders(204, -1);
            }
            exchange.close();
          });
      server.start();
      open.add(this);
    }

    URI url() {
      return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/hook?token=t0k");
    }

    Set<Long> receivedSeqs() {
      Set<Long> seqs = new TreeSet<>();
      for (byte[] body : accepted) {
        for (Object o : (List<?>) json.read(new String(body, StandardCharsets.UTF_8))) {
          seqs.add(((Number) ((Map<?, ?>) o).get("seq")).longValue());
        }
      }
      return seqs;
    }

    @Override
    public void close() {
      server.stop(0);
    }
  }

  @Test
  void webhookThatFailsForAWhileGetsEverythingSigned() throws Exception {
    Receiver receiver = new Receiver(0, 4);
    source.appendEvents(50);
    ExportService service =
        start(
            List.of(
                new AuditConfig.Export.Webhook(
                    receiver.url(), Optional.of(Secret.of(HOOK_SECRET)))),
            10,
            System.out);
    await("all 50 records arrive", () -> receiver.receivedSeqs().size() == 50);
    assertThat(receiver.receivedSeqs()).containsExactlyElementsOf(range(1, 50));
    assertThat(receiver.refused.get()).isEqualTo(4);
    await("the cursor reaches 50", () -> service.status().getFirst().delivered() == 50);
    assertThat(service.status().getFirst().failures()).isZero();
    assertThat(service.status().getFirst().lastError()).isEmpty();

    SecretKeySpec key =
        new SecretKeySpec(HOOK_SECRET.getBytes(StandardCharsets.UTF_8), "HmacSHA256");
    List<byte[]> bodies = List.copyOf(receiver.accepted);
    List<String> signatures = List.copyOf(receiver.signatures);
    for (int i = 0; i < bodies.size(); i++) {
      assertThat(signatures.get(i)).isEqualTo("sha256=" + WebhookSink.sign(key, bodies.get(i)));
    }
    assertThat(receiver.deliveries).first().isEqualTo(LOG + ":1-10");
    // A body changed in transit would not match its signature.
    byte[] tampered = bodies.getFirst().clone();
    tampered[5] ^= 1;
    assertThat("sha256=" + WebhookSink.sign(key, tampered)).isNotEqualTo(signatures.getFirst());
  }

  @Test
  void webhookThatIsDownCatchesUpWhenItComesBack() throws Exception {
    int port;
    try (ServerSocket probe = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      port = probe.getLocalPort();
    }
    source.appendEvents(12);
    URI url = URI.create("http://127.0.0.1:" + port + "/hook");
    ExportService service =
        start(List.of(new AuditConfig.Export.Webhook(url, Optional.empty())), 5, System.out);
    await("several failed attempts", () -> service.status().getFirst().failures() >= 3);
    assertThat(service.status().getFirst().delivered()).isZero();
    assertThat(service.status().getFirst().lastError()).get().asString().contains("cannot reach");
    source.appendEvents(3); // more records while the receiver is down

    Receiver receiver = new Receiver(port, 0);
    await("all 15 records arrive", () -> receiver.receivedSeqs().size() == 15);
    assertThat(receiver.receivedSeqs()).containsExactlyElementsOf(range(1, 15));
    assertThat(receiver.signatures).containsOnly("none");
    await("the cursor reaches 15", () -> service.status().getFirst().delivered() == 15);
  }

  /** A sink that fails while {@code failing} is set and records what it received. */
  private static final class FlakySink implements Sink {
    final AtomicBoolean failing = new AtomicBoolean(true);
    final List<Long> received = new java.util.concurrent.CopyOnWriteArrayList<>();

    @Override
    public String name() {
      return "flaky";
    }

    @Override
    public int batchSize() {
      return 10;
    }

    @Override
    public void deliver(String logId, List<ChainedRecord> batch) throws IOException {
      if (failing.get()) {
        throw new IOException("receiver unavailable");
      }
      batch.forEach(r -> received.add(r.seq()));
    }
  }

  @Test
  void aFailingSinkNeverAdvancesItsCursorAndResumesWhereItStopped() throws Exception {
    FlakySink sink = new FlakySink();
    source.appendEvents(25);
    ExportService service = start(sink);
    Path cursorFile = ExportCursor.file(dir.resolve("export"), "flaky");
    await("failures", () -> service.status().getFirst().failures() >= 5);
    assertThat(cursorFile).doesNotExist();
    assertThat(service.status().getFirst().lastError()).contains("receiver unavailable");
    sink.failing.set(false);
    await("everything delivered", () -> sink.received.size() >= 25);
    assertThat(sink.received).isEqualTo(range(1, 25));
    await("the cursor reaches 25", () -> service.status().getFirst().delivered() == 25);
    assertThat(ExportCursor.read(cursorFile)).contains(new ExportCursor(LOG, 25));
  }

  @Test
  void logReadFailuresAreRetried() throws Exception {
    FlakySink sink = new FlakySink();
    sink.failing.set(false);
    source.failReads.set(3);
    source.appendEvents(4);
    start(sink);
    await("delivered after the read failures", () -> sink.received.size() == 4);
    assertThat(source.failReads.get()).isLessThanOrEqualTo(0);
  }

  @Test
  void aCursorOfAnotherLogStartsFromTheBeginning() throws Exception {
    FlakySink sink = new FlakySink();
    sink.failing.set(false);
    new ExportCursor("w-somewhere-else", 100)
        .write(ExportCursor.file(dir.resolve("export"), "flaky"));
    source.appendEvents(3);
    start(sink);
    await("delivered from the first record", () -> sink.received.size() == 3);
    assertThat(sink.received).containsExactly(1L, 2L, 3L);
  }

  @Test
  void noSinksStartsNothing() {
    ExportService service = start(List.of(), 10, System.out);
    assertThat(service.status()).isEmpty();
    service.wake();
  }
}
