package dev.warden.core.identity;

/** How an identity proved who it is. */
public enum AuthMethod {
  /** A local Warden user with a SCRAM-SHA-256 password. */
  SCRAM_SHA_256,
  /** A token from an OpenID Connect provider. */
  OIDC,
  /** A client certificate. */
  MTLS,
  /** A Warden-issued service token. */
  SERVICE_TOKEN
}
