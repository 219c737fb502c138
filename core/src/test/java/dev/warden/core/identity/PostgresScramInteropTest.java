package dev.warden.core.identity;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * ScramClient and ScramCredentials against a real PostgreSQL whose pg_hba.conf demands
 * scram-sha-256 for every role but the bootstrap superuser. The SASL exchange is driven by hand
 * over a raw socket (protocol 3.0, "SASL Authentication" in the PostgreSQL docs, §55.3.1), so what
 * is proved is our SCRAM and nothing else's.
 */
class PostgresScramInteropTest {
  private static final int PROTOCOL_3_0 = 196608;
  private static EmbeddedPostgres postgres;

  private final SecureRandom random = new SecureRandom();
  private final List<String> roles = new ArrayList<>();

  @BeforeAll
  static void startPostgres() throws IOException {
    postgres =
        EmbeddedPostgres.builder()
            .setDataDirectoryCustomizer(
                dir -> {
                  try {
                    Files.writeString(
                        dir.toPath().resolve("pg_hba.conf"),
                        """
                        local all all                trust
                        host  all postgres 127.0.0.1/32 trust
                        host  all postgres ::1/128      trust
                        host  all all      127.0.0.1/32 scram-sha-256
                        host  all all      ::1/128      scram-sha-256
                        """);
                  } catch (IOException e) {
                    throw new UncheckedIOException(e);
                  }
                })
            .setServerConfig("password_encryption", "scram-sha-256")
            .start();
  }

  @AfterAll
  static void stopPostgres() throws IOException {
    if (postgres != null) {
      postgres.close();
    }
  }

  @AfterEach
  void dropRoles() throws SQLException {
    try (Connection c = admin();
        Statement s = c.createStatement()) {
      for (String role : roles) {
        s.execute("DROP ROLE IF EXISTS " + role);
      }
    }
  }

  @Test
  void hbaReallyDemandsScramForOrdinaryRoles() throws Exception {
    String role = createRole("pw-for-the-hba-check");
    try (PgWire wire = PgWire.startup(postgres.getPort(), role)) {
      PgWire.Message m = wire.read();

      assertThat(m.type()).isEqualTo('R');
      assertThat(m.int32(0)).as("AuthenticationSASL").isEqualTo(10);
      assertThat(m.cStrings(4)).contains(ScramServer.MECHANISM);
    }
  }

  @Test
  void scramClientLogsIntoPostgresAndVerifiesTheServer() throws Exception {
    String role = createRole("correct horse battery staple");

    LoginResult result = login(role, "correct horse battery staple");

    assertThat(result.clientVerifiedServer()).isTrue();
    assertThat(result.authenticationOk()).isTrue();
    assertThat(result.readyForQuery()).isTrue();
  }

