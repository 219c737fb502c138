package dev.warden.server.identity.oidc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.core.identity.AuthMethod;
import dev.warden.core.identity.AuthenticationFailure;
import dev.warden.core.identity.AuthenticationFailure.Reason;
import dev.warden.core.identity.Identity;
import dev.warden.testkit.oidc.MockIdentityProvider;
import dev.warden.testkit.oidc.MockIdentityProvider.Availability;
import dev.warden.testkit.oidc.MockIdentityProvider.Endpoint;
import dev.warden.testkit.oidc.MockSigningKey;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/** Token verification against a real OIDC provider over loopback (THREATS AU01–AU08). */
class OidcVerifierTest {
  private OidcFixture f = new OidcFixture();

  @AfterEach
  void close() throws Exception {
    f.close();
  }

  private Instant now() {
    return f.clock.instant();
  }

  @Nested
  class GoodTokens {
    @Test
    void anRsaTokenProvesTheUserItsEmailNamesWithItsGroupsAndExpiry() {
      Instant exp = now().plusSeconds(600);
      String token =
          f.idp
              .token()
              .email("alice@corp.example")
              .emailVerified(true)
              .groups("dba", "eng")
              .expiresAt(exp)
              .sign();

      Identity identity = f.accept("alice@corp.example", token);

      assertThat(identity.name()).isEqualTo("alice@corp.example");
      assertThat(identity.groups()).containsExactlyInAnyOrder("dba", "eng");
      assertThat(identity.method()).isEqualTo(AuthMethod.OIDC);
      assertThat(identity.onBehalfOf()).isEmpty();
      assertThat(identity.expiresAt()).contains(exp);
    }

    @Test
    void theEmailMatchesIgnoringCaseAndTheNameIsAsTyped() {
      String token = f.idp.token().email("Alice@Corp.Example").emailVerified(true).sign();
      assertThat(f.accept("alice@CORP.example", token).name()).isEqualTo("alice@CORP.example");
    }

    @Test
    void ecAndEd25519KeysVerifyTheirOwnAlgorithms() {
      f.idp.addEd25519Key("ed-1");
      assertThat(f.accept("alice", f.idp.token().signedWith("ec-1").sign()).name())
          .isEqualTo("alice");
      assertThat(f.accept("alice", f.idp.token().signedWith("ed-1").sign()).name())
          .isEqualTo("alice");
    }

    @Test
    void aKeyWithoutAlgInTheJwksIsUsedWithWhatItsTypeSupports() {
      f.idp.addKey(MockSigningKey.rsa("pss", "PS256", false));
      f.idp.addKey(MockSigningKey.ec("ec-noalg", false));
      assertThat(f.accept("alice", f.idp.token().signedWith("pss").sign())).isNotNull();
      assertThat(f.accept("alice", f.idp.token().signedWith("ec-noalg").sign())).isNotNull();
    }

    @Test
    void aTokenWithoutKidIsTriedAgainstTheKeysForItsAlgorithm() {
      assertThat(f.accept("alice", f.idp.token().signedWith("ec-1").noKid().sign())).isNotNull();
    }

    @Test
    void subjectAndPreferredUsernameMatchExactly() {
      assertThat(f.accept("alice", f.idp.token().subject("alice").sign())).isNotNull();
      assertThat(f.accept("al", f.idp.token().subject("x").preferredUsername("al").sign()))
          .isNotNull();
      assertThat(f.refuse("Alice", f.idp.token().subject("alice").sign()).reason())
          .isEqualTo(Reason.USER_MISMATCH);
    }

    @Test
    void accessTokensTypedAtJwtAreAccepted() {
      assertThat(f.accept("alice", f.idp.token().typ("at+jwt").sign())).isNotNull();
      assertThat(f.accept("alice", f.idp.token().typ(null).sign())).isNotNull();
      assertThat(f.refuse("alice", f.idp.token().typ("secevent+jwt").sign()).reason())
          .isEqualTo(Reason.TOKEN_INVALID);
    }

