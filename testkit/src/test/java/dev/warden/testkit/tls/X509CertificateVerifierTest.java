package dev.warden.testkit.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warden.core.identity.AuthMethod;
import dev.warden.core.identity.AuthenticationFailure;
import dev.warden.core.identity.AuthenticationFailure.Reason;
import dev.warden.core.identity.ClientCertificateSettings;
import dev.warden.core.identity.ClientCertificateSettings.SanType;
import dev.warden.core.identity.Identity;
import dev.warden.core.identity.X509CertificateVerifier;
import dev.warden.testkit.tls.TestCertificates.Authority;
import dev.warden.testkit.tls.TestCertificates.Issued;
import dev.warden.testkit.tls.TestCertificates.Usage;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The client certificate checks that TLS leaves to Warden (THREATS T09), on certificates generated
 * by {@link TestCertificates}: identity from exactly one SAN of the configured type, the clientAuth
 * usage, digitalSignature, validity at the injected clock, and the common name only when configured
 * and no SAN of the type exists. These tests live beside the generator because core has no
 * certificate library to make certificates with.
 */
class X509CertificateVerifierTest {
  static Authority root;
  static Authority intermediate;

  @BeforeAll
  static void authorities() {
    root = TestCertificates.rootCa("Warden Test Root");
    intermediate = root.intermediate("Warden Test Intermediate");
  }

  private static X509CertificateVerifier verifier(ClientCertificateSettings settings) {
    return new X509CertificateVerifier(settings, Clock.systemUTC());
  }

  private static X509CertificateVerifier emailVerifier() {
    return verifier(ClientCertificateSettings.defaults());
  }

  private static Reason failure(X509CertificateVerifier verifier, String user, Issued cert) {
    try {
      verifier.verify(user, cert.chain());
    } catch (AuthenticationFailure e) {
      assertThat(e.getMessage()).doesNotContain("alice").doesNotContain("mallory");
      return e.reason();
    }
    throw new AssertionError("the certificate was accepted");
  }

  @Test
  void theEmailSanOfAGoodCertificateIsTheIdentity() throws Exception {
    Issued alice = intermediate.leaf("Alice").email("alice@corp.example").issue();
    assertThat(alice.chain()).hasSize(2); // the leaf and the intermediate, not the root

    Identity identity = emailVerifier().verify("alice@corp.example", alice.chain());

    assertThat(identity.name()).isEqualTo("alice@corp.example");
    assertThat(identity.method()).isEqualTo(AuthMethod.MTLS);
    assertThat(identity.groups()).isEmpty();
    assertThat(identity.onBehalfOf()).isEmpty();
    assertThat(identity.expiresAt()).contains(alice.certificate().getNotAfter().toInstant());
  }

  @Test
  void emailAndDnsNamesCompareWithoutCaseAndTheIdentityKeepsTheCertificatesSpelling()
      throws Exception {
    Issued alice = root.leaf("Alice").email("Alice@Corp.example").issue();
    assertThat(emailVerifier().verify("alice@corp.EXAMPLE", alice.chain()).name())
        .isEqualTo("Alice@Corp.example");

    Issued host = root.leaf("batch").dns("Batch01.corp.example").issue();
    assertThat(
            verifier(ClientCertificateSettings.of(SanType.DNS))
                .verify("batch01.CORP.example", host.chain())
                .name())
        .isEqualTo("Batch01.corp.example");
  }

  @Test
  void uriNamesCompareExactly() throws Exception {
    Issued workload = root.leaf("etl").uri("spiffe://corp.example/ns/etl").issue();
    X509CertificateVerifier uri = verifier(ClientCertificateSettings.of(SanType.URI));

    assertThat(uri.verify("spiffe://corp.example/ns/etl", workload.chain()).name())
        .isEqualTo("spiffe://corp.example/ns/etl");
    assertThat(failure(uri, "spiffe://corp.example/ns/ETL", workload))
        .isEqualTo(Reason.USER_MISMATCH);
  }

  @Test
  void aUserPrincipalNameIsReadFromItsOtherNameSan() throws Exception {
    Issued alice = root.leaf("Alice").upn("alice@ad.corp.example").email("x@corp.example").issue();
    X509CertificateVerifier upn = verifier(ClientCertificateSettings.of(SanType.UPN));

    assertThat(upn.verify("ALICE@ad.corp.example", alice.chain()).name())
        .isEqualTo("alice@ad.corp.example");
    assertThat(failure(upn, "x@corp.example", alice)).isEqualTo(Reason.USER_MISMATCH);
  }

  @Test
  void anotherUsersNameIsAMismatch() {
    Issued alice = root.leaf("Alice").email("alice@corp.example").issue();
    assertThat(failure(emailVerifier(), "mallory@corp.example", alice))
        .isEqualTo(Reason.USER_MISMATCH);
    assertThat(failure(emailVerifier(), "", alice)).isEqualTo(Reason.USER_MISMATCH);
    assertThat(failure(emailVerifier(), null, alice)).isEqualTo(Reason.USER_MISMATCH);
  }

