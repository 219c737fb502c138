package dev.warden.testkit.tls;

import java.io.IOException;
import java.io.OutputStream;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Objects;
import org.bouncycastle.asn1.ASN1EncodableVector;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.DEROctetString;
import org.bouncycastle.asn1.DERSequence;
import org.bouncycastle.asn1.DERTaggedObject;
import org.bouncycastle.asn1.DERUTF8String;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.CRLReason;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509CRLHolder;
import org.bouncycastle.cert.X509v2CRLBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CRLConverter;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.util.io.pem.PemObject;

/**
 * Certificate authorities and certificates for TLS tests, made with Bouncy Castle: a root CA, an
 * optional intermediate, and leaf certificates with the SANs, usages and validity a test asks for
 * (including the broken ones THREATS T09 lists), written as the files clients read: PEM, PKCS#8 DER
 * ({@code .pk8}, pgjdbc's {@code sslkey}) and PKCS#12 ({@code .p12}).
 *
 * <pre>{@code
 * Authority root = TestCertificates.rootCa("Test Root");
 * Issued alice = root.leaf("alice").email("alice@corp.example").issue();
 * IssuedFiles files = alice.writeTo(dir);      // alice.crt, alice.key, alice.pk8, alice.p12
 * root.writeCertificate(dir.resolve("root.crt"));
 * }</pre>
 *
 * <p>Keys are EC P-256 (fast to make; psql, pgjdbc and the JDK accept them). Every certificate gets
 * a random serial number. Leaves default to valid from an hour ago for a day, with the clientAuth
 * extended key usage and the digitalSignature key usage.
 */
public final class TestCertificates {
  /** The password of every PKCS#12 file written here (pgjdbc's {@code sslpassword}). */
  public static final String PKCS12_PASSWORD = "warden-test";

  private static final ASN1ObjectIdentifier UPN =
      new ASN1ObjectIdentifier("1.3.6.1.4.1.311.20.2.3");
  private static final SecureRandom RANDOM = new SecureRandom();

  private TestCertificates() {}

  /** A self-signed root CA named {@code CN=commonName}, valid from a day ago for 30 days. */
  public static Authority rootCa(String commonName) {
    Instant now = Instant.now();
    return rootCa(commonName, now.minus(Duration.ofDays(1)), now.plus(Duration.ofDays(30)));
  }

  /** A self-signed root CA valid from {@code notBefore} to {@code notAfter}. */
  public static Authority rootCa(String commonName, Instant notBefore, Instant notAfter) {
    KeyPair keys = newKeys();
    X500Name subject = new X500Name("CN=" + commonName);
    X509Certificate cert =
        sign(
            subject,
            keys.getPrivate(),
            subject,
            keys,
            notBefore,
            notAfter,
            TestCertificates::caExtensions);
    return new Authority(cert, keys, List.of());
  }

  /**
   * A CA certificate and its key, and the intermediates between it and its root (nearest first).
   */
  public static final class Authority {
    private final X509Certificate certificate;
    private final KeyPair keys;
    private final List<X509Certificate> above;

    private Authority(X509Certificate certificate, KeyPair keys, List<X509Certificate> above) {
      this.certificate = certificate;
      this.keys = keys;
      this.above = List.copyOf(above);
    }

    public X509Certificate certificate() {
      return certificate;
    }

    /**
     * An intermediate CA signed by this one, valid from a day ago for 30 days; its leaves' chains
     * include it.
     */
    public Authority intermediate(String commonName) {
      Instant now = Instant.now();
      KeyPair child = newKeys();
      X509Certificate cert =
          sign(
              new X500Name("CN=" + commonName),
              keys.getPrivate(),
              X500Name.getInstance(certificate.getSubjectX500Principal().getEncoded()),
              child,
              now.minus(Duration.ofDays(1)),
              now.plus(Duration.ofDays(30)),
              TestCertificates::caExtensions);
      return new Authority(cert, child, chainAbove());
    }

    /** A leaf certificate to be made by this CA, with subject {@code CN=commonName}. */
    public LeafBuilder leaf(String commonName) {
      return new LeafBuilder(this, commonName);
    }

    /** Writes this CA's certificate as PEM (a trust anchor file) and returns {@code file}. */
    public Path writeCertificate(Path file) {
      write(file, pem(certificate), false);
      return file;
    }