    @Test
    void theVerifierNeverWaitsOnTheCallersThread() throws Exception {
      f.idp.availability(Availability.HANG);
      CompletableFuture<Identity> pending = f.verifier.verify("alice", f.idp.token().sign());
      // The provider holds the key request, so the result cannot exist yet; the call returned.
      assertThat(pending).isNotDone();
      f.idp.availability(Availability.UP);
      assertThat(pending.get(30, TimeUnit.SECONDS).name()).isEqualTo("alice");
    }
  }

  @Nested
  class AU01Unsigned {
    @Test
    void algNoneInAnyCaseIsRefused() {
      for (String none : List.of("none", "None", "NONE")) {
        AuthenticationFailure failure =
            f.refuse("alice", f.idp.token().header("alg", none).signAlgNone());
        assertThat(failure.reason()).isEqualTo(Reason.TOKEN_INVALID);
        assertThat(failure.getMessage()).contains("unsigned");
      }
    }

    @Test
    void aTokenWithItsSignatureCutOffIsRefused() {
      String token = f.idp.token().sign();
      String cut = token.substring(0, token.lastIndexOf('.') + 1);
      assertThat(f.refuse("alice", cut).reason()).isEqualTo(Reason.TOKEN_INVALID);
      assertThat(f.refuse("alice", token.substring(0, token.lastIndexOf('.'))).reason())
          .isEqualTo(Reason.TOKEN_INVALID);
    }
  }

  @Nested
  class AU02KeyConfusion {
    @Test
    void hs256SignedWithTheRsaPublicKeyIsRefused() {
      for (boolean pem : List.of(false, true)) {
        AuthenticationFailure failure =
            f.refuse("alice", f.idp.token().signHs256WithPublicKey(pem));
        assertThat(failure.reason()).isEqualTo(Reason.TOKEN_INVALID);
        assertThat(failure.getMessage()).contains("HMAC");
      }
    }

    @Test
    void anAlgorithmOtherThanTheKeysIsRefusedBeforeTheSignatureIsTried() {
      // rsa-1 is published with alg RS256; the same key under PS256 or ES256 is not accepted.
      for (String alg : List.of("PS256", "ES256", "RS512")) {
        AuthenticationFailure failure = f.refuse("alice", f.idp.token().header("alg", alg).sign());
        assertThat(failure.reason()).isEqualTo(Reason.TOKEN_INVALID);
        assertThat(failure.getMessage()).contains("is not the one of its key");
      }
    }

    @Test
    void aSymmetricKeyInTheJwksIsNeverUsed() {
      String secret = Base64.getUrlEncoder().withoutPadding().encodeToString(new byte[32]);
      f.idp.jwksBody(
          "{\"keys\":[{\"kty\":\"oct\",\"kid\":\"rsa-1\",\"alg\":\"HS256\",\"k\":\""
              + secret
              + "\"}]}");
      assertThat(f.refuse("alice", f.idp.token().signHs256WithPublicKey(false)).reason())
          .isEqualTo(Reason.TOKEN_INVALID);
      assertThat(f.refuse("alice", f.idp.token().sign()).getMessage()).contains("does not publish");
    }

    @Test
    void aTokenSignedByAnotherKeyUnderAPublishedKidIsRefused() {
      MockSigningKey stranger = MockSigningKey.rsa("rsa-1", "RS256", true);
      AuthenticationFailure failure = f.refuse("alice", f.idp.token().signedWith(stranger).sign());
      assertThat(failure.getMessage()).contains("signature does not verify");
      assertThat(f.refuse("alice", f.idp.token().signWithBrokenSignature()).getMessage())
          .contains("signature does not verify");
    }
  }

  @Nested
  class AU03Claims {
    @Test
    void anotherIssuerIsRefusedEvenWithAPublishedKey() {
      for (String iss :
          List.of("https://evil.example", f.idp.issuer() + "/", f.idp.issuer() + "/x")) {
        AuthenticationFailure failure = f.refuse("alice", f.idp.token().issuer(iss).sign());
        assertThat(failure.reason()).isEqualTo(Reason.TOKEN_INVALID);
        assertThat(failure.getMessage()).contains("issuer");
      }
      assertThat(f.refuse("alice", f.idp.token().without("iss").sign()).reason())
          .isEqualTo(Reason.TOKEN_INVALID);
    }

