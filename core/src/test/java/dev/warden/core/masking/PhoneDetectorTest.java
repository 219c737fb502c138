package dev.warden.core.masking;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class PhoneDetectorTest {
  private final ContentDetector detector = new PhoneDetector();

  @ParameterizedTest
  @ValueSource(
      strings = {
        "+14155552671",
        "+44 20 7946 0958",
        "+49 (30) 1234567",
        "+1 (415) 555-2671",
        "(415) 555-2671",
        "415-555-2671",
        "415.555.2671",
        "1 415 555 2671",
        "020 7946 0958",
        "06 12 34 56 78",
        "0049 30 1234567",
        "+33-1-23-45-67-89"
      })
  void recognisesNumbers(String value) {
    assertThat(detector.matches(value)).isTrue();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "14155552671",
        "1700000000",
        "20240115103000",
        "2024-01-15",
        "15.01.2024",
        "01.02.2024 1200",
        "2024-01-15 1030",
        "12/31/2024",
        "ORD-2024-000123",
        "192.168.100.200",
        "115-555-2671",
        "415-155-2671",
        "415-555-267",
        "+123",
        "+0 123 456 789",
        "1.2.3",
        "12:30:45",
        "(415 555-2671",
        "415--555-2671",
        "0000 123 456"
      })
  void refusesTimestampsCountersAndNearMisses(String value) {
    assertThat(detector.matches(value)).isFalse();
  }
}
