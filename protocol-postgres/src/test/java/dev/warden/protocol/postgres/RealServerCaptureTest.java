package dev.warden.protocol.postgres;

import static dev.warden.protocol.postgres.Wire.hex;
import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Speaks to the real PostgreSQL on 127.0.0.1:5432 (trust authentication for {@code postgres}) with
 * messages encoded by this codec, frames and decodes every reply with it, and checks that
 * re-encoding each reply gives back exactly the bytes the server sent. The server is the oracle: it
 * would reject a wrongly encoded message, and its replies are real captures.
 */
class RealServerCaptureTest {
  private static final Limits LIMITS = Limits.defaults();

  private Connection connection;

  @BeforeEach
  void connect() throws IOException {
    connection = new Connection();
  }

  @AfterEach
  void close() throws IOException {
    connection.close();
  }

  private static Map<String, String> startupParameters() {
    Map<String, String> parameters = new LinkedHashMap<>();
    parameters.put("user", "postgres");
    parameters.put("database", "postgres");
    parameters.put("application_name", "warden-codec-test");
    parameters.put("client_encoding", "UTF8");
    return parameters;
  }

  /** Logs in and returns the startup replies. */
  private List<BackendMessage> login() throws IOException {
    connection.send(new StartupMessage(3, 0, startupParameters()));
    return connection.readUntilReady();
  }

  private static byte[] utf8(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void startupIsAnsweredWithAuthenticationOkParametersKeyDataAndReadyForQuery() throws IOException {
    List<BackendMessage> replies = login();

    assertThat(replies.getFirst()).isEqualTo(new AuthenticationOk());
    assertThat(replies.getLast()).isEqualTo(new ReadyForQuery((byte) 'I'));
    assertThat(replies).contains(new ParameterStatus("client_encoding", "UTF8"));
    assertThat(replies)
        .filteredOn(BackendKeyData.class::isInstance)
        .singleElement()
        .extracting(m -> ((BackendKeyData) m).secretKey().length)
        .isEqualTo(4);
  }

  @Test
  void simpleQueryReturnsRowDescriptionDataRowAndCommandComplete() throws IOException {
    login();
    connection.send(new Query("SELECT 1 AS one, NULL::text AS nothing, 'é'::text AS accent"));

    List<BackendMessage> replies = connection.readUntilReady();

    assertThat(replies).hasSize(4);
    RowDescription description = (RowDescription) replies.get(0);
    assertThat(description.fields())
        .extracting(RowDescription.Field::name, RowDescription.Field::typeOid)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("one", 23),
            org.assertj.core.groups.Tuple.tuple("nothing", 25),
            org.assertj.core.groups.Tuple.tuple("accent", 25));
    assertThat(replies.get(1)).isEqualTo(new DataRow(Arrays.asList(utf8("1"), null, utf8("é"))));
    assertThat(replies.get(2)).isEqualTo(new CommandComplete("SELECT 1"));
  }

  @Test
  void extendedQueryWithABinaryParameterAndBinaryResult() throws IOException {
    login();
    connection.send(
        new Parse("", "SELECT $1::int4 + 1 AS n", List.of(23)),
        new Bind("", "", List.of((short) 1), List.of(hex("00000029")), List.of((short) 1)),
        new Describe((byte) 'P', ""),
        new Execute("", 0),
        new Sync());

    List<BackendMessage> replies = connection.readUntilReady();

    assertThat(replies.get(0)).isEqualTo(new ParseComplete());
    assertThat(replies.get(1)).isEqualTo(new BindComplete());
    assertThat(((RowDescription) replies.get(2)).fields().getFirst().format()).isEqualTo((short) 1);
    assertThat(replies.get(3)).isEqualTo(new DataRow(List.of(hex("0000002a"))));
    assertThat(replies.get(4)).isEqualTo(new CommandComplete("SELECT 1"));
  }

  @Test
  void describeStatementReturnsParameterDescriptionAndNoDataForAStatementWithoutRows()
      throws IOException {
    login();
    connection.send(
        new Parse("s_codec", "SELECT $1::text, $2::int8", List.of()),
        new Describe((byte) 'S', "s_codec"),
        new Parse("s_set", "SET application_name = 'codec'", List.of()),
        new Describe((byte) 'S', "s_set"),
        new Close((byte) 'S', "s_codec"),
        new Sync());

    List<BackendMessage> replies = connection.readUntilReady();

    assertThat(replies.get(1)).isEqualTo(new ParameterDescription(List.of(25, 20)));
    assertThat(replies.get(2)).isInstanceOf(RowDescription.class);
    assertThat(replies.subList(3, 7))
        .containsExactly(
            new ParseComplete(),
            new ParameterDescription(List.of()),
            new NoData(),
            new CloseComplete());
  }

