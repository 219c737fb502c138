package dev.warden.core.identity;

import java.security.cert.X509Certificate;
import java.util.List;

/**
 * Turns a client certificate chain that TLS has already verified against the listener's trust
 * anchors into the identity it names, checking what TLS does not: the client-authentication usage,
 * validity at this moment, and the configured subject alternative name matching the user name the
 * client logged in with.
 */
public interface CertificateVerifier {
  /**
   * The identity of the client presenting {@code chain} (leaf first) that logged in as {@code
   * claimedUser}; its {@link Identity#expiresAt()} is the leaf's {@code notAfter}.
   *
   * @throws AuthenticationFailure with reason {@code CERTIFICATE_INVALID}, {@code EXPIRED} or
   *     {@code USER_MISMATCH}
   */
  Identity verify(String claimedUser, List<X509Certificate> chain) throws AuthenticationFailure;
}
