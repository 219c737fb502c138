package dev.warden.core.identity;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * SASLprep as PostgreSQL applies it. The examples of RFC 4013 §3 come first; agreement with a real
 * server is proved in {@link PostgresScramInteropTest}.
 */
class SaslPrepTest {
  @ParameterizedTest(name = "{2}")
  @CsvSource(
      delimiter = '|',
      value = {
        "I\u00adX|IX|soft hyphen mapped to nothing (RFC 4013 §3 #1)",
        "user|user|no transformation (#2)",
        "USER|USER|case preserved (#3)",
        "\u00aa|a|NFKC (#4)",
        "\u2168|IX|NFKC (#5)",
        "p\u00e4ss|p\u00e4ss|precomposed stays",
        "pa\u0308ss|p\u00e4ss|combining sequence composed",
        "\uff50\uff41\uff53\uff53|pass|fullwidth letters",
        "a\u00a0b|a b|no-break space becomes a space",
        "a\u3000b\u2003c|a b c|ideographic and em spaces",
        "\ufb01x|fix|ligature",
        "\u05d0\u05d1|\u05d0\u05d1|right-to-left only",
      })
  void normalisesAsSaslPrep(String input, String expected, String why) {
    assertThat(new String(SaslPrep.normalize(input.getBytes(UTF_8)), UTF_8)).isEqualTo(expected);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "\u0007bell", // ASCII controls: PostgreSQL skips SASLprep for pure ASCII
        "pass word",
        "\u007f",
        "\u00e9\u0007", // prohibited control next to a non-ASCII character
        "\u00e9\u0085", // C.2.2 next-line
        "\u00e9\ue000", // C.3 private use
        "\u00e9\ufdd0", // C.4 non-character
        "\u00e9\u200e", // C.8 left-to-right mark
        "\u00e9\u0340", // C.8
        "\u00e9\u2ff0", // C.7
        "\u00e9\udb40\udc01", // C.9 language tag
        "\u0627\u0031", // RFC 4013 §3 #7: bidi string not ending in RandALCat
        "\u05d0a\u05d1", // RandALCat with an LCat
        "\u00ad", // nothing left after mapping
        "\u0221\uff50", // unassigned in Unicode 3.2, beside something NFKC would change
        "\ud83d\ude00\uff50", // emoji (Unicode 6.1) beside a fullwidth letter
      })
  void usesRawBytesWhereSaslPrepRefusesOrForAscii(String input) {
    byte[] raw = input.getBytes(UTF_8);

    assertThat(SaslPrep.normalize(raw)).isEqualTo(raw);
  }

  @Test
  void invalidUtf8IsUsedAsRawBytes() {
    byte[] raw = {'a', (byte) 0xC3, (byte) 0x28, (byte) 0xFF};

    assertThat(SaslPrep.normalize(raw)).isEqualTo(raw);
  }

  @Test
  void unicode32TableAgreesWithTheJdkWhereUnicodeIsStable() {
    // Every code point unassigned today was unassigned in 3.2 as well.
    for (int cp = 0; cp <= Character.MAX_CODE_POINT; cp++) {
      if (Character.getType(cp) == Character.UNASSIGNED && !isNonCharacter(cp)) {
        assertThat(Unicode32Unassigned.contains(cp)).as("U+%04X", cp).isTrue();
      }
    }
    assertThat(Unicode32Unassigned.contains('a')).isFalse();
    assertThat(Unicode32Unassigned.contains(0x0221)).isTrue(); // assigned in Unicode 4.0
    assertThat(Unicode32Unassigned.contains(0x1F600)).isTrue(); // assigned in Unicode 6.1
    assertThat(Unicode32Unassigned.contains(0x4E00)).isFalse();
  }

  private static boolean isNonCharacter(int cp) {
    return (cp >= 0xFDD0 && cp <= 0xFDEF) || (cp & 0xFFFE) == 0xFFFE;
  }
}
