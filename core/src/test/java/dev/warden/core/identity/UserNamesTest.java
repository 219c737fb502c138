package dev.warden.core.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class UserNamesTest {
  @ParameterizedTest
  @ValueSource(
      strings = {
        "a",
        "alice",
        "alice@corp.example",
        "svc_reporting-01",
        "first.last+tag@example.org",
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789@"
      })
  void acceptsLettersDigitsAndTheFiveSymbols(String name) {
    assertThat(UserNames.isValid(name)).isTrue();
    assertThat(UserNames.requireValid(name, "user name")).isEqualTo(name);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "",
        "has space",
        "comma,list",
        "quote'",
        "double\"",
        "semi;colon",
        "new\nline",
        "nul\u0000",
        "host=evil",
        "?sslmode=disable",
        "%00",
        "caf\u00e9",
        "\u0430lice", // Cyrillic a
        "back\\slash",
        "x234567890123456789012345678901234567890123456789012345678901234"
      })
  void rejectsEverythingElse(String name) {
    assertThat(UserNames.isValid(name)).isFalse();
    assertThatThrownBy(() -> UserNames.requireValid(name, "user name"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("user name ")
        .hasMessageNotContaining("\n")
        .hasMessageNotContaining("\u0000");
  }
}
