package dev.warden.core.identity;

import java.util.Locale;
import java.util.Objects;

/**
 * How a client certificate names its identity, for {@link X509CertificateVerifier}.
 *
 * <p>The identity comes from exactly one subject alternative name of the configured type (THREATS
 * T09): several of that type are ambiguous and refused. The subject's common name is a free-text
 * field that many CAs fill without validating, so it is used only when {@code commonNameFallback}
 * is set and the certificate has no SAN of the configured type.
 *
 * @param identitySan the SAN type that carries the identity's name
 * @param commonNameFallback use the subject's common name when the certificate has no SAN of the
 *     configured type (off by default)
 * @param groupsFromOrganizationalUnits the identity's groups are the subject's organizational unit
 *     ({@code OU}) values (off by default: no groups)
 * @param acceptWithoutExtendedKeyUsage accept a leaf certificate that has no extended key usage
 *     extension at all, as PostgreSQL does (off by default: the clientAuth usage is required, so a
 *     certificate issued for something else cannot log in). A leaf whose extended key usage lists
 *     neither clientAuth nor anyExtendedKeyUsage is refused either way.
 */
public record ClientCertificateSettings(
    SanType identitySan,
    boolean commonNameFallback,
    boolean groupsFromOrganizationalUnits,
    boolean acceptWithoutExtendedKeyUsage) {

  /** A subject alternative name type that can carry an identity's name. */
  public enum SanType {
    /** {@code rfc822Name}: an e-mail address, {@code alice@corp.example}. Case-insensitive. */
    EMAIL(1),
    /** {@code dNSName}: a host name, {@code batch01.corp.example}. Case-insensitive. */
    DNS(2),
    /** {@code uniformResourceIdentifier}, e.g. a SPIFFE id. Compared exactly. */
    URI(6),
    /**
     * The Microsoft user principal name ({@code otherName} 1.3.6.1.4.1.311.20.2.3), which Active
     * Directory certificate services put in user certificates. Case-insensitive.
     */
    UPN(0);

    private final int generalNameTag;

    SanType(int generalNameTag) {
      this.generalNameTag = generalNameTag;
    }

    /** The GeneralName tag of this type (RFC 5280 4.2.1.6), as the JDK reports it. */
    int generalNameTag() {
      return generalNameTag;
    }

    /** Whether two names of this type are the same name. */
    boolean sameName(String a, String b) {
      return this == URI ? a.equals(b) : a.equalsIgnoreCase(b);
    }

    /**
     * The type a configuration spells as {@code email}, {@code dns}, {@code uri} or {@code upn}, in
     * any case.
     *
     * @throws IllegalArgumentException naming the accepted spellings
     */
    public static SanType parse(String text) {
      Objects.requireNonNull(text, "SAN type");
      return switch (text.strip().toLowerCase(Locale.ROOT)) {
        case "email", "rfc822name" -> EMAIL;
        case "dns", "dnsname" -> DNS;
        case "uri" -> URI;
        case "upn" -> UPN;
        default ->
            throw new IllegalArgumentException(
                "unknown certificate identity SAN type (use email, dns, uri or upn)");
      };
    }
  }

  public ClientCertificateSettings {
    Objects.requireNonNull(identitySan, "identitySan");
  }

  /**
   * The identity from the e-mail SAN, no common-name fallback, no groups, the clientAuth usage
   * required.
   */
  public static ClientCertificateSettings defaults() {
    return new ClientCertificateSettings(SanType.EMAIL, false, false, false);
  }

  /** The identity from a SAN of {@code type}, other settings at their defaults. */
  public static ClientCertificateSettings of(SanType type) {
    return new ClientCertificateSettings(type, false, false, false);
  }

  public ClientCertificateSettings withCommonNameFallback(boolean on) {
    return new ClientCertificateSettings(
        identitySan, on, groupsFromOrganizationalUnits, acceptWithoutExtendedKeyUsage);
  }

  public ClientCertificateSettings withGroupsFromOrganizationalUnits(boolean on) {
    return new ClientCertificateSettings(
        identitySan, commonNameFallback, on, acceptWithoutExtendedKeyUsage);
  }

  public ClientCertificateSettings withAcceptWithoutExtendedKeyUsage(boolean on) {
    return new ClientCertificateSettings(
        identitySan, commonNameFallback, groupsFromOrganizationalUnits, on);
  }
}