    @Test
    void anotherAudienceIsRefused() {
      assertThat(f.refuse("alice", f.idp.token().audience("other-app").sign()).getMessage())
          .contains("audience");
      assertThat(f.refuse("alice", f.idp.token().without("aud").sign()).reason())
          .isEqualTo(Reason.TOKEN_INVALID);
    }

    @Test
    void theAuthorizedPartyMustBeKnownAndIsNeededWithSeveralAudiences() {
      assertThat(f.accept("alice", f.idp.token().authorizedParty("warden-cli").sign())).isNotNull();
      assertThat(
              f.accept(
                  "alice",
                  f.idp.token().audience("warden", "account").authorizedParty("warden").sign()))
          .isNotNull();
      assertThat(f.refuse("alice", f.idp.token().authorizedParty("other-app").sign()).getMessage())
          .contains("azp");
      assertThat(f.refuse("alice", f.idp.token().audience("warden", "account").sign()).getMessage())
          .contains("azp");
    }

    @Test
    void anExpiredTokenIsRefusedBeyondTheSkewOnly() {
      assertThat(f.accept("alice", f.idp.token().expiresAt(now().minusSeconds(30)).sign()))
          .isNotNull();
      AuthenticationFailure failure =
          f.refuse("alice", f.idp.token().expiresAt(now().minusSeconds(60)).sign());
      assertThat(failure.reason()).isEqualTo(Reason.EXPIRED);
    }

    @Test
    void aTokenNotValidYetOrIssuedInTheFutureIsRefusedBeyondTheSkew() {
      assertThat(f.accept("alice", f.idp.token().notBefore(now().plusSeconds(50)).sign()))
          .isNotNull();
      assertThat(f.refuse("alice", f.idp.token().notBefore(now().plusSeconds(61)).sign()).reason())
          .isEqualTo(Reason.EXPIRED);
      assertThat(f.accept("alice", f.idp.token().issuedAt(now().plusSeconds(50)).sign()))
          .isNotNull();
      assertThat(f.refuse("alice", f.idp.token().issuedAt(now().plusSeconds(61)).sign()).reason())
          .isEqualTo(Reason.EXPIRED);
    }

    @Test
    void aTokenWithoutExpiryOrWithAMalformedDateIsRefused() {
      assertThat(f.refuse("alice", f.idp.token().without("exp").sign()).getMessage())
          .contains("no expiry");
      assertThat(f.refuse("alice", f.idp.token().claim("exp", "tomorrow").sign()).reason())
          .isEqualTo(Reason.TOKEN_INVALID);
      assertThat(f.refuse("alice", f.idp.token().claim("nbf", 1e300).sign()).reason())
          .isEqualTo(Reason.TOKEN_INVALID);
    }
  }

  @Nested
  class AU04HeadersNamingKeys {
    @Test
    void hostileKidsAreJustUnknownKeys() {
      for (String kid :
          List.of("../../../../etc/passwd", "' OR '1'='1' --", "rsa-1\u0000", "%2e%2e%2f", "")) {
        AuthenticationFailure failure = f.refuse("alice", f.idp.token().kid(kid).sign());
        assertThat(failure.reason()).isEqualTo(Reason.TOKEN_INVALID);
        assertThat(failure.getMessage()).contains("does not publish");
      }
    }

    @Test
    void jkuX5uJwkAndX5cHeadersAreRefusedAndNeverFetched() {
      List<String> tokens =
          List.of(
              f.idp.token().signWithJku(),
              f.idp.token().signWithX5u(),
              f.idp.token().signWithEmbeddedJwk(),
              f.idp.token().signWithX5c());
      for (String token : tokens) {
        AuthenticationFailure failure = f.refuse("alice", token);
        assertThat(failure.reason()).isEqualTo(Reason.TOKEN_INVALID);
        assertThat(failure.getMessage()).contains("names its own key");
      }
      assertThat(f.idp.requests(Endpoint.ATTACKER_JWKS)).isZero();
    }

