package dev.warden.server.tls;

import dev.warden.store.files.PrivateFiles;
import java.io.IOException;
import java.io.InputStream;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.Date;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes sure a TLS certificate exists for the client listener when none is configured, so that
 * clients can always ask for TLS: an EC P-256 key and a self-signed certificate for {@code
 * localhost}, {@code 127.0.0.1}, {@code ::1} and the machine's host names, valid for a year. It is
 * generated once and reused; it is replaced when it expires within {@link #RENEW_BEFORE} or no
 * longer names a requested host.
 *
 * <p>The JDK's own providers do the cryptography; BouncyCastle only assembles the X.509 structure,
 * so no security provider is registered process-wide.
 */
public final class SelfSignedCertificates {
  /** How long a generated certificate is valid. */
  public static final Duration VALIDITY = Duration.ofDays(365);

  /** A certificate expiring sooner than this is replaced at start. */
  public static final Duration RENEW_BEFORE = Duration.ofDays(7);

  /** The certificate's file name inside the directory. */
  public static final String CERTIFICATE_FILE = "server.crt";

  /** The private key's file name inside the directory. */
  public static final String KEY_FILE = "server.key";

  private static final Logger log = LoggerFactory.getLogger(SelfSignedCertificates.class);

  private final Clock clock;
  private final SecureRandom random;

  public SelfSignedCertificates(Clock clock, SecureRandom random) {
    this.clock = clock;
    this.random = random;
  }

  /**
   * The certificate in {@code directory}, generated if it is missing, expiring or does not name all
   * of {@code hostNames}.
   *
   * @param hostNames names and addresses beyond localhost, 127.0.0.1 and ::1 that the certificate
   *     must cover (typically the machine's host name)
   */
  public CertificateFiles ensure(Path directory, Collection<String> hostNames) throws IOException {
    Path certificateFile = directory.resolve(CERTIFICATE_FILE);
    Path keyFile = directory.resolve(KEY_FILE);
    Set<String> names = new LinkedHashSet<>(List.of("localhost", "127.0.0.1", "::1"));
    for (String name : hostNames) {
      if (!name.isBlank()) {
        names.add(name.toLowerCase(Locale.ROOT));
      }
    }
    Instant now = clock.instant();
    if (Files.exists(certificateFile) && Files.exists(keyFile)) {
      X509Certificate existing = read(certificateFile);
      Instant notAfter = existing.getNotAfter().toInstant();
      boolean fresh = notAfter.isAfter(now.plus(RENEW_BEFORE));
      if (fresh && subjectNames(existing).containsAll(names)) {
        if (PrivateFiles.isExposed(keyFile)) {
          throw new IOException(keyFile + " may be read by other users; run: chmod 600 " + keyFile);
        }
        return new CertificateFiles(certificateFile, keyFile, notAfter, true, false);
      }
      log.info(
          "Replacing the self-signed certificate {}: {}",
          certificateFile,
          fresh ? "it does not name " + names : "it expires " + notAfter);
    }
    PrivateFiles.createDirectory(directory);
    KeyPair keys = generateKeys();
    X509Certificate certificate = generateCertificate(keys, names, now);
    // The key first: a certificate on disk without its key would be reused and fail at handshake.
    PrivateFiles.write(keyFile, pem("PRIVATE KEY", keys.getPrivate().getEncoded()));
    try {
      PrivateFiles.write(certificateFile, pem("CERTIFICATE", certificate.getEncoded()));
    } catch (GeneralSecurityException e) {
      throw new IOException("cannot encode the generated certificate", e);
    }
    Instant notAfter = certificate.getNotAfter().toInstant();
    log.info(
        "Generated a self-signed TLS certificate for {} at {} (valid until {}). Clients that"
            + " verify certificates will not trust it; configure tls.certificate for production.",
        names,
        certificateFile,
        notAfter);
    return new CertificateFiles(certificateFile, keyFile, notAfter, true, true);
  }

  /** The machine's host name, or nothing when it cannot be determined. */
  public static List<String> localHostNames() {
    try {
      InetAddress local = InetAddress.getLocalHost();
      List<String> names = new ArrayList<>();
      names.add(local.getHostName());
      String canonical = local.getCanonicalHostName();
      if (!canonical.equals(local.getHostAddress())) {
        names.add(canonical);
      }
      return names;
    } catch (IOException e) {
      return List.of();
    }
  }

  private KeyPair generateKeys() throws IOException {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
      generator.initialize(new ECGenParameterSpec("secp256r1"), random);
      return generator.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IOException("this JDK cannot generate EC P-256 keys", e);
    }
  }

  private X509Certificate generateCertificate(KeyPair keys, Set<String> names, Instant now)
      throws IOException {
    X500Name subject = new X500Name("CN=Warden self-signed (" + firstHostName(names) + ")");
    // Back-dated by an hour so that a client whose clock is a little behind still accepts it.
    Instant notBefore = now.minus(Duration.ofHours(1));
    Instant notAfter = now.plus(VALIDITY);
    BigInteger serial = new BigInteger(127, random).add(BigInteger.ONE);
    try {
      List<GeneralName> alternatives = new ArrayList<>();
      for (String name : names) {
        alternatives.add(
            isAddress(name)
                ? new GeneralName(GeneralName.iPAddress, name)
                : new GeneralName(GeneralName.dNSName, name));
      }
      JcaX509ExtensionUtils extensions = new JcaX509ExtensionUtils();
      X509v3CertificateBuilder builder =
          new JcaX509v3CertificateBuilder(
                  subject,
                  serial,
                  Date.from(notBefore),
                  Date.from(notAfter),
                  subject,
                  keys.getPublic())
              .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
              .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature))
              .addExtension(
                  Extension.extendedKeyUsage,
                  false,
                  new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth))
              .addExtension(
                  Extension.subjectAlternativeName,
                  false,
                  new GeneralNames(alternatives.toArray(GeneralName[]::new)))
              .addExtension(
                  Extension.subjectKeyIdentifier,
                  false,
                  extensions.createSubjectKeyIdentifier(keys.getPublic()));
      return new JcaX509CertificateConverter()
          .getCertificate(
              builder.build(
                  new JcaContentSignerBuilder("SHA256withECDSA")
                      .setSecureRandom(random)
                      .build(keys.getPrivate())));
    } catch (CertIOException | OperatorCreationException | GeneralSecurityException e) {
      throw new IOException("cannot generate a self-signed certificate", e);
    }
  }

  private static X509Certificate read(Path file) throws IOException {
    try (InputStream in = Files.newInputStream(file)) {
      return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
    } catch (GeneralSecurityException e) {
      throw new IOException(
          file + " is not a PEM certificate; delete it and its key to generate a new one", e);
    }
  }

  private static Set<String> subjectNames(X509Certificate certificate) throws IOException {
    Set<String> names = new LinkedHashSet<>();
    try {
      Collection<List<?>> alternatives = certificate.getSubjectAlternativeNames();
      if (alternatives != null) {
        for (List<?> alternative : alternatives) {
          Object value = alternative.get(1);
          if (value instanceof String s) {
            names.add(s.toLowerCase(Locale.ROOT));
          }
        }
      }
    } catch (GeneralSecurityException e) {
      throw new IOException("cannot read the names of the existing certificate", e);
    }
    // The JDK spells IPv6 addresses in full; compare them in the form the caller wrote.
    if (names.contains("0:0:0:0:0:0:0:1")) {
      names.add("::1");
    }
    return names;
  }

  private static String firstHostName(Set<String> names) {
    return names.stream()
        .filter(n -> !isAddress(n) && !n.equals("localhost"))
        .findFirst()
        .orElse("localhost");
  }

  private static boolean isAddress(String name) {
    return name.indexOf(':') >= 0 || name.chars().allMatch(c -> c == '.' || Character.isDigit(c));
  }

  private static byte[] pem(String type, byte[] der) {
    String body = Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der);
    return ("-----BEGIN " + type + "-----\n" + body + "\n-----END " + type + "-----\n")
        .getBytes(StandardCharsets.US_ASCII);
  }
}
