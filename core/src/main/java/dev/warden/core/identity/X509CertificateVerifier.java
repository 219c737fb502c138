package dev.warden.core.identity;

import dev.warden.core.identity.AuthenticationFailure.Reason;
import dev.warden.core.identity.ClientCertificateSettings.SanType;
import java.nio.charset.StandardCharsets;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Date;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import javax.naming.InvalidNameException;
import javax.naming.NamingEnumeration;
import javax.naming.NamingException;
import javax.naming.directory.Attribute;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;
import javax.security.auth.x500.X500Principal;

/**
 * The client certificate checks TLS leaves to Warden, and the identity a certificate names.
 *
 * <p>TLS has verified the chain's signatures up to one of the listener's trust anchors. This class
 * checks, in order: every certificate of the chain is valid at {@code clock.instant()} (not
 * expired, not yet valid: {@code EXPIRED}); the leaf is not a CA certificate; the leaf's extended
 * key usage allows client authentication (clientAuth or anyExtendedKeyUsage; a leaf without the
 * extension is refused unless {@link ClientCertificateSettings#acceptWithoutExtendedKeyUsage()});
 * its key usage, when present, includes digitalSignature (the key signs the TLS handshake); it
 * carries exactly one subject alternative name of the configured type, or, only when configured and
 * there is none of that type, exactly one subject common name (otherwise {@code
 * CERTIFICATE_INVALID}); and that name equals the user name the client logged in with ({@code
 * USER_MISMATCH}), ignoring case except for URIs.
 *
 * <p>The identity's name is the name as the certificate spells it, so one person is one identity
 * however the user name was typed. Names and groups must be printable ASCII without spaces (names)
 * or control characters (groups), at most 255 characters: they reach audit records and policy.
 * Failure messages never contain certificate contents beyond the SAN type.
 */
public final class X509CertificateVerifier implements CertificateVerifier {
  /** Longest identity name or group taken from a certificate. */
  static final int MAX_NAME_LENGTH = 255;

  private static final String CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";
  private static final String ANY_EXTENDED_KEY_USAGE = "2.5.29.37.0";
  private static final int DIGITAL_SIGNATURE = 0;

  /** DER of the OID 1.3.6.1.4.1.311.20.2.3 (Microsoft user principal name), with tag and length. */
  private static final byte[] UPN_OID = {
    0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, (byte) 0x82, 0x37, 0x14, 0x02, 0x03
  };

  private final ClientCertificateSettings settings;
  private final Clock clock;