  @Test
  void executeWithARowLimitSuspendsThePortal() throws IOException {
    login();
    connection.send(
        new Parse("", "SELECT generate_series(1, 3)", List.of()),
        new Bind("", "", List.of(), List.of(), List.of()),
        new Execute("", 1),
        new Sync());

    List<BackendMessage> replies = connection.readUntilReady();

    assertThat(replies.subList(2, 4))
        .containsExactly(new DataRow(List.of(utf8("1"))), new PortalSuspended());
  }

  @Test
  void errorsCarryTheirSqlStateAndAFailedTransactionIsReportedAsE() throws IOException {
    login();
    connection.send(new Query("BEGIN; SELECT 1/0"));

    List<BackendMessage> replies = connection.readUntilReady();

    ErrorResponse error = (ErrorResponse) replies.get(1);
    assertThat(error.sqlState()).isEqualTo("22012");
    assertThat(error.severity()).isEqualTo("ERROR");
    assertThat(error.message()).isEqualTo("division by zero");
    assertThat(replies.getLast()).isEqualTo(new ReadyForQuery((byte) 'E'));
  }

  @Test
  void emptyQueryAndNoticeAreDecoded() throws IOException {
    login();
    connection.send(new Query(""));
    assertThat(connection.readUntilReady())
        .containsExactly(new EmptyQueryResponse(), new ReadyForQuery((byte) 'I'));

    connection.send(new Query("DO $$BEGIN RAISE NOTICE 'codec notice'; END$$"));
    List<BackendMessage> replies = connection.readUntilReady();

    NoticeResponse notice = (NoticeResponse) replies.getFirst();
    assertThat(notice.message()).isEqualTo("codec notice");
    assertThat(notice.sqlState()).isEqualTo("00000");
    assertThat(replies.get(1)).isEqualTo(new CommandComplete("DO"));
  }

  @Test
  void copyOutAndCopyInRoundTripThroughTheServer() throws IOException {
    login();
    connection.send(new Query("COPY (SELECT 1 UNION ALL SELECT 2) TO STDOUT"));
    assertThat(connection.readUntilReady())
        .containsExactly(
            new CopyOutResponse((byte) 0, List.of((short) 0)),
            new CopyData(utf8("1\n")),
            new CopyData(utf8("2\n")),
            new CopyDone(),
            new CommandComplete("COPY 2"),
            new ReadyForQuery((byte) 'I'));

    connection.send(new Query("CREATE TEMP TABLE codec_copy(v text); COPY codec_copy FROM STDIN"));
    assertThat(connection.read()).isEqualTo(new CommandComplete("CREATE TABLE"));
    assertThat(connection.read()).isEqualTo(new CopyInResponse((byte) 0, List.of((short) 0)));
    connection.send(new CopyData(utf8("a\nb\n")), new CopyDone());
    assertThat(connection.readUntilReady())
        .containsExactly(new CommandComplete("COPY 2"), new ReadyForQuery((byte) 'I'));

    connection.send(new Query("COPY codec_copy FROM STDIN"));
    assertThat(connection.read()).isInstanceOf(CopyInResponse.class);
    connection.send(new CopyFail("client gave up"));
    List<BackendMessage> failed = connection.readUntilReady();
    assertThat(((ErrorResponse) failed.getFirst()).sqlState()).isEqualTo("57014");
    assertThat(((ErrorResponse) failed.getFirst()).message()).contains("client gave up");
  }

  @Test
  void notificationsToTheSessionItselfAreDecoded() throws IOException {
    int processId =
        login().stream()
            .filter(BackendKeyData.class::isInstance)
            .map(m -> ((BackendKeyData) m).processId())
            .findFirst()
            .orElseThrow();
    connection.send(new Query("LISTEN codec_channel; NOTIFY codec_channel, 'hello'"));

    assertThat(connection.readUntilReady())
        .contains(new NotificationResponse(processId, "codec_channel", "hello"));
  }

  @Test
  void functionCallInvokesInt4plByOid() throws IOException {
    login();
    // 177 is int4pl, a built-in whose OID is fixed in pg_proc.dat.
    connection.send(
        new FunctionCall(
            177, List.of((short) 1), List.of(hex("00000002"), hex("00000003")), (short) 1));

    assertThat(connection.readUntilReady())
        .containsExactly(new FunctionCallResponse(hex("00000005")), new ReadyForQuery((byte) 'I'));
  }

