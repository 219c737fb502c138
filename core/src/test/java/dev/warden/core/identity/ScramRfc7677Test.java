package dev.warden.core.identity;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.Base64;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The SCRAM-SHA-256 exchange printed in RFC 7677 §3, replayed byte for byte on both sides. */
class ScramRfc7677Test {
  private static final String CLIENT_NONCE = "rOprNGfwEbeRWgbNEkqO";
  private static final String SERVER_NONCE = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
  private static final String CLIENT_FIRST = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO";
  private static final String SERVER_FIRST =
      "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
  private static final String CLIENT_FINAL =
      "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
          + "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
  private static final String SERVER_FINAL = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";

  private static final byte[] SALT = Base64.getDecoder().decode("W22ZaJ0SNY7soEsUEjb6gQ==");

  @Test
  void clientProducesTheRfcMessagesAndAcceptsTheRfcServerSignature() throws Exception {
    ScramClient client = new ScramClient(Secret.of("pencil"), "user", () -> CLIENT_NONCE, 4096);

    assertThat(new String(client.clientFirstMessage(), UTF_8)).isEqualTo(CLIENT_FIRST);
    assertThat(new String(client.clientFinalMessage(SERVER_FIRST.getBytes(UTF_8)), UTF_8))
        .isEqualTo(CLIENT_FINAL);
    client.verifyServerFinal(SERVER_FINAL.getBytes(UTF_8));
    assertThat(client.isComplete()).isTrue();
  }

  @Test
  void serverProducesTheRfcMessagesAndAcceptsTheRfcProof() throws Exception {
    InMemoryUsers users = new InMemoryUsers();
    ScramCredential credential = ScramCredentials.derive(Secret.of("pencil"), SALT, 4096);
    users.put(new LocalUser("user", Set.of("readers"), credential, Instant.EPOCH));
    ScramServer server = new ScramServer(users, Secret.of("mock key"), () -> SERVER_NONCE);

    ScramServer.Exchange exchange = server.begin("user");
    assertThat(new String(exchange.clientFirst(CLIENT_FIRST.getBytes(UTF_8)), UTF_8))
        .isEqualTo(SERVER_FIRST);
    ScramServer.Success success = exchange.clientFinal(CLIENT_FINAL.getBytes(UTF_8));

    assertThat(new String(success.serverFinalMessage(), UTF_8)).isEqualTo(SERVER_FINAL);
    assertThat(success.identity())
        .isEqualTo(new Identity("user", Set.of("readers"), AuthMethod.SCRAM_SHA_256));
  }

  @Test
  void derivedCredentialRoundTripsThroughPostgresSecretForm() {
    ScramCredential credential = ScramCredentials.derive(Secret.of("pencil"), SALT, 4096);

    String secret = ScramCredentials.toPostgresSecret(credential);

    assertThat(secret).startsWith("SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$");
    assertThat(ScramCredentials.fromPostgresSecret(secret)).isEqualTo(credential);
  }
}
