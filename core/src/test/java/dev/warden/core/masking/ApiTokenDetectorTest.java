package dev.warden.core.masking;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ApiTokenDetectorTest {
  private final ContentDetector detector = new ApiTokenDetector();

  // Shaped like real credentials but made up; none of them was ever issued.
  @ParameterizedTest
  @ValueSource(
      strings = {
        "AKIAIOSFODNN7EXAMPLE",
        "ASIAY34FZKBOKMUTVV7A",
        "ghp_1234567890abcdefghijABCDEFGHIJ123456",
        "ghs_abcdefghijklmnopqrstuvwxyz0123456789",
        "github_pat_11ABCDEFG0123456789abc_abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVW",
        "xoxb-1234567890-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
        "xoxp-1234567890-1234567890-1234567890123-0123456789abcdef0123456789abcdef",
        "sk_live_4eC39HqLyjWDarjtT1zdp7dc",
        "pk_live_TYooMQauvdEDq54NiTphI7jx",
        "AIzaSyA-1234567890abcdefghijklmnopqrstu",
        "sk-abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUV",
        "sk-proj-abcdefghijklmnopqrstuvwxyz_ABCDEFGHIJKLMNOPQRSTUVWXYZ-0123456789",
        "SK0123456789abcdef0123456789abcdef",
        "SG.abcdefghijklmnopqrstuv.abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ"
      })
  void recognisesProviderTokens(String value) {
    assertThat(detector.matches(value)).isTrue();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "AKIAIOSFODNN7EXAMPL",
        "AKIAiosfodnn7example",
        "AKIBIOSFODNN7EXAMPLE",
        "ghp_1234567890abcdefghijABCDEFGHIJ12345",
        "ghx_1234567890abcdefghijABCDEFGHIJ123456",
        "xoxb-abc-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
        "xoxz-1234567890-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
        "sk_test_4eC39HqLyjWDarjtT1zdp7dc",
        "sk_live_4eC39HqL",
        "AIzaSyA-1234567890abcdefghijklmnopqrs",
        "sk-abcdefghijklmnopqrstuvwxyz",
        "SK0123456789ABCDEF0123456789ABCDEF",
        "SG.abcdefghijklmnopqrstuv.abcdefghij",
        "the quick brown fox jumps over"
      })
  void refusesWrongLengthsPrefixesAndAlphabets(String value) {
    assertThat(detector.matches(value)).isFalse();
  }
}