    /**
     * Writes a CRL signed by this CA, listing {@code revoked} (which it issued), valid from an hour
     * ago for a day, as PEM, and returns {@code file}.
     */
    public Path writeCrl(Path file, X509Certificate... revoked) {
      Instant now = Instant.now();
      try {
        X509v2CRLBuilder builder =
            new X509v2CRLBuilder(
                X500Name.getInstance(certificate.getSubjectX500Principal().getEncoded()),
                Date.from(now.minus(Duration.ofHours(1))));
        builder.setNextUpdate(Date.from(now.plus(Duration.ofDays(1))));
        for (X509Certificate cert : revoked) {
          builder.addCRLEntry(
              cert.getSerialNumber(),
              Date.from(now.minus(Duration.ofMinutes(5))),
              CRLReason.keyCompromise);
        }
        X509CRLHolder holder = builder.build(signer(keys.getPrivate()));
        X509CRL crl = new JcaX509CRLConverter().getCRL(holder);
        write(file, pem(new PemObject("X509 CRL", crl.getEncoded())), false);
        return file;
      } catch (GeneralSecurityException e) {
        throw new IllegalStateException(e);
      }
    }

    private List<X509Certificate> chainAbove() {
      List<X509Certificate> chain = new ArrayList<>();
      if (!isSelfSigned(certificate)) {
        chain.add(certificate);
        chain.addAll(above);
      }
      return chain;
    }
  }

  /** The extended key usage a leaf is given. */
  public enum Usage {
    /** TLS client authentication (id-kp-clientAuth). */
    CLIENT_AUTH,
    /** TLS server authentication only (id-kp-serverAuth): not for logging in. */
    SERVER_AUTH,
    /** Both client and server authentication. */
    CLIENT_AND_SERVER_AUTH,
    /** anyExtendedKeyUsage. */
    ANY,
    /** E-mail protection only (id-kp-emailProtection): an S/MIME certificate. */
    EMAIL_PROTECTION,
    /** No extended key usage extension at all. */
    NONE
  }

  /** Describes one leaf certificate; {@link #issue()} makes it. */
  public static final class LeafBuilder {
    private final Authority issuer;
    private final X500NameBuilder subject = new X500NameBuilder(BCStyle.INSTANCE);
    private final List<GeneralName> sans = new ArrayList<>();
    private Usage usage = Usage.CLIENT_AUTH;
    private boolean keyUsage = true;
    private boolean digitalSignature = true;
    private Instant notBefore = Instant.now().minus(Duration.ofHours(1));
    private Instant notAfter = Instant.now().plus(Duration.ofDays(1));
    private boolean ca;
    private final String fileName;

    private LeafBuilder(Authority issuer, String commonName) {
      this.issuer = issuer;
      this.fileName = commonName.replaceAll("[^A-Za-z0-9_.-]", "_");
      if (!commonName.isEmpty()) {
        subject.addRDN(BCStyle.CN, commonName);
      }
    }

    /** Adds an rfc822Name SAN. */
    public LeafBuilder email(String address) {
      sans.add(new GeneralName(GeneralName.rfc822Name, address));
      return this;
    }

    /** Adds a dNSName SAN. */
    public LeafBuilder dns(String name) {
      sans.add(new GeneralName(GeneralName.dNSName, name));
      return this;
    }

    /** Adds a uniformResourceIdentifier SAN. */
    public LeafBuilder uri(String uri) {
      sans.add(new GeneralName(GeneralName.uniformResourceIdentifier, uri));
      return this;
    }

    /** Adds an iPAddress SAN (for server certificates). */
    public LeafBuilder ip(String address) {
      try {
        sans.add(
            new GeneralName(
                GeneralName.iPAddress,
                new DEROctetString(InetAddress.getByName(address).getAddress())));
      } catch (IOException e) {
        throw new IllegalArgumentException("not an IP address: " + address, e);
      }
      return this;
    }

    /** Adds a Microsoft user principal name (an otherName SAN holding a UTF8String). */
    public LeafBuilder upn(String name) {
      ASN1EncodableVector other = new ASN1EncodableVector();
      other.add(UPN);
      other.add(new DERTaggedObject(true, 0, new DERUTF8String(name)));
      sans.add(new GeneralName(GeneralName.otherName, new DERSequence(other)));
      return this;
    }