    @Test
    void theAttackersKeyUnderARealKidWithoutHeadersIsRefused() {
      assertThat(
              f.refuse("alice", f.idp.token().signedWith(f.idp.attackerKey()).kid("rsa-1").sign())
                  .getMessage())
          .contains("signature does not verify");
    }

    @Test
    void criticalExtensionsAreRefused() {
      assertThat(
              f.refuse("alice", f.idp.token().header("crit", List.of("exp")).sign()).getMessage())
          .contains("crit");
    }
  }

  @Nested
  class AU06BoundedInput {
    @Test
    void anOversizedTokenIsRefusedBeforeAnythingIsFetched() {
      AuthenticationFailure failure = f.refuse("alice", f.idp.token().oversized(17_000).sign());
      assertThat(failure.getMessage()).contains("longer than 16384");
      assertThat(f.idp.requests(Endpoint.JWKS)).isZero();
      assertThat(f.refuse("alice", "a".repeat(10_000_000)).reason())
          .isEqualTo(Reason.TOKEN_INVALID);
    }

    @Test
    void deeplyNestedClaimsAreRefused() {
      for (int depth : List.of(20, 3000)) {
        AuthenticationFailure failure = f.refuse("alice", f.idp.token().deeplyNested(depth).sign());
        assertThat(failure.getMessage()).contains("JSON limit");
      }
      assertThat(f.accept("alice", f.idp.token().deeplyNested(5).sign())).isNotNull();
    }

    @Test
    void duplicateClaimsAreRefusedWhicheverCopyWouldWin() {
      for (String claim : List.of("sub", "exp", "aud", "iss")) {
        AuthenticationFailure failure =
            f.refuse("alice", f.idp.token().duplicateClaim(claim, "\"mallory\"").sign());
        assertThat(failure.getMessage()).contains("duplicate");
      }
    }

    @Test
    void encryptedAndMalformedTokensAreRefused() {
      assertThat(f.refuse("alice", f.idp.token().encrypt()).getMessage()).contains("encrypted");
      for (String junk :
          List.of("", "abc", "a.b.c", "a.b", "....", "eyJ.eyJ.sig", "a b.c d.e f", "é.é.é")) {
        assertThat(f.refuse("alice", junk).reason()).isEqualTo(Reason.TOKEN_INVALID);
      }
      assertThat(f.refuse("alice", null).reason()).isEqualTo(Reason.TOKEN_INVALID);
      String notObject = f.idp.token().signRaw("[\"iss\"]");
      assertThat(f.refuse("alice", notObject).getMessage()).contains("not a JSON object");
    }
  }

  @Nested
  class AU07Replay {
    @Test
    void aTokenAcceptedOnceIsRefusedAfterItsExpiry() {
      String token = f.idp.token().expiresAt(now().plusSeconds(300)).sign();
      Identity identity = f.accept("alice", token);
      assertThat(identity.expiresAt()).contains(now().plusSeconds(300));

      f.clock.advance(Duration.ofSeconds(300 + 60));
      assertThat(f.refuse("alice", token).reason()).isEqualTo(Reason.EXPIRED);
    }

    @Test
    void aTokenForAnotherClientIsRefused() {
      // An ID token the provider issued to another application: its audience is that app.
      String token = f.idp.token().audience("payroll-app").authorizedParty("payroll-app").sign();
      assertThat(f.refuse("alice", token).reason()).isEqualTo(Reason.TOKEN_INVALID);
    }
  }

