package dev.warden.core.masking;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class JwtDetectorTest {
  private final ContentDetector detector = new JwtDetector();

  static String b64(String json) {
    return Base64.getUrlEncoder()
        .withoutPadding()
        .encodeToString(json.getBytes(StandardCharsets.UTF_8));
  }

  static String token(String header, String payload, String signature) {
    return b64(header) + "." + b64(payload) + "." + signature;
  }

  static Stream<String> tokens() {
    String sig = "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";
    return Stream.of(
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ."
            + sig,
        token("{\"alg\":\"RS256\",\"kid\":\"k1\"}", "{\"sub\":\"a\"}", sig),
        token("{\"alg\":\"none\"}", "{\"sub\":\"a\"}", ""),
        token(" { \"typ\" : \"JWT\" , \"alg\" : \"ES256\" } ", "{}", sig),
        token("{\"alg\":\"EdDSA\",\"crit\":[\"b64\"],\"b64\":false}", "payload", sig),
        token("{\"alg\":\"HS512\",\"x\":{\"nested\":[1,2.5e3,true,null]}}", "{\"n\":1}", sig),
        token("{\"kid\":\"\\u00e9t\\u00e9\",\"alg\":\"PS256\"}", "{\"iat\":1}", sig),
        token("{\"alg\":\"HS256\"}", "{\"sub\":\"b\"}", "abc"));
  }

  static Stream<String> nearMisses() {
    String sig = "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";
    return Stream.of(
        token("not json at all", "{\"sub\":\"a\"}", sig),
        token("{\"typ\":\"JWT\"}", "{\"sub\":\"a\"}", sig),
        token("{\"alg\":256}", "{\"sub\":\"a\"}", sig),
        token("{\"x\":{\"alg\":\"HS256\"}}", "{\"sub\":\"a\"}", sig),
        token("{\"alg\":\"HS256\"", "{\"sub\":\"a\"}", sig),
        token("[\"alg\",\"HS256\"]", "{\"sub\":\"a\"}", sig),
        token("{\"alg\":\"HS256\"} trailing", "{\"sub\":\"a\"}", sig),
        b64("{\"alg\":\"HS256\"}") + "." + b64("{}"),
        b64("{\"alg\":\"HS256\"}") + "." + b64("{}") + "." + sig + "." + sig,
        b64("{\"alg\":\"HS256\"}") + ".." + sig,
        b64("{\"alg\":\"HS256\"}") + "=." + b64("{}") + "." + sig,
        "www.example.com",
        "version.1.2");
  }

  @ParameterizedTest
  @MethodSource("tokens")
  void recognisesSignedTokens(String value) {
    assertThat(detector.matches(value)).isTrue();
  }

  @ParameterizedTest
  @MethodSource("nearMisses")
  void refusesHeadersThatAreNotJsonWithAlg(String value) {
    assertThat(detector.matches(value)).isFalse();
  }
}
