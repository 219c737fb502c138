package dev.warden.testkit.oidc;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jose.EncryptionMethod;
import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWEAlgorithm;
import com.nimbusds.jose.JWEHeader;
import com.nimbusds.jose.JWEObject;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.Payload;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.RSAEncrypter;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.util.Base64URL;
import java.nio.charset.StandardCharsets;
import java.security.interfaces.RSAPublicKey;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Mints tokens signed by a {@link MockIdentityProvider}'s keys: good ones with any claims, and the
 * malicious shapes of THREATS AU01–AU06 (unsigned, HMAC with the public key, attacker keys named by
 * {@code jku}/{@code x5u}/{@code jwk}/{@code x5c}, hostile {@code kid}s, oversized, deeply nested,
 * duplicate claims, a broken signature, an encrypted token).
 *
 * <p>The defaults are a valid token for {@code alice}: the provider's issuer, audience {@code
 * warden}, issued now by the provider's clock, valid for five minutes, signed with its first key.
 */
public final class TokenBuilder {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final MockIdentityProvider provider;
  private final Map<String, Object> claims = new LinkedHashMap<>();
  private final Map<String, Object> header = new LinkedHashMap<>();
  private final List<String> rawFragments = new ArrayList<>();
  private MockSigningKey key;
  private boolean kidOverridden;

  TokenBuilder(MockIdentityProvider provider, MockSigningKey key, Instant now) {
    this.provider = provider;
    this.key = key;
    claims.put("iss", provider.issuer().toString());
    claims.put("sub", "alice");
    claims.put("aud", "warden");
    claims.put("iat", now.getEpochSecond());
    claims.put("exp", now.plusSeconds(300).getEpochSecond());
    header.put("typ", "JWT");
  }

  public TokenBuilder issuer(String iss) {
    return claim("iss", iss);
  }

  public TokenBuilder subject(String sub) {
    return claim("sub", sub);
  }

  public TokenBuilder email(String email) {
    return claim("email", email);
  }

  public TokenBuilder emailVerified(boolean verified) {
    return claim("email_verified", verified);
  }

  public TokenBuilder preferredUsername(String name) {
    return claim("preferred_username", name);
  }

  public TokenBuilder groups(String... groups) {
    return claim("groups", List.of(groups));
  }

  /** One audience is written as a string, several as an array. */
  public TokenBuilder audience(String... audiences) {
    return claim("aud", audiences.length == 1 ? audiences[0] : List.of(audiences));
  }

  public TokenBuilder authorizedParty(String azp) {
    return claim("azp", azp);
  }

  public TokenBuilder expiresAt(Instant exp) {
    return claim("exp", exp.getEpochSecond());
  }

  public TokenBuilder notBefore(Instant nbf) {
    return claim("nbf", nbf.getEpochSecond());
  }

  public TokenBuilder issuedAt(Instant iat) {
    return claim("iat", iat.getEpochSecond());
  }

  /** Any claim; values are serialized by Jackson (maps, lists, strings, numbers, booleans). */
  public TokenBuilder claim(String name, Object value) {
    claims.put(name, value);
    return this;
  }

  /** Leaves a claim out, e.g. {@code without("exp")}. */
  public TokenBuilder without(String name) {
    claims.remove(name);
    return this;
  }

  /** Signs with the provider's key {@code kid} (its algorithm and kid header). */
  public TokenBuilder signedWith(String kid) {
    this.key = provider.key(kid);
    return this;
  }

  /** Signs with {@code key}, which need not be published (a wrong-key token). */
  public TokenBuilder signedWith(MockSigningKey key) {
    this.key = key;
    return this;
  }

  /** Puts {@code kid} in the header instead of the signing key's id (unknown or hostile kids). */
  public TokenBuilder kid(String kid) {
    header.put("kid", kid);
    kidOverridden = true;
    return this;
  }

  /** Sends no {@code kid} header at all. */
  public TokenBuilder noKid() {
    header.remove("kid");
    kidOverridden = true;
    return this;
  }

  /** Sets {@code typ}, or leaves it out when {@code typ} is null. */
  public TokenBuilder typ(String typ) {
    if (typ == null) {
      header.remove("typ");
    } else {
      header.put("typ", typ);
    }
    return this;
  }

  /** Any header parameter (e.g. {@code crit}, {@code cty}). */
  public TokenBuilder header(String name, Object value) {
    header.put(name, value);
    return this;
  }

  /**
   * Writes {@code "name": value} (raw JSON) at the start of the claims as well, so that a claim the
   * builder also sets appears twice, the builder's value last: a parser that keeps the last value
   * sees the builder's, one that keeps the first sees this one.
   */
  public TokenBuilder duplicateClaim(String name, String rawJsonValue) {
    rawFragments.add(JSON.valueToTree(name).toString() + ":" + rawJsonValue);
    return this;
  }

  /** Adds a claim {@code nest} holding arrays nested {@code depth} deep. */
  public TokenBuilder deeplyNested(int depth) {
    rawFragments.add("\"nest\":" + "[".repeat(depth) + "]".repeat(depth));
    return this;
  }

  /** Pads the claims with a {@code pad} claim so that the signed token is about {@code bytes}. */
  public TokenBuilder oversized(int bytes) {
    return claim("pad", "x".repeat(bytes * 3 / 4));
  }

  /** The claims as the token will carry them, raw fragments included. */
  public String claimsJson() {
    String body = write(claims);
    if (rawFragments.isEmpty()) {
      return body;
    }
    String rest = body.substring(1);
    return "{" + String.join(",", rawFragments) + (rest.equals("}") ? "}" : "," + rest);
  }