  @Nested
  class AU08NoSecretsInFailures {
    @Test
    void noFailureMessageQuotesTheTokenOrItsClaims() {
      String canary = "CANARY-7f3c9a1e5d";
      List<String> tokens = new ArrayList<>();
      tokens.add(f.idp.token().claim("c", canary).signAlgNone());
      tokens.add(f.idp.token().claim("c", canary).signHs256WithPublicKey(false));
      tokens.add(f.idp.token().claim("c", canary).issuer(canary).sign());
      tokens.add(f.idp.token().claim("c", canary).audience(canary).sign());
      tokens.add(f.idp.token().claim("c", canary).kid(canary).sign());
      tokens.add(f.idp.token().claim("c", canary).header("alg", canary).sign());
      tokens.add(f.idp.token().claim("c", canary).subject(canary).sign());
      tokens.add(f.idp.token().claim("c", canary).groups(canary + "\n").sign());
      tokens.add(
          f.idp.token().claim("c", canary).duplicateClaim("sub", "\"" + canary + "\"").sign());
      tokens.add(f.idp.token().claim("c", canary).signWithBrokenSignature());
      tokens.add(f.idp.token().claim("c", canary).expiresAt(now().minusSeconds(3600)).sign());
      for (String token : tokens) {
        String message = f.refuse("alice", token).getMessage();
        assertThat(message).doesNotContain(canary);
      }
    }
  }

  @Nested
  class Users {
    @Test
    void aTokenForSomeoneElseIsAUserMismatch() {
      AuthenticationFailure failure =
          f.refuse(
              "alice@corp.example",
              f.idp.token().subject("bob").email("bob@corp.example").emailVerified(true).sign());
      assertThat(failure.reason()).isEqualTo(Reason.USER_MISMATCH);
      assertThat(f.refuse("", f.idp.token().sign()).reason()).isEqualTo(Reason.USER_MISMATCH);
    }

    @Test
    void anUnverifiedEmailDoesNotMatchUnlessConfigured() {
      String unverified = f.idp.token().subject("u1").email("alice@corp.example").sign();
      AuthenticationFailure failure = f.refuse("alice@corp.example", unverified);
      assertThat(failure.reason()).isEqualTo(Reason.USER_MISMATCH);
      assertThat(failure.getMessage()).contains("not verified");
      assertThat(
              f.refuse(
                      "alice@corp.example",
                      f.idp.token().email("alice@corp.example").emailVerified(false).sign())
                  .reason())
          .isEqualTo(Reason.USER_MISMATCH);

      try (OidcFixture lax = new OidcFixture(b -> b.requireVerifiedEmail(false))) {
        String token = lax.idp.token().subject("u1").email("alice@corp.example").sign();
        assertThat(lax.accept("alice@corp.example", token)).isNotNull();
      } catch (Exception e) {
        throw new AssertionError(e);
      }
    }

    @Test
    void onlyTheConfiguredClaimsAreTried() throws Exception {
      try (OidcFixture byName = new OidcFixture(b -> b.userClaims(List.of("preferred_username")))) {
        String token = byName.idp.token().subject("alice").preferredUsername("al").sign();
        assertThat(byName.accept("al", token)).isNotNull();
        assertThat(byName.refuse("alice", token).reason()).isEqualTo(Reason.USER_MISMATCH);
      }
    }
  }

  @Nested
  class Groups {
    @Test
    void keycloakRealmRolesAreReadThroughADottedPath() throws Exception {
      try (OidcFixture kc = new OidcFixture(b -> b.groupsClaim("realm_access.roles"))) {
        String token =
            kc.idp
                .token()
                .claim("realm_access", Map.of("roles", List.of("admin", "dev")))
                .groups("ignored")
                .sign();
        assertThat(kc.accept("alice", token).groups()).containsExactlyInAnyOrder("admin", "dev");
        assertThat(kc.accept("alice", kc.idp.token().sign()).groups()).isEmpty();
      }
    }

    @Test
    void aTopLevelClaimWhoseNameHasDotsWins() throws Exception {
      try (OidcFixture ns = new OidcFixture(b -> b.groupsClaim("https://corp.example/groups"))) {
        String token =
            ns.idp.token().claim("https://corp.example/groups", List.of("finance")).sign();
        assertThat(ns.accept("alice", token).groups()).containsExactly("finance");
      }
    }