  @Test
  void expiredAndNotYetValidCertificatesAreRefusedAsExpired() {
    assertThat(
            failure(
                emailVerifier(),
                "alice@corp.example",
                root.leaf("Alice").email("alice@corp.example").expired().issue()))
        .isEqualTo(Reason.EXPIRED);
    assertThat(
            failure(
                emailVerifier(),
                "alice@corp.example",
                root.leaf("Alice").email("alice@corp.example").notYetValid().issue()))
        .isEqualTo(Reason.EXPIRED);
  }

  @Test
  void validityIsJudgedAtTheInjectedClock() throws Exception {
    Issued alice = root.leaf("Alice").email("alice@corp.example").issue();
    Instant notAfter = alice.certificate().getNotAfter().toInstant();
    Instant notBefore = alice.certificate().getNotBefore().toInstant();
    ClientCertificateSettings settings = ClientCertificateSettings.defaults();

    assertThat(
            new X509CertificateVerifier(settings, Clock.fixed(notAfter, ZoneOffset.UTC))
                .verify("alice@corp.example", alice.chain())
                .name())
        .isEqualTo("alice@corp.example");
    assertThat(
            failure(
                new X509CertificateVerifier(
                    settings, Clock.fixed(notAfter.plusSeconds(1), ZoneOffset.UTC)),
                "alice@corp.example",
                alice))
        .isEqualTo(Reason.EXPIRED);
    assertThat(
            failure(
                new X509CertificateVerifier(
                    settings, Clock.fixed(notBefore.minusSeconds(1), ZoneOffset.UTC)),
                "alice@corp.example",
                alice))
        .isEqualTo(Reason.EXPIRED);
  }

  @Test
  void anExpiredIntermediateIsRefusedEvenWhenTheLeafIsValid() {
    Instant now = Instant.now();
    Issued alice =
        intermediate
            .leaf("Alice")
            .email("alice@corp.example")
            .validity(now.minus(Duration.ofHours(1)), now.plus(Duration.ofDays(90)))
            .issue();
    Instant afterIntermediate =
        intermediate.certificate().getNotAfter().toInstant().plus(Duration.ofDays(1));

    assertThat(
            failure(
                new X509CertificateVerifier(
                    ClientCertificateSettings.defaults(),
                    Clock.fixed(afterIntermediate, ZoneOffset.UTC)),
                "alice@corp.example",
                alice))
        .isEqualTo(Reason.EXPIRED);
  }

  @Test
  void onlyClientAuthOrAnyExtendedKeyUsageMayLogIn() throws Exception {
    for (Usage usage : List.of(Usage.CLIENT_AUTH, Usage.CLIENT_AND_SERVER_AUTH, Usage.ANY)) {
      Issued cert = root.leaf("Alice").email("alice@corp.example").usage(usage).issue();
      assertThat(emailVerifier().verify("alice@corp.example", cert.chain()).name())
          .as("%s", usage)
          .isEqualTo("alice@corp.example");
    }
    for (Usage usage : List.of(Usage.SERVER_AUTH, Usage.EMAIL_PROTECTION)) {
      Issued cert = root.leaf("Alice").email("alice@corp.example").usage(usage).issue();
      assertThat(failure(emailVerifier(), "alice@corp.example", cert))
          .as("%s", usage)
          .isEqualTo(Reason.CERTIFICATE_INVALID);
      // accepting certificates without the extension does not accept one that says otherwise
      assertThat(
              failure(
                  verifier(
                      ClientCertificateSettings.defaults().withAcceptWithoutExtendedKeyUsage(true)),
                  "alice@corp.example",
                  cert))
          .as("%s", usage)
          .isEqualTo(Reason.CERTIFICATE_INVALID);
    }
  }

  @Test
  void aCertificateWithoutExtendedKeyUsageIsRefusedUnlessConfigured() throws Exception {
    Issued cert = root.leaf("Alice").email("alice@corp.example").usage(Usage.NONE).issue();
    assertThat(failure(emailVerifier(), "alice@corp.example", cert))
        .isEqualTo(Reason.CERTIFICATE_INVALID);
    assertThat(
            verifier(ClientCertificateSettings.defaults().withAcceptWithoutExtendedKeyUsage(true))
                .verify("alice@corp.example", cert.chain())
                .name())
        .isEqualTo("alice@corp.example");
  }

  @Test
  void aKeyUsageWithoutDigitalSignatureIsRefusedAndNoKeyUsageIsFine() throws Exception {
    Issued withoutSignature =
        root.leaf("Alice").email("alice@corp.example").digitalSignature(false).issue();
    assertThat(failure(emailVerifier(), "alice@corp.example", withoutSignature))
        .isEqualTo(Reason.CERTIFICATE_INVALID);

    Issued noKeyUsage = root.leaf("Alice").email("alice@corp.example").noKeyUsage().issue();
    assertThat(emailVerifier().verify("alice@corp.example", noKeyUsage.chain()).name())
        .isEqualTo("alice@corp.example");
  }

