package dev.warden.core.masking;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class PaymentCardDetectorTest {
  private final ContentDetector detector = new PaymentCardDetector();

  @ParameterizedTest
  @ValueSource(
      strings = {
        "4111111111111111",
        "4012888888881881",
        "5555555555554444",
        "2223003122003222",
        "378282246310005",
        "6011111111111117",
        "3530111333300000",
        "30569309025904",
        "6200000000000005",
        "4111 1111 1111 1111",
        "3782-822463-10005",
        "4222222222222"
      })
  void recognisesValidCards(String value) {
    assertThat(detector.matches(value)).isTrue();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "4111111111111112",
        "5555555555554440",
        "1234567812345670",
        "0000000000000000",
        "9999999999999995",
        "378282246310005 1",
        "41111111111111",
        "4111-1111 1111-1111",
        "4111  1111 1111 1111",
        "4111111111111111-",
        "37828224631000",
        "5555555555554444000",
        "card 4111111111111111",
        "41111111111111110000"
      })
  void refusesLuhnFailuresAndUnknownRanges(String value) {
    assertThat(detector.matches(value)).isFalse();
  }

  @org.junit.jupiter.api.Test
  void luhnAloneIsNotEnoughWithoutAScheme() {
    // 1234 5678 9012 3452 passes Luhn but no scheme issues numbers starting with 1.
    assertThat(PaymentCardDetector.luhn("1234567890123452")).isTrue();
    assertThat(detector.matches("1234567890123452")).isFalse();
  }
}
