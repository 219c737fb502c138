package dev.warden.server.identity.oidc;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.KeyOperation;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.OctetKeyPair;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.util.Base64URL;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.X509EncodedKeySpec;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.Optional;
import java.util.Set;

/**
 * One public key from a provider's JWKS and the algorithms it may verify. The algorithm is pinned
 * per key (THREATS AU02): the JWKS entry's {@code alg} if it has one, else those its type and curve
 * support, narrowed by the provider's allowed algorithms; never HMAC, so a public key can never be
 * used as a shared secret.
 */
final class VerificationKey {
  private static final Set<String> RSA_ALGORITHMS =
      Set.of("RS256", "RS384", "RS512", "PS256", "PS384", "PS512");
  private static final int MIN_RSA_BITS = 2048;
  // The X.509 SubjectPublicKeyInfo prefix of an Ed25519 key (RFC 8410), before its 32 raw bytes.
  private static final byte[] ED25519_PREFIX = HexFormat.of().parseHex("302a300506032b6570032100");

  private final Optional<String> kid;
  private final Set<String> algorithms;
  private final JWSVerifier verifier;
  private final PublicKey ed25519;

  private VerificationKey(
      Optional<String> kid, Set<String> algorithms, JWSVerifier verifier, PublicKey ed25519) {
    this.kid = kid;
    this.algorithms = Set.copyOf(algorithms);
    this.verifier = verifier;
    this.ed25519 = ed25519;
  }

  /**
   * The key {@code jwk} as a verification key, or empty when it cannot sign tokens for Warden: a
   * symmetric or private key, an encryption key, a weak RSA key, an unsupported type or curve, or
   * an {@code alg} Warden does not accept or {@code allowed} excludes.
   */
  static Optional<VerificationKey> of(JWK jwk, Set<String> allowed) {
    if (jwk.isPrivate()) {
      return Optional.empty(); // A JWKS publishing private keys is broken; trust none of it.
    }
    if (jwk.getKeyUse() != null && !KeyUse.SIGNATURE.equals(jwk.getKeyUse())) {
      return Optional.empty();
    }
    if (jwk.getKeyOperations() != null && !jwk.getKeyOperations().contains(KeyOperation.VERIFY)) {
      return Optional.empty();
    }
    Set<String> algorithms = new HashSet<>();
    JWSVerifier verifier = null;
    PublicKey ed = null;
    try {
      switch (jwk) {
        case RSAKey rsa -> {
          if (rsa.size() < MIN_RSA_BITS) {
            return Optional.empty();
          }
          algorithms.addAll(RSA_ALGORITHMS);
          verifier = new RSASSAVerifier(rsa);
        }
        case ECKey ec -> {
          Curve curve = ec.getCurve();
          if (Curve.P_256.equals(curve)) {
            algorithms.add("ES256");
          } else if (Curve.P_384.equals(curve)) {
            algorithms.add("ES384");
          } else if (Curve.P_521.equals(curve)) {
            algorithms.add("ES512");
          } else {
            return Optional.empty();
          }
          verifier = new ECDSAVerifier(ec);
        }
        case OctetKeyPair okp -> {
          if (!Curve.Ed25519.equals(okp.getCurve())) {
            return Optional.empty();
          }
          algorithms.add("EdDSA");
          algorithms.add("Ed25519");
          ed = ed25519(okp.getX().decode());
        }
        default -> {
          return Optional.empty(); // "oct" keys: HMAC secrets have no place in a JWKS.
        }
      }
    } catch (JOSEException | GeneralSecurityException e) {
      return Optional.empty();
    }
    if (jwk.getAlgorithm() != null) {
      algorithms.retainAll(Set.of(jwk.getAlgorithm().getName()));
    }
    if (!allowed.isEmpty()) {
      algorithms.retainAll(allowed);
    }
    if (algorithms.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(
        new VerificationKey(Optional.ofNullable(jwk.getKeyID()), algorithms, verifier, ed));
  }

  Optional<String> kid() {
    return kid;
  }

  boolean accepts(String alg) {
    return algorithms.contains(alg);
  }

  /** True when {@code signature} over {@code input} verifies with this key and {@code alg}. */
  boolean verify(String alg, byte[] input, byte[] signature) {
    if (!accepts(alg)) {
      return false;
    }
    try {
      if (ed25519 != null) {
        Signature s = Signature.getInstance("Ed25519");
        s.initVerify(ed25519);
        s.update(input);
        return s.verify(signature);
      }
      return verifier.verify(
          new JWSHeader(JWSAlgorithm.parse(alg)), input, Base64URL.encode(signature));
    } catch (JOSEException | GeneralSecurityException e) {
      return false;
    }
  }

  private static PublicKey ed25519(byte[] raw) throws GeneralSecurityException {
    if (raw.length != 32) {
      throw new GeneralSecurityException("an Ed25519 key has 32 bytes");
    }
    byte[] spki = new byte[ED25519_PREFIX.length + raw.length];
    System.arraycopy(ED25519_PREFIX, 0, spki, 0, ED25519_PREFIX.length);
    System.arraycopy(raw, 0, spki, ED25519_PREFIX.length, raw.length);
    return KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(spki));
  }
}
