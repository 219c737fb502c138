package dev.warden.core.masking;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.regex.PatternSyntaxException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PatternDetectorTest {
  private final PatternDetector employee =
      PatternDetector.compile("employee-id", DataKind.NATIONAL_ID, "EMP-\\d{6}");

  @ParameterizedTest
  @CsvSource({
    "EMP-123456, true",
    "  EMP-123456 , true",
    "EMP-12345, false",
    "xEMP-123456, false",
    "EMP-1234567, false",
    "'', false"
  })
  void theWholeValueMustMatch(String value, boolean matches) {
    assertThat(employee.matches(value)).isEqualTo(matches);
  }

  @Test
  void nullAndOverlongValuesAreNotExamined() {
    PatternDetector any = PatternDetector.compile("any", DataKind.API_TOKEN, "a+");
    assertThat(any.matches(null)).isFalse();
    assertThat(any.matches("a".repeat(PatternDetector.MAX_VALUE_LENGTH))).isTrue();
    assertThat(any.matches("a".repeat(PatternDetector.MAX_VALUE_LENGTH + 1))).isFalse();
  }

  @Test
  void catastrophicBacktrackingIsCutShortAndFailsClosed() {
    PatternDetector evil = PatternDetector.compile("evil", DataKind.API_TOKEN, "(a+)+b");
    long start = System.nanoTime();
    assertThat(evil.matches("a".repeat(4000) + "c")).isTrue();
    assertThat(System.nanoTime() - start).isLessThan(2_000_000_000L);
    assertThat(evil.matches("aab")).isTrue();
    assertThat(evil.matches("aac")).isFalse();
  }

  @Test
  void patternsThatDoNotCompileOrAreTooLongAreRefused() {
    assertThatThrownBy(() -> PatternDetector.compile("bad", DataKind.EMAIL, "[a-"))
        .isInstanceOf(PatternSyntaxException.class);
    assertThatThrownBy(
            () ->
                PatternDetector.compile(
                    "long", DataKind.EMAIL, "a".repeat(PatternDetector.MAX_PATTERN_LENGTH + 1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("longer than 1000");
  }

  @Test
  void equalityIsByNameKindAndPattern() {
    assertThat(PatternDetector.compile("employee-id", DataKind.NATIONAL_ID, "EMP-\\d{6}"))
        .isEqualTo(employee)
        .hasSameHashCodeAs(employee);
    assertThat(PatternDetector.compile("employee-id", DataKind.API_TOKEN, "EMP-\\d{6}"))
        .isNotEqualTo(employee);
    assertThat(employee.name()).isEqualTo("employee-id");
    assertThat(employee.pattern()).isEqualTo("EMP-\\d{6}");
    assertThat(employee.kind()).isEqualTo(DataKind.NATIONAL_ID);
  }
}