  /** The token, signed by the chosen key. */
  public String sign() {
    return signRaw(claimsJson());
  }

  /** Signs an arbitrary payload (any bytes the test wants) with the chosen key and header. */
  public String signRaw(String payloadJson) {
    Map<String, Object> h = new LinkedHashMap<>();
    h.put("alg", key.alg());
    if (!kidOverridden) {
      h.put("kid", key.kid());
    }
    h.putAll(header);
    return compact(h, payloadJson, key);
  }

  /** A valid token whose signature has one bit flipped. */
  public String signWithBrokenSignature() {
    String token = sign();
    int dot = token.lastIndexOf('.');
    byte[] signature = Base64.getUrlDecoder().decode(token.substring(dot + 1));
    signature[signature.length / 2] ^= 0x01;
    return token.substring(0, dot + 1) + b64(signature);
  }

  /** AU01: {@code alg: none}, an empty signature. */
  public String signAlgNone() {
    Map<String, Object> h = headerWith("none");
    return b64(write(h).getBytes(StandardCharsets.UTF_8))
        + "."
        + b64(claimsJson().getBytes(StandardCharsets.UTF_8))
        + ".";
  }

  /**
   * AU02: HS256 with the chosen RSA key's public key as the HMAC secret (its X.509 DER encoding
   * when {@code pem} is false, the PEM text otherwise), under the RSA key's kid.
   */
  public String signHs256WithPublicKey(boolean pem) {
    byte[] der = key.publicKey().getEncoded();
    byte[] secret =
        pem
            ? ("-----BEGIN PUBLIC KEY-----\n"
                    + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                        .encodeToString(der)
                    + "\n-----END PUBLIC KEY-----\n")
                .getBytes(StandardCharsets.US_ASCII)
            : der;
    Map<String, Object> h = headerWith("HS256");
    String input =
        b64(write(h).getBytes(StandardCharsets.UTF_8))
            + "."
            + b64(claimsJson().getBytes(StandardCharsets.UTF_8));
    try {
      Base64URL mac =
          new MACSigner(secret)
              .sign(new JWSHeader(JWSAlgorithm.HS256), input.getBytes(StandardCharsets.US_ASCII));
      return input + "." + mac;
    } catch (JOSEException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * AU04: signed by the provider's attacker key (never published in the JWKS) under the chosen
   * key's kid, with the attacker's public key embedded as a {@code jwk} header.
   */
  public String signWithEmbeddedJwk() {
    MockSigningKey attacker = provider.attackerKey();
    Map<String, Object> h = attackerHeader(attacker);
    h.put("jwk", attacker.publicJwk().toJSONObject());
    return compact(h, claimsJson(), attacker);
  }

  /** AU04: signed by the attacker key, whose JWKS the provider serves at {@code jku}. */
  public String signWithJku() {
    MockSigningKey attacker = provider.attackerKey();
    Map<String, Object> h = attackerHeader(attacker);
    h.put("jku", provider.attackerJwksUri().toString());
    return compact(h, claimsJson(), attacker);
  }

  /** AU04: signed by the attacker key, with an {@code x5u} pointing at the attacker's JWKS. */
  public String signWithX5u() {
    MockSigningKey attacker = provider.attackerKey();
    Map<String, Object> h = attackerHeader(attacker);
    h.put("x5u", provider.attackerJwksUri().toString());
    return compact(h, claimsJson(), attacker);
  }

  /** AU04: signed by the attacker key with an {@code x5c} chain holding its self-signed cert. */
  public String signWithX5c() {
    MockSigningKey attacker = provider.attackerKey();
    Map<String, Object> h = attackerHeader(attacker);
    h.put("x5c", List.of(provider.attackerCertificateBase64()));
    return compact(h, claimsJson(), attacker);
  }

  /** A JWE (RSA-OAEP-256, A256GCM) holding the claims, encrypted to the chosen RSA key. */
  public String encrypt() {
    try {
      JWEObject jwe =
          new JWEObject(
              new JWEHeader.Builder(JWEAlgorithm.RSA_OAEP_256, EncryptionMethod.A256GCM)
                  .keyID(key.kid())
                  .build(),
              new Payload(claimsJson()));
      RSAKey rsa = (RSAKey) key.publicJwk();
      jwe.encrypt(new RSAEncrypter((RSAPublicKey) rsa.toPublicKey()));
      return jwe.serialize();
    } catch (JOSEException | ClassCastException e) {
      throw new IllegalStateException("encrypt needs an RSA key", e);
    }
  }

  private Map<String, Object> attackerHeader(MockSigningKey attacker) {
    Map<String, Object> h = new LinkedHashMap<>();
    h.put("alg", attacker.alg());
    h.put("kid", key.kid());
    h.putAll(header);
    return h;
  }

  private Map<String, Object> headerWith(String alg) {
    Map<String, Object> h = new LinkedHashMap<>();
    h.put("alg", alg);
    if (!kidOverridden) {
      h.put("kid", key.kid());
    }
    h.putAll(header);
    return h;
  }

  private static String compact(Map<String, Object> header, String payload, MockSigningKey key) {
    String input =
        b64(write(header).getBytes(StandardCharsets.UTF_8))
            + "."
            + b64(payload.getBytes(StandardCharsets.UTF_8));
    return input + "." + b64(key.sign(input.getBytes(StandardCharsets.US_ASCII)));
  }

  static String b64(byte[] bytes) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }

  static String write(Object value) {
    try {
      return JSON.writeValueAsString(value);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("cannot write JSON", e);
    }
  }
}
