package dev.warden.testkit.oidc;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.OctetKeyPair;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.jwk.gen.JWKGenerator;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jose.util.Base64URL;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PublicKey;
import java.security.Signature;
import java.util.Arrays;
import java.util.Objects;

/**
 * One signing key of the {@link MockIdentityProvider}: an RSA, EC P-256 or Ed25519 key pair with
 * the key id and algorithm it is published under in the JWKS.
 *
 * <p>RSA and EC signatures are made by nimbus-jose-jwt; Ed25519 by the JDK, since nimbus needs Tink
 * for it. The signing input is taken as bytes, so tests can sign headers nimbus would refuse to
 * build.
 */
public final class MockSigningKey {
  private final String kid;
  private final String alg;
  private final boolean publishAlg;
  private final JWK publicJwk;
  private final JWK privateJwk;
  private final KeyPair edKeyPair;

  private MockSigningKey(
      String kid, String alg, boolean publishAlg, JWK privateJwk, KeyPair edKeyPair, JWK pub) {
    this.kid = Objects.requireNonNull(kid, "kid");
    this.alg = alg;
    this.publishAlg = publishAlg;
    this.privateJwk = privateJwk;
    this.edKeyPair = edKeyPair;
    this.publicJwk = pub;
  }

  /** A new 2048-bit RSA key signing with {@code alg} (RS256, RS384, RS512, PS256...). */
  public static MockSigningKey rsa(String kid, String alg, boolean publishAlg) {
    try {
      JWKGenerator<RSAKey> generator =
          new RSAKeyGenerator(2048).keyID(kid).keyUse(KeyUse.SIGNATURE);
      if (publishAlg) {
        generator.algorithm(JWSAlgorithm.parse(alg));
      }
      RSAKey key = generator.generate();
      return new MockSigningKey(kid, alg, publishAlg, key, null, key.toPublicJWK());
    } catch (JOSEException e) {
      throw new IllegalStateException("cannot generate an RSA key", e);
    }
  }

  /** A new EC P-256 key signing with ES256. */
  public static MockSigningKey ec(String kid, boolean publishAlg) {
    try {
      JWKGenerator<ECKey> generator =
          new ECKeyGenerator(Curve.P_256).keyID(kid).keyUse(KeyUse.SIGNATURE);
      if (publishAlg) {
        generator.algorithm(JWSAlgorithm.ES256);
      }
      ECKey key = generator.generate();
      return new MockSigningKey(kid, "ES256", publishAlg, key, null, key.toPublicJWK());
    } catch (JOSEException e) {
      throw new IllegalStateException("cannot generate an EC key", e);
    }
  }

  /** A new Ed25519 key signing with EdDSA (RFC 8037). */
  public static MockSigningKey ed25519(String kid, boolean publishAlg) {
    try {
      KeyPair pair = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
      byte[] encoded = pair.getPublic().getEncoded();
      // The X.509 SubjectPublicKeyInfo of an Ed25519 key ends with the 32 raw key bytes.
      byte[] raw = Arrays.copyOfRange(encoded, encoded.length - 32, encoded.length);
      OctetKeyPair.Builder builder =
          new OctetKeyPair.Builder(Curve.Ed25519, Base64URL.encode(raw))
              .keyID(kid)
              .keyUse(KeyUse.SIGNATURE);
      if (publishAlg) {
        builder.algorithm(JWSAlgorithm.EdDSA);
      }
      OctetKeyPair pub = builder.build();
      return new MockSigningKey(kid, "EdDSA", publishAlg, null, pair, pub);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot generate an Ed25519 key", e);
    }
  }

  public String kid() {
    return kid;
  }

  /** The JWS algorithm this key signs with. */
  public String alg() {
    return alg;
  }

  /** True when the JWKS entry carries {@code alg}; otherwise verifiers infer it from the type. */
  public boolean publishesAlg() {
    return publishAlg;
  }

  /** The key as the JWKS publishes it (public parts only). */
  public JWK publicJwk() {
    return publicJwk;
  }

  /** The public key, e.g. for the HS256 key-confusion attack. */
  public PublicKey publicKey() {
    try {
      if (edKeyPair != null) {
        return edKeyPair.getPublic();
      }
      return privateJwk instanceof RSAKey r ? r.toPublicKey() : ((ECKey) privateJwk).toPublicKey();
    } catch (JOSEException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The key pair, for certificates made around this key. */
  KeyPair keyPair() {
    try {
      if (edKeyPair != null) {
        return edKeyPair;
      }
      return privateJwk instanceof RSAKey r ? r.toKeyPair() : ((ECKey) privateJwk).toKeyPair();
    } catch (JOSEException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Signs {@code signingInput} (ASCII {@code header.payload}) with this key's algorithm. */
  public byte[] sign(byte[] signingInput) {
    try {
      if (edKeyPair != null) {
        Signature signature = Signature.getInstance("Ed25519");
        signature.initSign(edKeyPair.getPrivate());
        signature.update(signingInput);
        return signature.sign();
      }
      JWSHeader header = new JWSHeader(JWSAlgorithm.parse(alg));
      Base64URL signature =
          privateJwk instanceof RSAKey r
              ? new RSASSASigner(r).sign(header, signingInput)
              : new ECDSASigner((ECKey) privateJwk).sign(header, signingInput);
      return signature.decode();
    } catch (GeneralSecurityException | JOSEException e) {
      throw new IllegalStateException("cannot sign with key " + kid, e);
    }
  }

  @Override
  public String toString() {
    return "MockSigningKey[" + kid + ", " + alg + "]";
  }
}
