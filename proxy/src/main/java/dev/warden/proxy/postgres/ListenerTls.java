package dev.warden.proxy.postgres;

import dev.warden.core.identity.CertificateVerifier;
import dev.warden.core.identity.ClientCertificateSettings;
import dev.warden.core.identity.X509CertificateVerifier;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CRL;
import java.security.cert.CertPathBuilder;
import java.security.cert.CertStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.CollectionCertStoreParameters;
import java.security.cert.PKIXBuilderParameters;
import java.security.cert.PKIXRevocationChecker;
import java.security.cert.X509CertSelector;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.Collection;
import java.util.EnumSet;
import java.util.Objects;
import java.util.Optional;
import javax.net.ssl.CertPathTrustManagerParameters;
import javax.net.ssl.SSLException;
import javax.net.ssl.TrustManagerFactory;

/**
 * TLS for the client-facing listener, and optionally client certificates (mTLS) on it.
 *
 * @param certificateChainPem PEM file with the server certificate first, then intermediates
 * @param privateKeyPem PEM file with the PKCS#8 private key
 * @param required when true a client that does not ask for TLS is refused before authentication, so
 *     no password or token ever crosses the network in clear (THREATS T05)
 * @param clientCertificates when present, the listener asks clients for a certificate and verifies
 *     it against these trust anchors only
 */
