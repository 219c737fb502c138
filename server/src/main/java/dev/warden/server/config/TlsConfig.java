package dev.warden.server.config;

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
 */
public record TlsConfig(Optional<Path> certificate, Optional<Path> privateKey, boolean required) {
  public TlsConfig {
    Objects.requireNonNull(certificate, "certificate");
    Objects.requireNonNull(privateKey, "privateKey");
    if (certificate.isPresent() != privateKey.isPresent()) {
      throw new IllegalArgumentException("certificate and private key go together");
    }
  }

  /** A generated certificate, TLS optional for clients. */
  public static TlsConfig generated() {
    return new TlsConfig(Optional.empty(), Optional.empty(), false);
  }
}
