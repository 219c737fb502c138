package dev.warden.server.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SelfSignedCertificatesTest {
  private static final Instant NOW = Instant.parse("2026-03-01T12:00:00Z");

  @TempDir Path dir;

  private CertificateFiles ensure(Instant now, List<String> names) throws IOException {
    return new SelfSignedCertificates(Clock.fixed(now, ZoneOffset.UTC), new SecureRandom())
        .ensure(dir.resolve("tls"), names);
  }

  @Test
  void generatesACertificateForLoopbackAndTheHostName() throws Exception {
    CertificateFiles files = ensure(NOW, List.of("warden.test"));

    assertThat(files.created()).isTrue();
    assertThat(files.selfSigned()).isTrue();
    assertThat(files.certificate()).isEqualTo(dir.resolve("tls/server.crt"));
    X509Certificate certificate = read(files.certificate());
    certificate.checkValidity(java.util.Date.from(NOW));
    certificate.verify(certificate.getPublicKey());
    assertThat(certificate.getNotAfter().toInstant()).isEqualTo(NOW.plus(Duration.ofDays(365)));
    assertThat(files.notAfter()).isEqualTo(NOW.plus(Duration.ofDays(365)));
    assertThat(names(certificate))
        .containsExactlyInAnyOrder("localhost", "127.0.0.1", "0:0:0:0:0:0:0:1", "warden.test");
    assertThat(certificate.getBasicConstraints()).as("not a CA").isEqualTo(-1);
    assertThat(certificate.getExtendedKeyUsage()).containsExactly("1.3.6.1.5.5.7.3.1");
    assertThat(certificate.getPublicKey().getAlgorithm()).isEqualTo("EC");
  }

  @Test
  void thePrivateKeyIsPkcs8OnlyItsOwnerMayReadAndMatchesTheCertificate() throws Exception {
    CertificateFiles files = ensure(NOW, List.of());

    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(files.privateKey())))
        .isEqualTo("rw-------");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("tls"))))
        .isEqualTo("rwx------");
    String pem = Files.readString(files.privateKey(), StandardCharsets.US_ASCII);
    assertThat(pem)
        .startsWith("-----BEGIN PRIVATE KEY-----\n")
        .endsWith("-----END PRIVATE KEY-----\n");
    byte[] der =
        Base64.getMimeDecoder()
            .decode(
                pem.replace("-----BEGIN PRIVATE KEY-----", "")
                    .replace("-----END PRIVATE KEY-----", ""));
    PrivateKey key = KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(der));

    byte[] message = "proof of possession".getBytes(StandardCharsets.US_ASCII);
    Signature signer = Signature.getInstance("SHA256withECDSA");
    signer.initSign(key);
    signer.update(message);
    byte[] signature = signer.sign();
    Signature verifier = Signature.getInstance("SHA256withECDSA");
    verifier.initVerify(read(files.certificate()).getPublicKey());
    verifier.update(message);
    assertThat(verifier.verify(signature)).isTrue();
  }

  @Test
  void reusesAValidCertificateOnLaterStarts() throws Exception {
    CertificateFiles first = ensure(NOW, List.of("warden.test"));
    byte[] certificate = Files.readAllBytes(first.certificate());
    byte[] key = Files.readAllBytes(first.privateKey());

    CertificateFiles second = ensure(NOW.plus(Duration.ofDays(100)), List.of("warden.test"));

    assertThat(second.created()).isFalse();
    assertThat(second.notAfter()).isEqualTo(first.notAfter());
    assertThat(Files.readAllBytes(second.certificate())).isEqualTo(certificate);
    assertThat(Files.readAllBytes(second.privateKey())).isEqualTo(key);
  }

  @Test
  void regeneratesACertificateThatIsExpiredOrAboutToExpire() throws Exception {
    CertificateFiles first = ensure(NOW, List.of());
    byte[] original = Files.readAllBytes(first.certificate());

    Instant later = NOW.plus(Duration.ofDays(360));
    CertificateFiles renewed = ensure(later, List.of());

    assertThat(renewed.created()).isTrue();
    assertThat(renewed.notAfter()).isEqualTo(later.plus(Duration.ofDays(365)));
    assertThat(Files.readAllBytes(renewed.certificate())).isNotEqualTo(original);

    Instant muchLater = renewed.notAfter().plus(Duration.ofDays(1));
    assertThat(ensure(muchLater, List.of()).created()).as("expired").isTrue();
  }

  @Test
  void regeneratesWhenTheHostNameChanged() throws Exception {
    ensure(NOW, List.of("old-name.test"));

    CertificateFiles renamed = ensure(NOW, List.of("new-name.test"));

    assertThat(renamed.created()).isTrue();
    assertThat(names(read(renamed.certificate())))
        .contains("new-name.test")
        .doesNotContain("old-name.test");
  }

  @Test
  void refusesAKeyOthersMayRead() throws Exception {
    CertificateFiles files = ensure(NOW, List.of());
    Files.setPosixFilePermissions(files.privateKey(), PosixFilePermissions.fromString("rw-r--r--"));

    assertThatThrownBy(() -> ensure(NOW, List.of()))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("may be read by other users; run: chmod 600");
  }

  @Test
  void refusesAnUnparseableCertificateInsteadOfOverwritingIt() throws Exception {
    CertificateFiles files = ensure(NOW, List.of());
    Files.writeString(files.certificate(), "not a certificate");

    assertThatThrownBy(() -> ensure(NOW, List.of()))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("is not a PEM certificate; delete it and its key");
    assertThat(Files.readString(files.certificate())).isEqualTo("not a certificate");
  }

  private static List<String> names(X509Certificate certificate) throws Exception {
    return certificate.getSubjectAlternativeNames().stream()
        .map(name -> (String) name.get(1))
        .toList();
  }

  private static X509Certificate read(Path file) throws Exception {
    try (InputStream in = Files.newInputStream(file)) {
      return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
    }
  }
}
