package dev.warden.proxy.postgres;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.util.io.pem.PemObject;

/** Self-signed certificates for TLS tests, written as PEM files. */
final class TestCertificates {
  /** A certificate and its private key on disk. */
  record Pem(Path certificate, Path privateKey) {}

  private TestCertificates() {}

  /**
   * A self-signed EC certificate for {@code names}: entries that parse as IP literals become IP
   * SANs, the others DNS SANs.
   */
  static Pem selfSigned(Path dir, String... names) {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
      generator.initialize(new ECGenParameterSpec("secp256r1"));
      KeyPair keys = generator.generateKeyPair();
      Instant now = Instant.now();
      X500Name subject = new X500Name("CN=" + names[0]);
      GeneralName[] sans = new GeneralName[names.length];
      for (int i = 0; i < names.length; i++) {
        sans[i] =
            names[i].matches("[0-9.]+|.*:.*")
                ? new GeneralName(
                    GeneralName.iPAddress,
                    new org.bouncycastle.asn1.DEROctetString(
                        InetAddress.getByName(names[i]).getAddress()))
                : new GeneralName(GeneralName.dNSName, names[i]);
      }
      X509CertificateHolder holder =
          new JcaX509v3CertificateBuilder(
                  subject,
                  BigInteger.valueOf(now.toEpochMilli()),
                  Date.from(now.minus(Duration.ofHours(1))),
                  Date.from(now.plus(Duration.ofDays(2))),
                  subject,
                  keys.getPublic())
              .addExtension(Extension.subjectAlternativeName, false, new GeneralNames(sans))
              .build(new JcaContentSignerBuilder("SHA256withECDSA").build(keys.getPrivate()));
      Files.createDirectories(dir);
      Path cert = dir.resolve("server.crt");
      Path key = dir.resolve("server.key");
      Files.writeString(cert, pem(new PemObject("CERTIFICATE", holder.getEncoded())));
      Files.writeString(key, pem(new PemObject("PRIVATE KEY", keys.getPrivate().getEncoded())));
      Files.setPosixFilePermissions(
          key, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
      return new Pem(cert, key);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (GeneralSecurityException | OperatorCreationException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String pem(PemObject object) throws IOException {
    StringWriter out = new StringWriter();
    try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
      writer.writeObject(object);
    }
    return out.toString();
  }
}
