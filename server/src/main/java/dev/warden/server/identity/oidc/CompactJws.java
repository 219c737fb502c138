package dev.warden.server.identity.oidc;

import com.fasterxml.jackson.databind.JsonNode;
import dev.warden.core.identity.AuthenticationFailure;
import dev.warden.core.identity.AuthenticationFailure.Reason;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * A token split and decoded as a compact JWS (RFC 7515 §7.1), before its signature is checked.
 * Everything is bounded and strict: the token's length is capped before anything is decoded, only
 * three base64url parts are accepted (a JWE has five), both JSON parts go through {@link
 * BoundedJson}, and a header that names its own key ({@code jku}, {@code x5u}, {@code jwk}, {@code
 * x5c}) or critical extensions is refused outright (THREATS AU04): keys come only from the
 * configured issuer's JWKS.
 *
 * @param alg the header's {@code alg}, one of {@link OidcProviderSettings#SUPPORTED_ALGORITHMS}
 * @param kid the header's {@code kid}, if any (untrusted; used only to look up a JWKS key)
 * @param claims the payload
 * @param signingInput the ASCII {@code header.payload} the signature covers
 * @param signature the decoded signature
 */
record CompactJws(
    String alg, Optional<String> kid, JsonNode claims, byte[] signingInput, byte[] signature) {

  /** THREATS AU06: no IdP issues tokens near this; anything longer is refused unread. */
  static final int MAX_TOKEN_LENGTH = 16 * 1024;

  private static final int MAX_KID_LENGTH = 256;
  private static final List<String> KEY_BEARING_HEADERS = List.of("jku", "x5u", "jwk", "x5c");

  static CompactJws parse(String token) throws AuthenticationFailure {
    if (token == null || token.isEmpty()) {
      throw invalid("the token is empty");
    }
    if (token.length() > MAX_TOKEN_LENGTH) {
      throw invalid("the token is longer than " + MAX_TOKEN_LENGTH + " characters");
    }
    int dots = 0;
    for (int i = 0; i < token.length(); i++) {
      char c = token.charAt(i);
      if (c == '.') {
        dots++;
      } else if (!isBase64Url(c)) {
        throw invalid("the token is not a compact JWS (it holds characters outside base64url)");
      }
    }
    if (dots == 4) {
      throw invalid("encrypted tokens (JWE) are not accepted; send a signed token");
    }
    if (dots != 2) {
      throw invalid("the token is not a compact JWS (three dot-separated parts)");
    }
    int first = token.indexOf('.');
    int second = token.indexOf('.', first + 1);
    if (first == 0 || second == first + 1 || second == token.length() - 1) {
      throw invalid("the token has an empty part (an unsigned token is never accepted)");
    }
    JsonNode header = json(token.substring(0, first), "the token's header");
    String alg = algorithm(header);
    Optional<String> kid = Optional.empty();
    for (var names = header.fieldNames(); names.hasNext(); ) {
      String name = names.next();
      if (KEY_BEARING_HEADERS.contains(name)) {
        throw invalid(
            "the token's header names its own key ("
                + name
                + "); only the configured provider's keys are used");
      }
      if (name.equals("crit")) {
        throw invalid("the token's header has critical extensions (crit), which are not supported");
      }
    }
    JsonNode kidNode = header.get("kid");
    if (kidNode != null) {
      if (!kidNode.isTextual() || kidNode.textValue().length() > MAX_KID_LENGTH) {
        throw invalid(
            "the token's kid is not a string of at most " + MAX_KID_LENGTH + " characters");
      }
      kid = Optional.of(kidNode.textValue());
    }
    JsonNode typ = header.get("typ");
    if (typ != null) {
      String t = typ.isTextual() ? typ.textValue().toLowerCase(Locale.ROOT) : "";
      if (!List.of("jwt", "at+jwt", "application/jwt", "application/at+jwt").contains(t)) {
        throw invalid("the token's typ is neither JWT nor at+jwt");
      }
    }
    JsonNode claims = json(token.substring(first + 1, second), "the token's claims");
    byte[] signature = decode(token.substring(second + 1), "signature");
    return new CompactJws(
        alg,
        kid,
        claims,
        token.substring(0, second).getBytes(StandardCharsets.US_ASCII),
        signature);
  }

  private static String algorithm(JsonNode header) throws AuthenticationFailure {
    JsonNode node = header.get("alg");
    if (node == null || !node.isTextual()) {
      throw invalid("the token's header has no alg");
    }
    String alg = node.textValue();
    if (alg.equalsIgnoreCase("none")) {
      throw invalid("unsigned tokens (alg none) are never accepted");
    }
    if (alg.toUpperCase(Locale.ROOT).startsWith("HS")) {
      throw invalid("shared-secret (HMAC) tokens are never accepted");
    }
    if (!OidcProviderSettings.SUPPORTED_ALGORITHMS.contains(alg)) {
      throw invalid("the token's algorithm is not one Warden accepts");
    }
    return alg;
  }

  private static JsonNode json(String part, String what) throws AuthenticationFailure {
    try {
      return BoundedJson.readObject(decode(part, what), what);
    } catch (BoundedJson.InvalidJson e) {
      throw invalid(e.getMessage());
    }
  }

  private static byte[] decode(String part, String what) throws AuthenticationFailure {
    byte[] bytes;
    try {
      bytes = Base64.getUrlDecoder().decode(part);
    } catch (IllegalArgumentException e) {
      throw invalid(what + " is not valid base64url");
    }
    // One token, one spelling: unused trailing bits must be zero (RFC 4648 §3.5), so a token
    // cannot be altered and still verify.
    if (!Base64.getUrlEncoder().withoutPadding().encodeToString(bytes).equals(part)) {
      throw invalid(what + " is not canonical base64url");
    }
    return bytes;
  }

  private static boolean isBase64Url(char c) {
    return (c >= 'A' && c <= 'Z')
        || (c >= 'a' && c <= 'z')
        || (c >= '0' && c <= '9')
        || c == '-'
        || c == '_';
  }

  static AuthenticationFailure invalid(String detail) {
    return new AuthenticationFailure(Reason.TOKEN_INVALID, detail);
  }
}
