package dev.warden.core.masking;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class UsSsnDetectorTest {
  private final ContentDetector detector = new UsSsnDetector();

  @ParameterizedTest
  @ValueSource(
      strings = {
        "123-45-6789",
        "001-01-0001",
        "665-99-9999",
        "667-12-3456",
        "899-12-3456",
        "536 90 4399",
        "078-05-1121",
        " 212-34-5678 "
      })
  void recognisesIssuableNumbers(String value) {
    assertThat(detector.matches(value)).isTrue();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "666-12-3456",
        "000-12-3456",
        "900-12-3456",
        "999-99-9999",
        "123-00-6789",
        "123-45-0000",
        "078-05-1120",
        "219-09-9999",
        "123456789",
        "123-45 6789",
        "12-345-6789",
        "123-45-678a"
      })
  void refusesNeverIssuedRangesAndOtherShapes(String value) {
    assertThat(detector.matches(value)).isFalse();
  }
}
