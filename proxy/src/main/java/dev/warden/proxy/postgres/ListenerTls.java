package dev.warden.proxy.postgres;

import java.nio.file.Path;
import java.util.Objects;

/**
 * TLS for the client-facing listener.
 *
 * @param certificateChainPem PEM file with the server certificate first, then intermediates
 * @param privateKeyPem PEM file with the PKCS#8 private key
 * @param required when true a client that does not ask for TLS is refused before authentication, so
 *     no password or token ever crosses the network in clear (THREATS T05)
 */
public record ListenerTls(Path certificateChainPem, Path privateKeyPem, boolean required) {
  public ListenerTls {
    Objects.requireNonNull(certificateChainPem, "certificateChainPem");
    Objects.requireNonNull(privateKeyPem, "privateKeyPem");
  }
}
