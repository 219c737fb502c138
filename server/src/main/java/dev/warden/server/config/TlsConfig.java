package dev.warden.server.config;

import dev.warden.core.identity.ClientCertificateSettings;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * TLS towards clients. Without a configured certificate Warden generates a self-signed one under
 * its data directory, so that TLS is always available.
 *
 * @param certificate PEM certificate chain, present exactly when {@code privateKey} is
 * @param privateKey PEM private key (PKCS#8)
 * @param required when true, a client that does not ask for TLS is refused before it can send a
 *     password
 * @param clientCertificates when present, clients may (or must) log in with a certificate
 */
public record TlsConfig(
    Optional<Path> certificate,
    Optional<Path> privateKey,
    boolean required,
    Optional<ClientCertificates> clientCertificates) {
  public TlsConfig {
    Objects.requireNonNull(certificate, "certificate");
    Objects.requireNonNull(privateKey, "privateKey");
    Objects.requireNonNull(clientCertificates, "clientCertificates");
    if (certificate.isPresent() != privateKey.isPresent()) {
      throw new IllegalArgumentException("certificate and private key go together");
    }
  }

  public TlsConfig(Optional<Path> certificate, Optional<Path> privateKey, boolean required) {
    this(certificate, privateKey, required, Optional.empty());
  }

  /** A generated certificate, TLS optional for clients. */
  public static TlsConfig generated() {
    return new TlsConfig(Optional.empty(), Optional.empty(), false);
  }

  /**
   * Client certificate logins (mTLS).
   *
   * @param ca PEM bundle of the CAs that issue client certificates; the only trust anchors for them
   * @param required true: a client without a certificate is refused during the TLS handshake;
   *     false: it falls back to a password or token
   * @param settings how a certificate names its identity
   * @param crl a PEM file of certificate revocation lists; when present, a client certificate whose
   *     issuer has no current list in it is refused, and so is one its list revokes
   */
  public record ClientCertificates(
      Path ca, boolean required, ClientCertificateSettings settings, Optional<Path> crl) {
    public ClientCertificates {
      Objects.requireNonNull(ca, "ca");
      Objects.requireNonNull(settings, "settings");
      Objects.requireNonNull(crl, "crl");
    }
  }
}
