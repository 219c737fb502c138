package dev.warden.protocol.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Boundary test of the frame checks (THREATS P01): every message type of each direction against the
 * lengths around its limits, with the expected outcome taken from this table of the spec's sizes
 * rather than from the code under test.
 */
class FramesTest {
  private static final long ANY = -1;

  /** Type to {min, max} length; {@code ANY} as max stands for the configured maximum. */
  private static final Map<Character, long[]> FRONTEND =
      Map.ofEntries(
          Map.entry('Q', new long[] {4, ANY}),
          Map.entry('P', new long[] {4, ANY}),
          Map.entry('B', new long[] {4, ANY}),
          Map.entry('D', new long[] {4, ANY}),
          Map.entry('E', new long[] {4, ANY}),
          Map.entry('C', new long[] {4, ANY}),
          Map.entry('d', new long[] {4, ANY}),
          Map.entry('f', new long[] {4, ANY}),
          Map.entry('F', new long[] {4, ANY}),
          Map.entry('p', new long[] {4, ANY}),
          Map.entry('S', new long[] {4, 4}),
          Map.entry('H', new long[] {4, 4}),
          Map.entry('X', new long[] {4, 4}),
          Map.entry('c', new long[] {4, 4}));

  private static final Map<Character, long[]> BACKEND =
      Map.ofEntries(
          Map.entry('R', new long[] {4, ANY}),
          Map.entry('K', new long[] {12, 264}),
          Map.entry('2', new long[] {4, 4}),
          Map.entry('3', new long[] {4, 4}),
          Map.entry('C', new long[] {4, ANY}),
          Map.entry('d', new long[] {4, ANY}),
          Map.entry('c', new long[] {4, 4}),
          Map.entry('G', new long[] {4, ANY}),
          Map.entry('H', new long[] {4, ANY}),
          Map.entry('W', new long[] {4, ANY}),
          Map.entry('D', new long[] {4, ANY}),
          Map.entry('I', new long[] {4, 4}),
          Map.entry('E', new long[] {4, ANY}),
          Map.entry('V', new long[] {4, ANY}),
          Map.entry('v', new long[] {4, ANY}),
          Map.entry('n', new long[] {4, 4}),
          Map.entry('N', new long[] {4, ANY}),
          Map.entry('A', new long[] {4, ANY}),
          Map.entry('t', new long[] {4, ANY}),
          Map.entry('S', new long[] {4, ANY}),
          Map.entry('1', new long[] {4, 4}),
          Map.entry('s', new long[] {4, 4}),
          Map.entry('Z', new long[] {5, 5}),
          Map.entry('T', new long[] {4, ANY}));

  private static final List<Limits> LIMITS = List.of(Limits.defaults(), new Limits(200, 10_000));

  static Stream<Arguments> frontendTypes() {
    return FRONTEND.entrySet().stream().map(e -> Arguments.of(e.getKey(), e.getValue()));
  }

  static Stream<Arguments> backendTypes() {
    return BACKEND.entrySet().stream().map(e -> Arguments.of(e.getKey(), e.getValue()));
  }

  /** The lengths around every bound of {@code range}, and the 32-bit extremes. */
  private static TreeSet<Long> boundaryLengths(long min, long max, long configured) {
    TreeSet<Long> lengths =
        new TreeSet<>(
            List.of(
                0L,
                3L,
                4L,
                5L,
                min - 1,
                min,
                min + 1,
                max - 1,
                max,
                max + 1,
                configured,
                configured + 1,
                0x7FFF_FFFFL,
                0x8000_0000L,
                0xFFFF_FFFFL));
    lengths.removeIf(length -> length < 0);
    return lengths;
  }

  private interface Check {
    void check(byte type, long length, Limits limits);
  }

  /** The lengths at which {@code check} disagrees with the table, as readable strings. */
  private static List<String> mismatches(char type, long[] range, Check check) {
    List<String> mismatches = new ArrayList<>();
    for (Limits limits : LIMITS) {
      long configured = limits.maxMessageBytes();
      long min = range[0];
      long max = range[1] == ANY ? configured : Math.min(range[1], configured);
      for (long length : boundaryLengths(min, max, configured)) {
        boolean expected = length >= min && length <= max;
        boolean accepted;
        try {
          check.check((byte) type, length, limits);
          accepted = true;
        } catch (ProtocolException e) {
          accepted = false;
        }
        if (accepted != expected) {
          mismatches.add("length " + length + " with max " + configured + ": accepted=" + accepted);
        }
      }
    }
    return mismatches;
  }

  @ParameterizedTest(name = "frontend ''{0}''")
  @MethodSource("frontendTypes")
  void frontendHeaderIsAcceptedExactlyWithinItsTypesBounds(char type, long[] range) {
    assertThat(mismatches(type, range, Frames::checkFrontend)).isEmpty();
  }

  @ParameterizedTest(name = "backend ''{0}''")
  @MethodSource("backendTypes")
  void backendHeaderIsAcceptedExactlyWithinItsTypesBounds(char type, long[] range) {
    assertThat(mismatches(type, range, Frames::checkBackend)).isEmpty();
  }

  @Test
  void typesOutsideEachDirectionsTableAreRejectedAtEveryLength() {
    for (int type = 0; type < 256; type++) {
      for (long length : new long[] {4, 5, 8, 1024}) {
        byte b = (byte) type;
        if (!FRONTEND.containsKey((char) type)) {
          assertThatThrownBy(() -> Frames.checkFrontend(b, length, Limits.defaults()))
              .as("frontend type %d", type)
              .isInstanceOf(ProtocolException.class);
        }
        if (!BACKEND.containsKey((char) type)) {
          assertThatThrownBy(() -> Frames.checkBackend(b, length, Limits.defaults()))
              .as("backend type %d", type)
              .isInstanceOf(ProtocolException.class);
        }
      }
    }
  }
}