    /** Adds an organizational unit ({@code OU}) to the subject. */
    public LeafBuilder organizationalUnit(String unit) {
      subject.addRDN(BCStyle.OU, unit);
      return this;
    }

    /** Adds another common name to the subject. */
    public LeafBuilder commonName(String name) {
      subject.addRDN(BCStyle.CN, name);
      return this;
    }

    public LeafBuilder usage(Usage usage) {
      this.usage = Objects.requireNonNull(usage, "usage");
      return this;
    }

    /** A key usage extension with or without digitalSignature (keyEncipherment is always set). */
    public LeafBuilder digitalSignature(boolean on) {
      this.keyUsage = true;
      this.digitalSignature = on;
      return this;
    }

    /** No key usage extension. */
    public LeafBuilder noKeyUsage() {
      this.keyUsage = false;
      return this;
    }

    /** Marks the "leaf" as a CA certificate (basicConstraints cA true): not for logging in. */
    public LeafBuilder asCa() {
      this.ca = true;
      return this;
    }

    public LeafBuilder validity(Instant notBefore, Instant notAfter) {
      this.notBefore = Objects.requireNonNull(notBefore, "notBefore");
      this.notAfter = Objects.requireNonNull(notAfter, "notAfter");
      return this;
    }

    /** Valid from two days ago until an hour ago. */
    public LeafBuilder expired() {
      Instant now = Instant.now();
      return validity(now.minus(Duration.ofDays(2)), now.minus(Duration.ofHours(1)));
    }

    /** Valid from an hour from now for a day. */
    public LeafBuilder notYetValid() {
      Instant now = Instant.now();
      return validity(now.plus(Duration.ofHours(1)), now.plus(Duration.ofDays(1)));
    }

