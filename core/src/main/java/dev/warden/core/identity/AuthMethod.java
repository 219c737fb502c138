package dev.warden.core.identity;

/** How an identity proved who it is. */
public enum AuthMethod {
  /** A local Warden user with a SCRAM-SHA-256 password. */
  SCRAM_SHA_256("scram-sha-256"),
  /** A token from an OpenID Connect provider, presented as the password. */
  OIDC("oidc"),
  /** A client certificate. */
  MTLS("mtls"),
  /** A Warden-issued service token. */
  SERVICE_TOKEN("service-token");

  private final String label;

  AuthMethod(String label) {
    this.label = label;
  }

  /** The name audit records, logs and policy conditions use, e.g. {@code service-token}. */
  public String label() {
    return label;
  }
}
