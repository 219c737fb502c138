package dev.warden.core.masking;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * JSON Web Tokens in JWS compact serialisation (RFC 7515 section 7.1): three base64url parts
 * without padding, the header decoding to a JSON object with an {@code "alg"} member and the
 * payload decoding to bytes; the signature may be empty (alg "none") but must be base64url.
 */
final class JwtDetector implements ContentDetector {
  private static final int MAX_HEADER_CHARS = 4096;

  @Override
  public DataKind kind() {
    return DataKind.JWT;
  }

  @Override
  public boolean matches(String value) {
    String s = Text.candidate(value);
    if (s == null || s.length() < 16) {
      return false;
    }
    int first = s.indexOf('.');
    int second = first < 0 ? -1 : s.indexOf('.', first + 1);
    if (first <= 0 || second < 0 || s.indexOf('.', second + 1) >= 0 || second == first + 1) {
      return false;
    }
    if (first > MAX_HEADER_CHARS
        || !base64Url(s, 0, first)
        || !base64Url(s, first + 1, second)
        || !(second + 1 == s.length() || base64Url(s, second + 1, s.length()))) {
      return false;
    }
    byte[] header;
    try {
      header = Base64.getUrlDecoder().decode(s.substring(0, first));
    } catch (IllegalArgumentException e) {
      return false;
    }
    return JsonHeader.hasAlg(new String(header, StandardCharsets.UTF_8));
  }

  private static boolean base64Url(String s, int from, int to) {
    return to > from && (to - from) % 4 != 1 && Text.all(s, from, to, Text::isBase64Url);
  }
}