  public X509CertificateVerifier(ClientCertificateSettings settings, Clock clock) {
    this.settings = Objects.requireNonNull(settings, "settings");
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  @Override
  public Identity verify(String claimedUser, List<X509Certificate> chain)
      throws AuthenticationFailure {
    if (chain == null || chain.isEmpty() || chain.stream().anyMatch(Objects::isNull)) {
      throw new AuthenticationFailure(Reason.CERTIFICATE_INVALID, "no client certificate");
    }
    X509Certificate leaf = chain.get(0);
    Date now = Date.from(clock.instant());
    for (int i = 0; i < chain.size(); i++) {
      String which = i == 0 ? "the client certificate" : "certificate " + i + " of its chain";
      try {
        chain.get(i).checkValidity(now);
      } catch (CertificateExpiredException e) {
        throw new AuthenticationFailure(Reason.EXPIRED, which + " has expired");
      } catch (CertificateNotYetValidException e) {
        throw new AuthenticationFailure(Reason.EXPIRED, which + " is not valid yet");
      }
    }
    if (leaf.getBasicConstraints() != -1) {
      throw new AuthenticationFailure(
          Reason.CERTIFICATE_INVALID, "the client certificate is a CA certificate");
    }
    checkUsage(leaf);
    String name = name(leaf);
    if (claimedUser == null || !settings.identitySan().sameName(name, claimedUser)) {
      throw new AuthenticationFailure(
          Reason.USER_MISMATCH,
          "the user name does not match the client certificate's "
              + (nameFromSan(leaf) ? settings.identitySan() + " SAN" : "common name"));
    }
    Set<String> groups =
        settings.groupsFromOrganizationalUnits() ? organizationalUnits(leaf) : Set.of();
    return new Identity(
        name,
        groups,
        AuthMethod.MTLS,
        Optional.empty(),
        Optional.of(Instant.ofEpochMilli(leaf.getNotAfter().getTime())));
  }

  private void checkUsage(X509Certificate leaf) throws AuthenticationFailure {
    List<String> extended;
    try {
      extended = leaf.getExtendedKeyUsage();
    } catch (CertificateParsingException e) {
      throw new AuthenticationFailure(
          Reason.CERTIFICATE_INVALID, "the extended key usage extension does not parse");
    }
    if (extended == null) {
      if (!settings.acceptWithoutExtendedKeyUsage()) {
        throw new AuthenticationFailure(
            Reason.CERTIFICATE_INVALID,
            "the client certificate has no extended key usage; clientAuth is required");
      }
    } else if (!extended.contains(CLIENT_AUTH) && !extended.contains(ANY_EXTENDED_KEY_USAGE)) {
      throw new AuthenticationFailure(
          Reason.CERTIFICATE_INVALID,
          "the client certificate's extended key usage does not allow client authentication");
    }
    boolean[] usage = leaf.getKeyUsage();
    if (usage != null && (usage.length <= DIGITAL_SIGNATURE || !usage[DIGITAL_SIGNATURE])) {
      throw new AuthenticationFailure(
          Reason.CERTIFICATE_INVALID,
          "the client certificate's key usage does not include digitalSignature");
    }
  }

  /** The identity's name: the one SAN of the configured type, or the common name if allowed. */
  private String name(X509Certificate leaf) throws AuthenticationFailure {
    SanType type = settings.identitySan();
    List<String> sans = sans(leaf, type);
    if (sans.size() > 1) {
      throw new AuthenticationFailure(
          Reason.CERTIFICATE_INVALID,
          "the client certificate has " + sans.size() + " " + type + " SANs: ambiguous identity");
    }
    if (sans.size() == 1) {
      return checkedName(sans.get(0), type + " SAN");
    }
    if (!settings.commonNameFallback()) {
      throw new AuthenticationFailure(
          Reason.CERTIFICATE_INVALID, "the client certificate has no " + type + " SAN");
    }
    List<String> commonNames = attributes(leaf, "CN");
    if (commonNames.size() != 1) {
      throw new AuthenticationFailure(
          Reason.CERTIFICATE_INVALID,
          "the client certificate has no "
              + type
              + " SAN and "
              + commonNames.size()
              + " common names; exactly one is needed");
    }
    return checkedName(commonNames.get(0), "common name");
  }

  private boolean nameFromSan(X509Certificate leaf) throws AuthenticationFailure {
    return !sans(leaf, settings.identitySan()).isEmpty();
  }

  private static String checkedName(String name, String what) throws AuthenticationFailure {
    if (name.isEmpty() || name.length() > MAX_NAME_LENGTH) {
      throw new AuthenticationFailure(
          Reason.CERTIFICATE_INVALID,
          "the client certificate's " + what + " must be 1 to " + MAX_NAME_LENGTH + " characters");
    }
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      if (c <= ' ' || c > '~') {
        throw new AuthenticationFailure(
            Reason.CERTIFICATE_INVALID,
            String.format(
                "the client certificate's %s holds U+%04X: only printable ASCII without spaces",
                what, (int) c));
      }
    }
    return name;
  }

  /** The values of every SAN of {@code type} in the certificate. */
  private static List<String> sans(X509Certificate leaf, SanType type)
      throws AuthenticationFailure {
    Collection<List<?>> all;
    try {
      all = leaf.getSubjectAlternativeNames();
    } catch (CertificateParsingException e) {
      throw new AuthenticationFailure(
          Reason.CERTIFICATE_INVALID, "the subject alternative names do not parse");
    }
    List<String> names = new ArrayList<>();
    if (all == null) {
      return names;
    }
    for (List<?> entry : all) {
      if (entry.size() < 2 || !(entry.get(0) instanceof Integer tag)) {
        continue;
      }
      if (tag != type.generalNameTag()) {
        continue;
      }
      if (type == SanType.UPN) {
        if (entry.get(1) instanceof byte[] der) {
          Optional<String> upn = Der.userPrincipalName(der, UPN_OID);
          if (upn.isPresent()) {
            names.add(upn.get());
          }
        }
      } else if (entry.get(1) instanceof String value) {
        names.add(value);
      }
    }
    return names;
  }