  @Test
  void aNewerMinorVersionAndAnUnknownProtocolOptionAreNegotiated() throws IOException {
    Map<String, String> parameters = startupParameters();
    parameters.put("_pq_.warden_codec_test", "on");
    connection.send(new StartupMessage(3, 99, parameters));

    List<BackendMessage> replies = connection.readUntilReady();

    NegotiateProtocolVersion negotiate = (NegotiateProtocolVersion) replies.getFirst();
    assertThat(negotiate.newestMinor()).isBetween(0, 98);
    assertThat(negotiate.unrecognizedOptions()).containsExactly("_pq_.warden_codec_test");
    assertThat(replies.get(1)).isEqualTo(new AuthenticationOk());
  }

  @Test
  void cancelRequestEncodedByTheCodecCancelsARunningQuery() throws IOException {
    BackendKeyData key =
        login().stream()
            .filter(BackendKeyData.class::isInstance)
            .map(BackendKeyData.class::cast)
            .findFirst()
            .orElseThrow();
    connection.send(new Query("SELECT pg_sleep(20)"));
    long started = System.nanoTime();
    // A cancel that arrives before the backend starts the query is discarded, so wait for it.
    awaitSleeping(key.processId());
    try (Connection canceller = new Connection()) {
      canceller.send(new CancelRequest(key.processId(), key.secretKey()));
      assertThat(canceller.endOfStream()).isTrue();
    }

    List<BackendMessage> replies = connection.readUntilReady();

    assertThat(replies)
        .filteredOn(ErrorResponse.class::isInstance)
        .singleElement()
        .extracting(m -> ((ErrorResponse) m).sqlState())
        .isEqualTo("57014");
    assertThat(replies).noneMatch(DataRow.class::isInstance);
    assertThat(System.nanoTime() - started).isLessThan(15_000_000_000L);
  }

  private static void awaitSleeping(int processId) throws IOException {
    try (Connection observer = new Connection()) {
      observer.send(new StartupMessage(3, 0, startupParameters()));
      observer.readUntilReady();
      for (int attempt = 0; attempt < 200; attempt++) {
        observer.send(
            new Query(
                "SELECT 1 FROM pg_stat_activity WHERE wait_event = 'PgSleep' AND pid = "
                    + processId));
        if (observer.readUntilReady().stream().anyMatch(DataRow.class::isInstance)) {
          return;
        }
        try {
          Thread.sleep(50);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IOException(e);
        }
      }
      throw new AssertionError("backend " + processId + " never started sleeping");
    }
  }

  @Test
  void sslRequestIsAnsweredWithASingleByteAndTerminateEndsTheSession() throws IOException {
    connection.send(new SSLRequest());
    assertThat(connection.readRawByte()).isIn((byte) 'S', (byte) 'N');

    try (Connection plain = new Connection()) {
      plain.send(new StartupMessage(3, 0, startupParameters()));
      plain.readUntilReady();
      plain.send(new Terminate());
      assertThat(plain.endOfStream()).isTrue();
    }
  }

  /** A blocking client connection that frames and decodes with the codec under test. */
  private static final class Connection implements AutoCloseable {
    private final Socket socket = new Socket();
    private final DataInputStream in;
    private final OutputStream out;

    Connection() throws IOException {
      socket.connect(new InetSocketAddress("127.0.0.1", 5432), 5_000);
      socket.setSoTimeout(20_000);
      in = new DataInputStream(socket.getInputStream());
      out = socket.getOutputStream();
    }

    void send(FrontendMessage... messages) throws IOException {
      ByteBuf buffer = Unpooled.buffer();
      for (FrontendMessage message : messages) {
        message.encode(buffer);
      }
      out.write(ByteBufUtil.getBytes(buffer));
      out.flush();
    }

    /** Reads one message and checks that re-encoding it reproduces the captured bytes. */
    BackendMessage read() throws IOException {
      byte type = in.readByte();
      long length = in.readInt() & 0xFFFF_FFFFL;
      Frames.checkBackend(type, length, LIMITS);
      byte[] body = new byte[(int) length - 4];
      in.readFully(body);
      BackendMessage message = BackendMessages.decode(type, Unpooled.wrappedBuffer(body));
      assertThat(hex(Wire.encode(message)))
          .as("re-encoded %s", message)
          .isEqualTo(hex(Wire.frame(type, body)));
      return message;
    }

    List<BackendMessage> readUntilReady() throws IOException {
      List<BackendMessage> messages = new ArrayList<>();
      BackendMessage message;
      do {
        message = read();
        messages.add(message);
      } while (!(message instanceof ReadyForQuery));
      return messages;
    }

    byte readRawByte() throws IOException {
      return in.readByte();
    }

    boolean endOfStream() throws IOException {
      try {
        in.readByte();
        return false;
      } catch (EOFException e) {
        return true;
      }
    }

    @Override
    public void close() throws IOException {
      socket.close();
    }
  }
}
