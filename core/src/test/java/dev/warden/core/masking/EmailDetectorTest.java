package dev.warden.core.masking;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class EmailDetectorTest {
  private final ContentDetector detector = new EmailDetector();

  @ParameterizedTest
  @ValueSource(
      strings = {
        "alice@example.com",
        "bob.smith@mail.example.co.uk",
        "first.last+tag@sub.domain.org",
        "x@ab.io",
        "o'reilly@example.ie",
        "user_name-1@my-company.de",
        "  padded@example.com  ",
        "info@xn--bcher-kva.xn--p1ai",
        "UPPER@EXAMPLE.COM"
      })
  void recognisesAddresses(String value) {
    assertThat(detector.matches(value)).isTrue();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "alice@localhost",
        "alice@example",
        "@example.com",
        "alice@",
        "alice@@example.com",
        "a@b@example.com",
        ".alice@example.com",
        "alice.@example.com",
        "al..ice@example.com",
        "alice@-example.com",
        "alice@example.c",
        "alice@example.123",
        "alice smith@example.com",
        "alice@exa mple.com",
        "\"quoted\"@example.com",
        "not an email",
        ""
      })
  void refusesNearMisses(String value) {
    assertThat(detector.matches(value)).isFalse();
  }

  @org.junit.jupiter.api.Test
  void refusesOverlongLocalPartAndAddress() {
    assertThat(detector.matches("a".repeat(65) + "@example.com")).isFalse();
    assertThat(detector.matches("a".repeat(64) + "@example.com")).isTrue();
    assertThat(detector.matches("a@" + "b".repeat(250) + ".com")).isFalse();
    assertThat(detector.matches(null)).isFalse();
  }
}