public record ListenerTls(
    Path certificateChainPem,
    Path privateKeyPem,
    boolean required,
    Optional<ClientCertificates> clientCertificates) {
  public ListenerTls {
    Objects.requireNonNull(certificateChainPem, "certificateChainPem");
    Objects.requireNonNull(privateKeyPem, "privateKeyPem");
    Objects.requireNonNull(clientCertificates, "clientCertificates");
  }

  /** TLS without client certificates. */
  public ListenerTls(Path certificateChainPem, Path privateKeyPem, boolean required) {
    this(certificateChainPem, privateKeyPem, required, Optional.empty());
  }

  /** This listener, asking clients for certificates as {@code clientCertificates} says. */
  public ListenerTls withClientCertificates(ClientCertificates clientCertificates) {
    return new ListenerTls(
        certificateChainPem, privateKeyPem, required, Optional.of(clientCertificates));
  }

  /**
   * Client certificates on a listener.
   *
   * <p>TLS verifies a client's chain against the CAs of {@code trustedCasPem} only (never the JDK's
   * own trust store, which would let any public CA's customer in) and, when a CRL file is given,
   * refuses a leaf its issuer's CRL lists; the JDK's TLS also refuses a leaf whose extended key
   * usage lacks clientAuth or whose key usage lacks digitalSignature. What TLS does not check (the
   * identity's name, a leaf without extended key usage, validity at Warden's clock) the {@link
   * #verifier} does, when the login takes the identity from the certificate.
   *
   * @param trustedCasPem PEM file of the CA certificates that issue client certificates
   * @param required when true a client without a certificate fails the handshake ({@code
   *     ClientAuth.REQUIRE}); when false it may connect without one and log in with a password or
   *     token ({@code ClientAuth.OPTIONAL}), and one that sends a certificate must send a valid one
   * @param settings how a certificate names its identity
   * @param crlPem PEM file of certificate revocation lists. When given, the CRL of every client
   *     leaf's issuer must be in it and current (its nextUpdate not passed), or the handshake
   *     fails; only the leaf is checked, and nothing is fetched from the network
   */
  public record ClientCertificates(
      Path trustedCasPem,
      boolean required,
      ClientCertificateSettings settings,
      Optional<Path> crlPem) {
    public ClientCertificates {
      Objects.requireNonNull(trustedCasPem, "trustedCasPem");
      Objects.requireNonNull(settings, "settings");
      Objects.requireNonNull(crlPem, "crlPem");
    }

    /** Client certificates without a CRL. */
    public ClientCertificates(
        Path trustedCasPem, boolean required, ClientCertificateSettings settings) {
      this(trustedCasPem, required, settings, Optional.empty());
    }

    /** The verifier that turns a chain TLS accepted into the identity it names. */
    public CertificateVerifier verifier(Clock clock) {
      return new X509CertificateVerifier(settings, clock);
    }

    private TrustManagerFactory trustManagers() {
      try {
        KeyStore anchors = KeyStore.getInstance("PKCS12");
        anchors.load(null, null);
        int i = 0;
        for (Certificate certificate : read(trustedCasPem, "CA certificates").certificates()) {
          anchors.setCertificateEntry("ca-" + i++, certificate);
        }
        if (i == 0) {
          throw new IllegalStateException(
              "the client CA file " + trustedCasPem + " holds no certificate");
        }
        PKIXBuilderParameters parameters =
            new PKIXBuilderParameters(anchors, new X509CertSelector());
        if (crlPem.isPresent()) {
          Collection<? extends CRL> crls = read(crlPem.get(), "CRLs").crls();
          if (crls.isEmpty()) {
            throw new IllegalStateException(
                "the client CRL file " + crlPem.get() + " holds no CRL");
          }
          parameters.addCertStore(
              CertStore.getInstance("Collection", new CollectionCertStoreParameters(crls)));
          PKIXRevocationChecker revocation =
              (PKIXRevocationChecker) CertPathBuilder.getInstance("PKIX").getRevocationChecker();
          revocation.setOptions(
              EnumSet.of(
                  PKIXRevocationChecker.Option.PREFER_CRLS,
                  PKIXRevocationChecker.Option.NO_FALLBACK,
                  PKIXRevocationChecker.Option.ONLY_END_ENTITY));
          parameters.addCertPathChecker(revocation);
          parameters.setRevocationEnabled(true);
        } else {
          // no revocation information is configured: without this the JDK would refuse every
          // chain for want of it
          parameters.setRevocationEnabled(false);
        }
        TrustManagerFactory factory = TrustManagerFactory.getInstance("PKIX");
        factory.init(new CertPathTrustManagerParameters(parameters));
        return factory;
      } catch (GeneralSecurityException | IOException e) {
        throw new IllegalStateException(
            "cannot load the client CA file " + trustedCasPem + ": " + e.getMessage(), e);
      }
    }

    private record Contents(
        Collection<? extends Certificate> certificates, Collection<? extends CRL> crls) {}

    private static Contents read(Path file, String what) {
      try (InputStream in = Files.newInputStream(file)) {
        CertificateFactory factory = CertificateFactory.getInstance("X.509");
        if (what.equals("CRLs")) {
          return new Contents(java.util.List.of(), factory.generateCRLs(in));
        }
        Collection<? extends Certificate> certificates = factory.generateCertificates(in);
        for (Certificate c : certificates) {
          if (c instanceof X509Certificate x && x.getBasicConstraints() == -1) {
            throw new IllegalStateException(
                "the client CA file "
                    + file
                    + " holds a certificate that is not a CA: "
                    + x.getSubjectX500Principal().getName());
          }
        }
        return new Contents(certificates, java.util.List.of());
      } catch (IOException e) {
        throw new IllegalStateException("cannot read the " + what + " in " + file + ": " + e, e);
      } catch (GeneralSecurityException e) {
        throw new IllegalStateException(
            "the file " + file + " does not hold PEM " + what + ": " + e.getMessage(), e);
      }
    }
  }

  /**
   * The server TLS context for this listener: TLS 1.2 or 1.3 with this certificate and key, and
   * with client certificates when configured.
   *
   * @throws IllegalStateException naming the file that cannot be loaded and why
   */
  public SslContext sslContext() {
    SslContextBuilder builder;
    try {
      builder =
          SslContextBuilder.forServer(certificateChainPem.toFile(), privateKeyPem.toFile())
              .protocols("TLSv1.3", "TLSv1.2");
    } catch (IllegalArgumentException e) {
      throw new IllegalStateException(
          "cannot load the TLS certificate " + certificateChainPem + ": " + e.getMessage(), e);
    }
    if (clientCertificates.isPresent()) {
      ClientCertificates client = clientCertificates.get();
      builder
          .trustManager(client.trustManagers())
          .clientAuth(client.required() ? ClientAuth.REQUIRE : ClientAuth.OPTIONAL);
    }
    try {
      return builder.build();
    } catch (SSLException | IllegalArgumentException e) {
      throw new IllegalStateException(
          "cannot load the TLS certificate " + certificateChainPem + ": " + e.getMessage(), e);
    }
  }
}