  @Test
  void twoSansOfTheConfiguredTypeAreAmbiguous() throws Exception {
    Issued two =
        root.leaf("Alice").email("alice@corp.example").email("mallory@corp.example").issue();
    assertThat(failure(emailVerifier(), "alice@corp.example", two))
        .isEqualTo(Reason.CERTIFICATE_INVALID);
    assertThat(failure(emailVerifier(), "mallory@corp.example", two))
        .isEqualTo(Reason.CERTIFICATE_INVALID);

    // SANs of other types do not count
    Issued mixed = root.leaf("Alice").email("alice@corp.example").dns("alice.corp.example").issue();
    assertThat(emailVerifier().verify("alice@corp.example", mixed.chain()).name())
        .isEqualTo("alice@corp.example");
  }

  @Test
  void theCommonNameIsUsedOnlyWhenConfiguredAndNoSanOfTheTypeExists() throws Exception {
    Issued cnOnly = root.leaf("alice@corp.example").dns("alice.corp.example").issue();
    assertThat(failure(emailVerifier(), "alice@corp.example", cnOnly))
        .isEqualTo(Reason.CERTIFICATE_INVALID);

    X509CertificateVerifier fallback =
        verifier(ClientCertificateSettings.defaults().withCommonNameFallback(true));
    assertThat(fallback.verify("alice@corp.example", cnOnly.chain()).name())
        .isEqualTo("alice@corp.example");

    Issued twoCommonNames =
        root.leaf("alice@corp.example").commonName("mallory@corp.example").issue();
    assertThat(failure(fallback, "alice@corp.example", twoCommonNames))
        .isEqualTo(Reason.CERTIFICATE_INVALID);
  }

  @Test
  void aCommonNameNeverOverridesTheSanThatSaysOtherwise() {
    // THREATS T09: identity only in the CN while the SAN says otherwise
    Issued cert = root.leaf("mallory@corp.example").email("alice@corp.example").issue();
    for (boolean fallback : new boolean[] {false, true}) {
      assertThat(
              failure(
                  verifier(ClientCertificateSettings.defaults().withCommonNameFallback(fallback)),
                  "mallory@corp.example",
                  cert))
          .isEqualTo(Reason.USER_MISMATCH);
    }
  }

  @Test
  void groupsComeFromOrganizationalUnitsWhenConfigured() throws Exception {
    Issued alice =
        root.leaf("Alice")
            .organizationalUnit("analysts")
            .organizationalUnit("Data Engineering")
            .email("alice@corp.example")
            .issue();

    assertThat(emailVerifier().verify("alice@corp.example", alice.chain()).groups()).isEmpty();
    assertThat(
            verifier(ClientCertificateSettings.defaults().withGroupsFromOrganizationalUnits(true))
                .verify("alice@corp.example", alice.chain())
                .groups())
        .isEqualTo(Set.of("analysts", "Data Engineering"));
  }

  @Test
  void aCaCertificateCannotLogIn() {
    Issued ca = root.leaf("Alice").email("alice@corp.example").asCa().issue();
    assertThat(failure(emailVerifier(), "alice@corp.example", ca))
        .isEqualTo(Reason.CERTIFICATE_INVALID);
  }

  @Test
  void namesWithSpacesOrControlCharactersOrOverlongAreRefused() {
    for (String bad :
        List.of(
            "alice @corp.example",
            "alice@corp.example\n",
            "alice\u0000@corp.example",
            "a".repeat(250) + "@corp.example")) {
      Issued cert = root.leaf("Alice").email(bad).issue();
      assertThat(failure(emailVerifier(), bad, cert)).as(bad).isEqualTo(Reason.CERTIFICATE_INVALID);
    }
  }

  @Test
  void anEmptyChainIsRefused() {
    assertThatThrownBy(() -> emailVerifier().verify("alice@corp.example", List.of()))
        .isInstanceOfSatisfying(
            AuthenticationFailure.class,
            e -> assertThat(e.reason()).isEqualTo(Reason.CERTIFICATE_INVALID));
    List<X509Certificate> withNull = new ArrayList<>();
    withNull.add(null);
    assertThatThrownBy(() -> emailVerifier().verify("alice@corp.example", withNull))
        .isInstanceOf(AuthenticationFailure.class);
  }

  @Test
  void sanTypesParseFromConfigurationSpellings() {
    assertThat(SanType.parse("Email")).isEqualTo(SanType.EMAIL);
    assertThat(SanType.parse("dns")).isEqualTo(SanType.DNS);
    assertThat(SanType.parse(" URI ")).isEqualTo(SanType.URI);
    assertThat(SanType.parse("upn")).isEqualTo(SanType.UPN);
    assertThatThrownBy(() -> SanType.parse("cn"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("email, dns, uri or upn");
    assertThat(Optional.of(ClientCertificateSettings.defaults()))
        .contains(new ClientCertificateSettings(SanType.EMAIL, false, false, false));
  }
}
