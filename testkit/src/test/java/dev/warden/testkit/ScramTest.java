package dev.warden.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.junit.jupiter.api.Test;

class ScramTest {
  // RFC 7677 section 3.
  private static final String SERVER_FIRST =
      "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";

  @Test
  void clientReproducesTheRfc7677Exchange() {
    Scram.Client client = new Scram.Client("pencil", "user", "n,,", "rOprNGfwEbeRWgbNEkqO");

    assertThat(new String(client.clientFirst(), StandardCharsets.UTF_8))
        .isEqualTo("n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
    assertThat(new String(client.clientFinal(utf8(SERVER_FIRST)), StandardCharsets.UTF_8))
        .isEqualTo(
            "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
                + "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=");
    assertThat(client.verifyServerFinal(utf8("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")))
        .isTrue();
    assertThat(client.verifyServerFinal(utf8("v=7rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")))
        .isFalse();
  }

  @Test
  void serverSignatureMatchesRfc7677() {
    byte[] signature =
        Scram.serverSignature(
            "pencil",
            Base64.getDecoder().decode("W22ZaJ0SNY7soEsUEjb6gQ=="),
            4096,
            "n=user,r=rOprNGfwEbeRWgbNEkqO,"
                + SERVER_FIRST
                + ",c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0");

    assertThat(Base64.getEncoder().encodeToString(signature))
        .isEqualTo("6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
  }

  @Test
  void spoiledProofDiffersFromTheRightOne() {
    Scram.Client client = new Scram.Client("pencil", "user", "n,,", "rOprNGfwEbeRWgbNEkqO");
    client.clientFirst();

    assertThat(client.clientFinalWithWrongProof(utf8(SERVER_FIRST)))
        .isNotEqualTo(client.clientFinal(utf8(SERVER_FIRST)));
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