  private static Set<String> organizationalUnits(X509Certificate leaf)
      throws AuthenticationFailure {
    Set<String> groups = new LinkedHashSet<>();
    for (String unit : attributes(leaf, "OU")) {
      if (unit.isEmpty()
          || unit.length() > MAX_NAME_LENGTH
          || unit.chars().anyMatch(c -> c < ' ' || c == 0x7f)) {
        throw new AuthenticationFailure(
            Reason.CERTIFICATE_INVALID,
            "an organizational unit of the client certificate is empty, too long or holds a"
                + " control character");
      }
      groups.add(unit);
    }
    return groups;
  }

  /** The string values of the subject's attributes of {@code type} (CN, OU), in order. */
  private static List<String> attributes(X509Certificate leaf, String type)
      throws AuthenticationFailure {
    List<String> values = new ArrayList<>();
    try {
      LdapName subject =
          new LdapName(leaf.getSubjectX500Principal().getName(X500Principal.RFC2253));
      for (Rdn rdn : subject.getRdns()) {
        NamingEnumeration<? extends Attribute> attributes = rdn.toAttributes().getAll();
        while (attributes.hasMore()) {
          Attribute attribute = attributes.next();
          if (!attribute.getID().equalsIgnoreCase(type)) {
            continue;
          }
          for (int i = 0; i < attribute.size(); i++) {
            if (!(attribute.get(i) instanceof String value)) {
              throw new AuthenticationFailure(
                  Reason.CERTIFICATE_INVALID,
                  "the client certificate's " + type + " is not a string");
            }
            values.add(value);
          }
        }
      }
    } catch (InvalidNameException e) {
      throw new AuthenticationFailure(
          Reason.CERTIFICATE_INVALID, "the client certificate's subject does not parse");
    } catch (NamingException e) {
      throw new AuthenticationFailure(
          Reason.CERTIFICATE_INVALID, "the client certificate's subject cannot be read");
    }
    return values;
  }

  /** Just enough DER to read a user principal name out of an {@code otherName}. */
  static final class Der {
    private Der() {}

    /**
     * The UTF8String value of an {@code OtherName ::= SEQUENCE { type-id OID, value [0] EXPLICIT
     * ANY }} (also accepted with the GeneralName's own {@code [0]} tag instead of SEQUENCE) whose
     * type is {@code oid}; empty for another type or anything malformed.
     */
    static Optional<String> userPrincipalName(byte[] der, byte[] oid) {
      int[] outer = header(der, 0, der.length);
      if (outer == null || (der[0] != 0x30 && der[0] != (byte) 0xa0)) {
        return Optional.empty();
      }
      int start = outer[0];
      int end = outer[1];
      if (end - start < oid.length
          || !Arrays.equals(der, start, start + oid.length, oid, 0, oid.length)) {
        return Optional.empty();
      }
      int pos = start + oid.length;
      if (pos >= end || der[pos] != (byte) 0xa0) {
        return Optional.empty();
      }
      int[] explicit = header(der, pos, end);
      if (explicit == null || explicit[1] != end) {
        return Optional.empty();
      }
      int valuePos = explicit[0];
      if (valuePos >= end || der[valuePos] != 0x0c) { // UTF8String
        return Optional.empty();
      }
      int[] value = header(der, valuePos, end);
      if (value == null || value[1] != end) {
        return Optional.empty();
      }
      return Optional.of(new String(der, value[0], value[1] - value[0], StandardCharsets.UTF_8));
    }

    /**
     * The content's start and end of the element at {@code pos} (one tag byte), or null if its
     * length is malformed or runs past {@code limit}.
     */
    private static int[] header(byte[] der, int pos, int limit) {
      if (pos + 2 > limit) {
        return null;
      }
      int first = der[pos + 1] & 0xff;
      int at = pos + 2;
      long length;
      if (first < 0x80) {
        length = first;
      } else {
        int bytes = first & 0x7f;
        if (bytes == 0 || bytes > 3 || at + bytes > limit) {
          return null;
        }
        length = 0;
        for (int i = 0; i < bytes; i++) {
          length = (length << 8) | (der[at++] & 0xff);
        }
      }
      if (at + length > limit) {
        return null;
      }
      return new int[] {at, (int) (at + length)};
    }
  }
}
