package dev.warden.store.audit.index;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The indexer's fast time parsing answers as {@link Instant#parse}, or leaves it to it. */
class PayloadsTimeTest {
  @Test
  void randomInstantsParseAsInstantParseDoes() {
    Random r = new Random(20261127L);
    for (int i = 0; i < 20_000; i++) {
      Instant t =
          Instant.ofEpochSecond(
              r.nextLong(-62_000_000_000L, 250_000_000_000L), r.nextInt(1_000_000_000));
      if (r.nextBoolean()) {
        t = t.truncatedTo(java.time.temporal.ChronoUnit.MICROS);
      }
      String s = t.toString();
      Instant fast = Payloads.parseUtc(s);
      if (fast != null) {
        assertThat(fast).as(s).isEqualTo(Instant.parse(s));
      }
      assertThat(Payloads.time(Map.of("time", s))).as(s).contains(t);
    }
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "2026-11-27T12:00:00Z",
        "2026-11-27T12:00:00.123456Z",
        "2024-02-29T23:59:59.999999999Z",
        "2025-02-29T00:00:00Z",
        "2026-11-27T24:00:00Z",
        "2026-11-27T12:00:60Z",
        "2026-13-01T00:00:00Z",
        "2026-00-01T00:00:00Z",
        "2026-11-31T00:00:00Z",
        "2026-11-27T12:00:00.Z",
        "2026-11-27T12:00:00.1234567890Z",
        "2026-11-27T12:00:00+01:00",
        "2026-11-27 12:00:00Z",
        "+12026-11-27T12:00:00Z",
        "2026-1a-27T12:00:00Z",
        "2026-11-27T12:00:0xZ",
        "not a time",
        ""
      })
  void edgeCasesAnswerAsInstantParseOrAreLeftToIt(String s) {
    Instant fast = Payloads.parseUtc(s);
    Optional<Instant> expected;
    try {
      expected = Optional.of(Instant.parse(s));
    } catch (DateTimeParseException e) {
      expected = Optional.empty();
    }
    if (fast != null) {
      assertThat(Optional.of(fast)).as(s).isEqualTo(expected);
    }
    assertThat(Payloads.time(Map.of("time", s))).as(s).isEqualTo(expected);
  }
}
