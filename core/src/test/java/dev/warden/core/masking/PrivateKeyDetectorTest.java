package dev.warden.core.masking;

import static org.assertj.core.api.Assertions.assertThat;

import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.util.Base64;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class PrivateKeyDetectorTest {
  private final ContentDetector detector = new PrivateKeyDetector();

  static String pem(String label, byte[] der) {
    String body =
        Base64.getMimeEncoder(64, "\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII))
            .encodeToString(der);
    return "-----BEGIN " + label + "-----\n" + body + "\n-----END " + label + "-----\n";
  }

  static byte[] randomBytes(int n, long seed) {
    byte[] bytes = new byte[n];
    new Random(seed).nextBytes(bytes);
    return bytes;
  }

  static Stream<String> keys() throws GeneralSecurityException {
    KeyPair ec = KeyPairGenerator.getInstance("EC").generateKeyPair();
    KeyPair ed = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
    return Stream.of(
        pem("PRIVATE KEY", ec.getPrivate().getEncoded()),
        pem("PRIVATE KEY", ed.getPrivate().getEncoded()),
        pem("RSA PRIVATE KEY", randomBytes(600, 1)),
        pem("EC PRIVATE KEY", randomBytes(121, 2)),
        pem("DSA PRIVATE KEY", randomBytes(400, 3)),
        pem("OPENSSH PRIVATE KEY", randomBytes(400, 4)),
        pem("ENCRYPTED PRIVATE KEY", randomBytes(300, 5)),
        "{\"key\": \"" + pem("PRIVATE KEY", randomBytes(100, 6)).replace("\n", "\\n") + "\"}",
        pem("RSA PRIVATE KEY", randomBytes(600, 7))
            .replaceFirst(
                "-----\n", "-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,0011\n\n"),
        pem("PRIVATE KEY", randomBytes(100, 8)).replace("\n", "\r\n"));
  }

  static Stream<String> nearMisses() throws GeneralSecurityException {
    KeyPair ec = KeyPairGenerator.getInstance("EC").generateKeyPair();
    return Stream.of(
        pem("PUBLIC KEY", ec.getPublic().getEncoded()),
        pem("CERTIFICATE", randomBytes(600, 9)),
        pem("PRIVATE KEY", randomBytes(8, 10)),
        pem("PRIVATE KEY", randomBytes(100, 11)).replace("-----END PRIVATE KEY-----", ""),
        pem("PRIVATE KEY", randomBytes(100, 12)).replace("END PRIVATE KEY", "END RSA PRIVATE KEY"),
        "-----BEGIN PRIVATE KEY-----\nthis is not base64 at all!\n-----END PRIVATE KEY-----",
        "-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----",
        "private key: hunter2",
        "-----BEGIN PRIVATE KEY-----".repeat(1000),
        "");
  }

  @ParameterizedTest
  @MethodSource("keys")
  void recognisesPemPrivateKeys(String value) {
    assertThat(detector.matches(value)).isTrue();
  }

  @ParameterizedTest
  @MethodSource("nearMisses")
  void refusesPublicMaterialAndBrokenBlocks(String value) {
    assertThat(detector.matches(value)).isFalse();
  }
}
