package dev.warden.core.environment;

/** How Warden protects its connection to an upstream database. */
public enum TlsMode {
  /** Plain TCP. */
  DISABLE,
  /** TLS is required, the server's certificate is not checked. */
  REQUIRE,
  /** TLS with the certificate chain checked and the host name matched against it. */
  VERIFY_FULL
}