    @Test
    void groupsMustBeABoundedListOfNames() {
      assertThat(f.accept("alice", f.idp.token().claim("groups", "solo").sign()).groups())
          .containsExactly("solo");
      assertThat(f.refuse("alice", f.idp.token().claim("groups", List.of("a", 1)).sign()).reason())
          .isEqualTo(Reason.TOKEN_INVALID);
      assertThat(f.refuse("alice", f.idp.token().claim("groups", Map.of("a", "b")).sign()).reason())
          .isEqualTo(Reason.TOKEN_INVALID);
      String[] many = IntStream.range(0, 257).mapToObj(i -> "g" + i).toArray(String[]::new);
      assertThat(f.refuse("alice", f.idp.token().groups(many).sign()).getMessage())
          .contains("more than 256 groups");
      assertThat(f.refuse("alice", f.idp.token().groups("x".repeat(257)).sign()).reason())
          .isEqualTo(Reason.TOKEN_INVALID);
      assertThat(f.refuse("alice", f.idp.token().groups("ops\nadmin").sign()).reason())
          .isEqualTo(Reason.TOKEN_INVALID);
    }
  }

  @Nested
  class Configuration {
    @Test
    void requiredClaimsMustBePresentWithTheirValue() throws Exception {
      try (OidcFixture req = new OidcFixture(b -> b.requiredClaim("tenant", "corp"))) {
        assertThat(req.accept("alice", req.idp.token().claim("tenant", "corp").sign())).isNotNull();
        assertThat(
                req.accept("alice", req.idp.token().claim("tenant", List.of("x", "corp")).sign()))
            .isNotNull();
        assertThat(req.refuse("alice", req.idp.token().sign()).getMessage()).contains("tenant");
        assertThat(req.refuse("alice", req.idp.token().claim("tenant", "other").sign()).reason())
            .isEqualTo(Reason.TOKEN_INVALID);
      }
    }

    @Test
    void allowedAlgorithmsNarrowWhatKeysMayUse() throws Exception {
      try (OidcFixture es = new OidcFixture(b -> b.allowedAlgorithms(Set.of("ES256")))) {
        assertThat(es.accept("alice", es.idp.token().signedWith("ec-1").sign())).isNotNull();
        assertThat(es.refuse("alice", es.idp.token().signedWith("rsa-1").sign()).reason())
            .isEqualTo(Reason.TOKEN_INVALID);
      }
    }

    @Test
    void eachIssuerIsVerifiedOnlyWithItsOwnKeys() throws Exception {
      try (MockIdentityProvider other = MockIdentityProvider.start(f.clock);
          OidcVerifier both =
              new OidcVerifier(
                  List.of(
                      f.settings,
                      OidcProviderSettings.builder("other", other.issuer(), List.of("warden"))
                          .build()),
                  f.clock)) {
        assertThat(both.verify("alice", f.idp.token().sign()).get(30, TimeUnit.SECONDS))
            .isNotNull();
        assertThat(both.verify("alice", other.token().sign()).get(30, TimeUnit.SECONDS))
            .isNotNull();
        // Both providers call their first key rsa-1: a token claiming one issuer but signed by the
        // other's key must not verify.
        String crossed = f.idp.token().issuer(other.issuer().toString()).sign();
        assertThat(both.verify("alice", crossed))
            .failsWithin(Duration.ofSeconds(30))
            .withThrowableOfType(java.util.concurrent.ExecutionException.class)
            .havingCause()
            .isInstanceOf(AuthenticationFailure.class)
            .withMessageContaining("signature does not verify");
      }
    }

    @Test
    void twoProvidersWithOneIssuerAreRefused() {
      org.assertj.core.api.Assertions.assertThatThrownBy(
              () -> new OidcVerifier(List.of(f.settings, f.settings), f.clock))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("same issuer");
      assertThat(new OidcVerifier(List.of(), f.clock).enabled()).isFalse();
      assertThat(f.verifier.enabled()).isTrue();
      assertThat(Optional.of(f.settings.clockSkew())).contains(Duration.ofSeconds(60));
    }
  }
}