    /** Signs the certificate with the issuer's key. */
    public Issued issue() {
      KeyPair keys = newKeys();
      X509Certificate cert =
          sign(
              subject.build(),
              issuer.keys.getPrivate(),
              X500Name.getInstance(issuer.certificate.getSubjectX500Principal().getEncoded()),
              keys,
              notBefore,
              notAfter,
              builder -> {
                if (!sans.isEmpty()) {
                  builder.addExtension(
                      Extension.subjectAlternativeName,
                      false,
                      new GeneralNames(sans.toArray(GeneralName[]::new)));
                }
                builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(ca));
                KeyPurposeId[] purposes =
                    switch (usage) {
                      case CLIENT_AUTH -> new KeyPurposeId[] {KeyPurposeId.id_kp_clientAuth};
                      case SERVER_AUTH -> new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth};
                      case CLIENT_AND_SERVER_AUTH ->
                          new KeyPurposeId[] {
                            KeyPurposeId.id_kp_clientAuth, KeyPurposeId.id_kp_serverAuth
                          };
                      case ANY -> new KeyPurposeId[] {KeyPurposeId.anyExtendedKeyUsage};
                      case EMAIL_PROTECTION ->
                          new KeyPurposeId[] {KeyPurposeId.id_kp_emailProtection};
                      case NONE -> new KeyPurposeId[0];
                    };
                if (purposes.length > 0) {
                  builder.addExtension(
                      Extension.extendedKeyUsage, false, new ExtendedKeyUsage(purposes));
                }
                if (keyUsage) {
                  int bits =
                      KeyUsage.keyEncipherment | (digitalSignature ? KeyUsage.digitalSignature : 0);
                  builder.addExtension(Extension.keyUsage, true, new KeyUsage(bits));
                }
              });
      List<X509Certificate> chain = new ArrayList<>();
      chain.add(cert);
      chain.addAll(issuer.chainAbove());
      return new Issued(fileName, chain, keys.getPrivate());
    }
  }

  /**
   * A certificate, the intermediates it needs (not the root), and its private key.
   *
   * @param name the base name of the files {@link #writeTo} writes
   * @param chain the leaf first, then intermediates
   */
  public record Issued(String name, List<X509Certificate> chain, PrivateKey privateKey) {
    public Issued {
      chain = List.copyOf(chain);
    }

    public X509Certificate certificate() {
      return chain.get(0);
    }

    /**
     * Writes {@code name.crt} (PEM, the leaf then intermediates), {@code name.key} (PEM PKCS#8),
     * {@code name.pk8} (DER PKCS#8) and {@code name.p12} (PKCS#12 with {@link #PKCS12_PASSWORD})
     * into {@code dir}; key files are readable by their owner only, as libpq demands.
     */
    public IssuedFiles writeTo(Path dir) {
      try {
        Files.createDirectories(dir);
        StringBuilder certs = new StringBuilder();
        for (X509Certificate c : chain) {
          certs.append(pem(c));
        }
        Path crt = dir.resolve(name + ".crt");
        Path key = dir.resolve(name + ".key");
        Path pk8 = dir.resolve(name + ".pk8");
        Path p12 = dir.resolve(name + ".p12");
        write(crt, certs.toString(), false);
        write(key, pem(new PemObject("PRIVATE KEY", privateKey.getEncoded())), true);
        writeBytes(pk8, privateKey.getEncoded());
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        store.setKeyEntry(
            "user", privateKey, PKCS12_PASSWORD.toCharArray(), chain.toArray(Certificate[]::new));
        try (OutputStream out = Files.newOutputStream(p12)) {
          store.store(out, PKCS12_PASSWORD.toCharArray());
        }
        ownerOnly(p12);
        return new IssuedFiles(crt, key, pk8, p12);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      } catch (GeneralSecurityException e) {
        throw new IllegalStateException(e);
      }
    }
  }

  /**
   * The files of one certificate.
   *
   * @param certificate PEM, leaf first, then intermediates (psql's {@code sslcert})
   * @param privateKey PEM PKCS#8 (psql's {@code sslkey}; the listener's key file)
   * @param pk8 DER PKCS#8, unencrypted (pgjdbc's {@code sslkey})
   * @param pkcs12 PKCS#12 with key and chain (pgjdbc's {@code sslkey} ending in .p12)
   */
  public record IssuedFiles(Path certificate, Path privateKey, Path pk8, Path pkcs12) {}

  // ---- helpers

  private interface Extensions {
    void add(JcaX509v3CertificateBuilder builder) throws IOException;
  }

  private static void caExtensions(JcaX509v3CertificateBuilder builder) throws IOException {
    builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
    builder.addExtension(
        Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
  }

  private static X509Certificate sign(
      X500Name subject,
      PrivateKey issuerKey,
      X500Name issuer,
      KeyPair subjectKeys,
      Instant notBefore,
      Instant notAfter,
      Extensions extensions) {
    try {
      JcaX509v3CertificateBuilder builder =
          new JcaX509v3CertificateBuilder(
              issuer,
              new BigInteger(63, RANDOM).add(BigInteger.ONE),
              Date.from(notBefore),
              Date.from(notAfter),
              subject,
              subjectKeys.getPublic());
      extensions.add(builder);
      return new JcaX509CertificateConverter().getCertificate(builder.build(signer(issuerKey)));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  private static ContentSigner signer(PrivateKey key) {
    try {
      return new JcaContentSignerBuilder("SHA256withECDSA").build(key);
    } catch (OperatorCreationException e) {
      throw new IllegalStateException(e);
    }
  }

  private static KeyPair newKeys() {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
      generator.initialize(new ECGenParameterSpec("secp256r1"));
      return generator.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  private static boolean isSelfSigned(X509Certificate cert) {
    return cert.getSubjectX500Principal().equals(cert.getIssuerX500Principal());
  }

  private static String pem(X509Certificate cert) {
    try {
      return pem(new PemObject("CERTIFICATE", new JcaX509CertificateHolder(cert).getEncoded()));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String pem(PemObject object) {
    StringWriter out = new StringWriter();
    try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
      writer.writeObject(object);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toString();
  }

  private static void write(Path file, String text, boolean secret) {
    try {
      Path parent = file.toAbsolutePath().getParent();
      if (parent != null) {
        Files.createDirectories(parent);
      }
      Files.writeString(file, text);
      if (secret) {
        ownerOnly(file);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void writeBytes(Path file, byte[] bytes) throws IOException {
    Files.write(file, bytes);
    ownerOnly(file);
  }

  private static void ownerOnly(Path file) throws IOException {
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
  }
}