  @Test
  void postgresRefusesAWrongPassword() throws Exception {
    String role = createRole("correct horse battery staple");

    LoginResult result = login(role, "wrong horse battery staple");

    assertThat(result.authenticationOk()).isFalse();
    assertThat(result.sqlState()).isEqualTo("28P01");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "plain ascii",
        "p\u00e4ssw\u00f6rd",
        "\uff50\uff41\uff53\uff53\u3000word", // fullwidth and ideographic space: NFKC and mapping
        "soft\u00adhyphen",
        "pa\u0308ss", // decomposed: NFKC composes it
        "\ud83d\ude00\uff50", // unassigned in 3.2: PostgreSQL falls back to raw bytes
        "\u05d0abc\u05d1", // bidi violation: raw bytes again
        "\u00e9\u0007" // prohibited control: raw bytes
      })
  void verifierDerivedHereEqualsTheOnePostgresStores(String password) throws Exception {
    String role = createRole(password);
    ScramCredential stored = ScramCredentials.fromPostgresSecret(rolpassword(role));

    ScramCredential derived =
        ScramCredentials.derive(Secret.of(password), stored.salt(), stored.iterations());

    assertThat(derived).isEqualTo(stored);
    assertThat(login(role, password).authenticationOk()).isTrue();
  }

  @Test
  void passwordsEqualUnderSaslPrepLogInWithEitherSpelling() throws Exception {
    String role = createRole("\uff50\uff41\uff53\uff53\u00a0word");

    assertThat(login(role, "pass word").authenticationOk()).isTrue();
  }

  @Test
  void verifierDerivedHereIsAcceptedByPostgresAndByPgjdbc() throws Exception {
    String role = createRole("placeholder password");
    ScramCredential credential =
        ScramCredentials.derive(Secret.of("s3cret-from-warden"), random, 4096);
    try (Connection c = admin();
        Statement s = c.createStatement()) {
      s.execute(
          "ALTER ROLE "
              + role
              + " PASSWORD '"
              + ScramCredentials.toPostgresSecret(credential)
              + "'");
    }

    assertThat(ScramCredentials.fromPostgresSecret(rolpassword(role))).isEqualTo(credential);
    assertThat(login(role, "s3cret-from-warden").authenticationOk()).isTrue();
    Properties props = new Properties();
    props.setProperty("user", role);
    props.setProperty("password", "s3cret-from-warden");
    try (Connection c =
            DriverManager.getConnection(
                "jdbc:postgresql://127.0.0.1:" + postgres.getPort() + "/postgres", props);
        ResultSet rs = c.createStatement().executeQuery("SELECT current_user")) {
      assertThat(rs.next()).isTrue();
      assertThat(rs.getString(1)).isEqualTo(role);
    }
  }

  private String createRole(String password) throws SQLException {
    String role = "warden_it_" + HexFormat.of().formatHex(random.generateSeed(6));
    roles.add(role);
    try (Connection c = admin();
        Statement s = c.createStatement()) {
      // Literal rather than a parameter: utility statements take no parameters.
      s.execute("CREATE ROLE " + role + " LOGIN PASSWORD '" + password.replace("'", "''") + "'");
    }
    return role;
  }

  private static String rolpassword(String role) throws SQLException {
    try (Connection c = admin();
        PreparedStatement ps =
            c.prepareStatement("SELECT rolpassword FROM pg_catalog.pg_authid WHERE rolname = ?")) {
      ps.setString(1, role);
      try (ResultSet rs = ps.executeQuery()) {
        assertThat(rs.next()).isTrue();
        return rs.getString(1);
      }
    }
  }

  private static Connection admin() throws SQLException {
    return postgres.getPostgresDatabase().getConnection();
  }

  private LoginResult login(String role, String password) throws Exception {
    ScramClient client = new ScramClient(Secret.of(password), random);
    try (PgWire wire = PgWire.startup(postgres.getPort(), role)) {
      PgWire.Message sasl = wire.expectAuth(10);
      assertThat(sasl.cStrings(4)).contains(ScramServer.MECHANISM);
      wire.saslInitialResponse(ScramServer.MECHANISM, client.clientFirstMessage());
      PgWire.Message cont = wire.expectAuth(11);
      wire.saslResponse(client.clientFinalMessage(cont.rest(4)));
      PgWire.Message next = wire.read();
      if (next.type() == 'E') {
        return new LoginResult(false, false, false, next.errorFields().get('C'));
      }
      assertThat(next.int32(0)).as("AuthenticationSASLFinal").isEqualTo(12);
      client.verifyServerFinal(next.rest(4));
      PgWire.Message ok = wire.read();
      boolean authOk = ok.type() == 'R' && ok.int32(0) == 0;
      boolean ready = false;
      while (authOk && !ready) {
        PgWire.Message m = wire.read();
        assertThat(m.type()).isNotEqualTo('E');
        ready = m.type() == 'Z';
      }
      return new LoginResult(client.isComplete(), authOk, ready, null);
    }
  }

  private record LoginResult(
      boolean clientVerifiedServer,
      boolean authenticationOk,
      boolean readyForQuery,
      String sqlState) {}

  /** Just enough of the frontend side of the protocol to log in. */
  private static final class PgWire implements AutoCloseable {
    private final Socket socket;
    private final DataInputStream in;
    private final DataOutputStream out;

    private PgWire(Socket socket) throws IOException {
      this.socket = socket;
      this.in = new DataInputStream(socket.getInputStream());
      this.out = new DataOutputStream(socket.getOutputStream());
    }

    static PgWire startup(int port, String user) throws IOException {
      Socket socket = new Socket();
      socket.connect(new InetSocketAddress("127.0.0.1", port), 10_000);
      socket.setSoTimeout(10_000);
      PgWire wire = new PgWire(socket);
      ByteArrayOutputStream body = new ByteArrayOutputStream();
      DataOutputStream b = new DataOutputStream(body);
      b.writeInt(PROTOCOL_3_0);
      for (String s : new String[] {"user", user, "database", "postgres"}) {
        b.write(s.getBytes(UTF_8));
        b.write(0);
      }
      b.write(0);
      wire.out.writeInt(body.size() + 4);
      body.writeTo(wire.out);
      wire.out.flush();
      return wire;
    }

    void saslInitialResponse(String mechanism, byte[] data) throws IOException {
      byte[] name = mechanism.getBytes(UTF_8);
      out.writeByte('p');
      out.writeInt(4 + name.length + 1 + 4 + data.length);
      out.write(name);
      out.write(0);
      out.writeInt(data.length);
      out.write(data);
      out.flush();
    }

    void saslResponse(byte[] data) throws IOException {
      out.writeByte('p');
      out.writeInt(4 + data.length);
      out.write(data);
      out.flush();
    }

    Message expectAuth(int code) throws IOException {
      Message m = read();
      assertThat(m.type()).as("message type, error: %s", m.errorFields()).isEqualTo('R');
      assertThat(m.int32(0)).isEqualTo(code);
      return m;
    }

    Message read() throws IOException {
      char type = (char) in.readUnsignedByte();
      int length = in.readInt();
      assertThat(length).isBetween(4, 1 << 20);
      byte[] payload = new byte[length - 4];
      in.readFully(payload);
      return new Message(type, payload);
    }

    @Override
    public void close() throws IOException {
      socket.close();
    }

    record Message(char type, byte[] payload) {
      int int32(int offset) {
        return ((payload[offset] & 0xFF) << 24)
            | ((payload[offset + 1] & 0xFF) << 16)
            | ((payload[offset + 2] & 0xFF) << 8)
            | (payload[offset + 3] & 0xFF);
      }

      byte[] rest(int offset) {
        return java.util.Arrays.copyOfRange(payload, offset, payload.length);
      }

      List<String> cStrings(int offset) {
        List<String> out = new ArrayList<>();
        int start = offset;
        for (int i = offset; i < payload.length; i++) {
          if (payload[i] == 0) {
            if (i > start) {
              out.add(new String(payload, start, i - start, UTF_8));
            }
            start = i + 1;
          }
        }
        return out;
      }

      Map<Character, String> errorFields() {
        Map<Character, String> fields = new LinkedHashMap<>();
        if (type != 'E') {
          return fields;
        }
        int i = 0;
        while (i < payload.length && payload[i] != 0) {
          char code = (char) payload[i];
          int end = i + 1;
          while (payload[end] != 0) {
            end++;
          }
          fields.put(code, new String(payload, i + 1, end - i - 1, UTF_8));
          i = end + 1;
        }
        return fields;
      }
    }
  }
}
