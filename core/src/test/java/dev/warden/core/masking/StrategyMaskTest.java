package dev.warden.core.masking;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigDecimal;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

class StrategyMaskTest {
  static final byte[] KEY = new byte[32];
  static final byte[] OTHER_KEY = new byte[32];

  static {
    for (int i = 0; i < 32; i++) {
      KEY[i] = (byte) i;
      OTHER_KEY[i] = (byte) (100 + i);
    }
  }

  private static final MaskingKey K = MaskingKey.of(KEY);
  private static final Pattern NUMBER =
      Pattern.compile("[+-]?(\\d+(\\.\\d*)?|\\.\\d+)([eE][+-]?\\d+)?");

  /** Values of each type, sensitive and not, awkward and not. */
  private static final Map<ValueType, List<String>> SAMPLES =
      Map.of(
          ValueType.TEXT,
          List.of(
              "alice@example.com",
              "4111 1111 1111 1111",
              "DE89 3704 0044 0532 0130 00",
              "+1 415 555 0100",
              "1984-03-02",
              "Zoë O'Brien-Łukasz 🙂",
              "",
              " ",
              "line\nbreak \"quoted\" \\ back"),
          ValueType.BYTES,
          List.of("\\x616c696365", "alice@example.com"),
          ValueType.JSON,
          List.of(
              "\"alice@example.com\"",
              " \"1984-03-02\" ",
              "\"with \\\"escapes\\\" \\u00e9 \\n\"",
              "{\"email\": \"alice@example.com\", \"n\": [1, 2.5, true, null]}",
              "[\"4111111111111111\"]",
              "42",
              "-0.5e3",
              "true",
              "null",
              "\"unterminated"),
          ValueType.NUMBER,
          List.of(
              "4111111111111111",
              "-1234.5600",
              "0",
              "7",
              "2147483647",
              "-32768",
              "1.5e+20",
              "0.000001",
              "NaN",
              "Infinity",
              "not a number"),
          ValueType.DATE,
          List.of("1984-03-02", "2000-02-29", "0001-01-01", "infinity", "1984-03-02 BC", "x"),
          ValueType.OTHER,
          List.of("192.168.1.1", "{1,2,3}", "2026-01-01 12:00:00+00"));

  static Stream<Arguments> strategiesAndTypes() {
    List<Arguments> out = new ArrayList<>();
    for (MaskingStrategy s : MaskingStrategy.values()) {
      for (ValueType t : ValueType.values()) {
        out.add(Arguments.of(s, t));
      }
    }
    return out.stream();
  }

  private static List<Optional<DataKind>> kinds() {
    List<Optional<DataKind>> kinds = new ArrayList<>();
    kinds.add(Optional.empty());
    for (DataKind k : DataKind.values()) {
      kinds.add(Optional.of(k));
    }
    return kinds;
  }

  @ParameterizedTest
  @MethodSource("strategiesAndTypes")
  void everyStrategyGivesAValueOfTheTypeOrNull(MaskingStrategy strategy, ValueType type) {
    for (MaskingKey key : new MaskingKey[] {K, null}) {
      for (Optional<DataKind> kind : kinds()) {
        ColumnMask mask = new StrategyMask(kind, strategy, key);
        for (String value : SAMPLES.get(type)) {
          String masked = mask.mask(value, type);
          assertValid(masked, type, strategy + " " + kind + " " + type + " '" + value + "'");
          assertThat(mask.mask(value, type)).as("deterministic").isEqualTo(masked);
        }
      }
    }
  }

  static void assertValid(String masked, ValueType type, String what) {
    if (masked == null) {
      return;
    }
    switch (type) {
      case TEXT, BYTES -> {}
      case JSON -> assertThat(JsonCheck.valid(masked)).as(what + " -> " + masked).isTrue();
      case NUMBER -> {
        assertThat(masked).as(what).matches(NUMBER);
        if (masked.indexOf('e') < 0 && masked.indexOf('E') < 0) {
          new BigDecimal(masked);
        }
      }
      case DATE -> LocalDate.parse(masked);
      case OTHER -> assertThat(masked).as(what + ": OTHER is always null").isNull();
    }
  }

  @ParameterizedTest
  @EnumSource(MaskingStrategy.class)
  void otherTypesAreAlwaysNull(MaskingStrategy strategy) {
    ColumnMask mask = new StrategyMask(Optional.of(DataKind.IP_ADDRESS), strategy, K);
    assertThat(mask.mask("192.168.1.1", ValueType.OTHER)).isNull();
  }

  @Test
  void redactionIsAMarkerNamingTheKind() {
    ColumnMask email = new StrategyMask(Optional.of(DataKind.EMAIL), MaskingStrategy.REDACT, K);
    assertThat(email.mask("alice@example.com", ValueType.TEXT)).isEqualTo("[email]");
    assertThat(email.mask("alice@example.com", ValueType.BYTES)).isEqualTo("[email]");
    assertThat(email.mask("\"alice@example.com\"", ValueType.JSON)).isEqualTo("\"[email]\"");
    assertThat(email.mask("{\"a\":1}", ValueType.JSON)).isEqualTo("\"[email]\"");
    assertThat(email.mask("12", ValueType.NUMBER)).isNull();
    assertThat(email.mask("1984-03-02", ValueType.DATE)).isNull();
    ColumnMask unknown = new StrategyMask(Optional.empty(), MaskingStrategy.REDACT, K);
    assertThat(unknown.mask("anything", ValueType.TEXT)).isEqualTo("[masked]");
    ColumnMask card =
        new StrategyMask(Optional.of(DataKind.PAYMENT_CARD), MaskingStrategy.REDACT, K);
    assertThat(card.mask("4111111111111111", ValueType.TEXT)).isEqualTo("[payment_card]");
    assertThat(card.strategy()).isEqualTo("redact");
    assertThat(card.kind()).hasValue(DataKind.PAYMENT_CARD);
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "EMAIL|alice@example.com|****@example.com",
        "EMAIL|  bob.smith+x@mail.example.co.uk |****@mail.example.co.uk",
        "EMAIL|not an address|[email]",
        "EMAIL|@example.com|[email]",
        "EMAIL|Please erase me. E-mail: amelia@example.com.|[email]",
        "PAYMENT_CARD|4111 1111 1111 1111|**** **** **** 1111",
        "PAYMENT_CARD|4111-1111-1111-1111|****-****-****-1111",
        "PAYMENT_CARD|378282246310005|***********0005",
        "PAYMENT_CARD|1234|[payment_card]",
        "IBAN|DE89 3704 0044 0532 0130 00|DE** **** **** **** **30 00",
        "IBAN|GB82WEST12345698765432|GB****************5432",
        "IBAN|12345678|[iban]",
        "PHONE|+1 415 555 0100|+* *** *** **00",
        "PHONE|(415) 555-0100|(***) ***-**00",
        "PHONE|+44 20 7946 0958|+** ** **** **58",
        "PHONE|12345|[phone]",
        "DATE_OF_BIRTH|1984-03-02|1984-01-01",
        "DATE_OF_BIRTH|1984-02-30|[date_of_birth]",
        "DATE_OF_BIRTH|02/03/1984|[date_of_birth]",
        "NATIONAL_ID|078-05-1120|[national_id]",
        "PERSON_NAME|Alice Smith|[person_name]",
        "PASSWORD_HASH|$2b$12$abcdefghijklmnopqrstuv|[password_hash]",
        "API_TOKEN|ghp_abcdefghijklmnopqrstuvwxyz0123456789|[api_token]",
      })
  void partialKeepsTheDocumentedPart(DataKind kind, String value, String expected) {
    ColumnMask mask = new StrategyMask(Optional.of(kind), MaskingStrategy.PARTIAL, K);
    assertThat(mask.mask(value, ValueType.TEXT)).isEqualTo(expected);
  }

  @Test
  void partialDatesOfBirthKeepTheYearInEveryType() {
    ColumnMask dob =
        new StrategyMask(Optional.of(DataKind.DATE_OF_BIRTH), MaskingStrategy.PARTIAL, K);
    assertThat(dob.mask("1984-03-02", ValueType.DATE)).isEqualTo("1984-01-01");
    assertThat(dob.mask("1984-03-02 BC", ValueType.DATE)).isNull();
    assertThat(dob.mask("\"1984-03-02\"", ValueType.JSON)).isEqualTo("\"1984-01-01\"");
    assertThat(dob.mask("19840302", ValueType.NUMBER)).isNull();
    ColumnMask email = new StrategyMask(Optional.of(DataKind.EMAIL), MaskingStrategy.PARTIAL, K);
    assertThat(email.mask("\"alice@example.com\"", ValueType.JSON))
        .isEqualTo("\"****@example.com\"");
    assertThat(email.mask("{\"e\":\"alice@example.com\"}", ValueType.JSON))
        .isEqualTo("\"[email]\"");
    assertThat(email.mask("1984-03-02", ValueType.DATE)).isNull();
  }

  @Test
  void pseudonymsAreKeyedDeterministicTokens() {
    ColumnMask text =
        new StrategyMask(Optional.of(DataKind.NATIONAL_ID), MaskingStrategy.PSEUDONYM, K);
    ColumnMask email = new StrategyMask(Optional.of(DataKind.EMAIL), MaskingStrategy.PSEUDONYM, K);
    String a = text.mask("078-05-1120", ValueType.TEXT);
    assertThat(a).matches("pseudo:[a-z2-7]{13}");
    assertThat(
            new StrategyMask(
                    Optional.of(DataKind.NATIONAL_ID),
                    MaskingStrategy.PSEUDONYM,
                    MaskingKey.of(KEY.clone()))
                .mask("078-05-1120", ValueType.TEXT))
        .as("the same key in another instance")
        .isEqualTo(a);
    assertThat(text.mask("078-05-1121", ValueType.TEXT)).isNotEqualTo(a);
    assertThat(
            new StrategyMask(
                    Optional.of(DataKind.NATIONAL_ID),
                    MaskingStrategy.PSEUDONYM,
                    MaskingKey.of(OTHER_KEY))
                .mask("078-05-1120", ValueType.TEXT))
        .as("another key")
        .isNotEqualTo(a);
    String e = email.mask("alice@example.com", ValueType.TEXT);
    assertThat(e).matches("u[0-9a-f]{10}@pseudonym\\.invalid");
    assertThat(email.mask("\"alice@example.com\"", ValueType.JSON)).isEqualTo("\"" + e + "\"");
    assertThat(email.mask("not an address", ValueType.TEXT)).matches("pseudo:[a-z2-7]{13}");
    assertThat(email.strategy()).isEqualTo("pseudonym");
  }

  @Test
  void distinctValuesGetDistinctPseudonyms() {
    ColumnMask mask = new StrategyMask(Optional.of(DataKind.EMAIL), MaskingStrategy.PSEUDONYM, K);
    java.util.Set<String> seen = new java.util.HashSet<>();
    for (int i = 0; i < 20_000; i++) {
      assertThat(seen.add(mask.mask("user" + i + "@example.com", ValueType.TEXT))).isTrue();
    }
  }

  @ParameterizedTest
  @EnumSource(
      value = MaskingStrategy.class,
      names = {"PSEUDONYM", "FORMAT_PRESERVING"})
  void keyedStrategiesRedactWithoutAKey(MaskingStrategy strategy) {
    ColumnMask mask = new StrategyMask(Optional.of(DataKind.EMAIL), strategy, null);
    assertThat(mask.strategy()).isEqualTo("redact");
    assertThat(mask.mask("alice@example.com", ValueType.TEXT)).isEqualTo("[email]");
    assertThat(mask.mask("\"alice@example.com\"", ValueType.JSON)).isEqualTo("\"[email]\"");
    assertThat(mask.mask("12345", ValueType.NUMBER)).isNull();
    assertThat(mask.mask("1984-03-02", ValueType.DATE)).isNull();
  }

  @Test
  void formatPreservingKeepsTheShapeOfText() {
    ColumnMask mask =
        new StrategyMask(Optional.of(DataKind.NATIONAL_ID), MaskingStrategy.FORMAT_PRESERVING, K);
    Random random = new Random(5);
    for (int n = 0; n < 2_000; n++) {
      String value = randomText(random);
      String masked = mask.mask(value, ValueType.TEXT);
      assertThat(masked).hasSameSizeAs(value);
      for (int i = 0; i < value.length(); i++) {
        char v = value.charAt(i);
        char m = masked.charAt(i);
        if (Character.isDigit(v)) {
          assertThat(m).isBetween('0', '9');
        } else if (Character.isUpperCase(v)) {
          assertThat(m).isBetween('A', 'Z');
        } else if (Character.isLetter(v) || Character.isSurrogate(v)) {
          assertThat(m).isBetween('a', 'z');
        } else {
          assertThat(m).isEqualTo(v);
        }
      }
    }
    String ssn = mask.mask("078-05-1120", ValueType.TEXT);
    assertThat(ssn).matches("\\d{3}-\\d{2}-\\d{4}").isNotEqualTo("078-05-1120");
    assertThat(mask.mask("078-05-1120", ValueType.TEXT)).isEqualTo(ssn);
    assertThat(
            new StrategyMask(
                    Optional.of(DataKind.NATIONAL_ID),
                    MaskingStrategy.FORMAT_PRESERVING,
                    MaskingKey.of(OTHER_KEY))
                .mask("078-05-1120", ValueType.TEXT))
        .isNotEqualTo(ssn);
    assertThat(mask.mask("Zoë Ünal", ValueType.TEXT)).matches("[A-Z][a-z][a-z] [A-Z][a-z]{3}");
  }

  @Test
  void formatPreservedCardNumbersPassLuhn() {
    ColumnMask mask =
        new StrategyMask(Optional.of(DataKind.PAYMENT_CARD), MaskingStrategy.FORMAT_PRESERVING, K);
    Random random = new Random(7);
    int differentLastDigit = 0;
    for (int n = 0; n < 1_000; n++) {
      StringBuilder card = new StringBuilder();
      int length = 12 + random.nextInt(8);
      for (int i = 0; i < length; i++) {
        if (i > 0 && i % 4 == 0 && n % 2 == 0) {
          card.append(' ');
        }
        card.append((char) ('0' + random.nextInt(10)));
      }
      String masked = mask.mask(card.toString(), ValueType.TEXT);
      String digits = masked.replace(" ", "");
      assertThat(digits).hasSize(length).matches("\\d+");
      assertThat(PaymentCardDetector.luhn(digits)).as(masked).isTrue();
      assertThat(masked.replaceAll("\\d", "0")).isEqualTo(card.toString().replaceAll("\\d", "0"));
      if (masked.charAt(masked.length() - 1) != card.charAt(card.length() - 1)) {
        differentLastDigit++;
      }
    }
    assertThat(differentLastDigit).isGreaterThan(500);
  }

  @ParameterizedTest
  @EnumSource(
      value = MaskingStrategy.class,
      names = {"PSEUDONYM", "FORMAT_PRESERVING"})
  void keyedNumbersKeepSignScaleAndDigitsAndNeverGrow(MaskingStrategy strategy) {
    ColumnMask mask = new StrategyMask(Optional.of(DataKind.NATIONAL_ID), strategy, K);
    Random random = new Random(11);
    int changed = 0;
    for (int n = 0; n < 5_000; n++) {
      String value =
          (random.nextBoolean() ? "-" : "")
              + (1 + random.nextInt(9))
              + Long.toString(Math.abs(random.nextLong() % 1_000_000_000_000L))
              + (random.nextBoolean() ? "." + random.nextInt(1000) : "");
      String masked = mask.mask(value, ValueType.NUMBER);
      assertThat(masked).matches(NUMBER);
      assertThat(masked.replaceAll("\\d", "0")).isEqualTo(value.replaceAll("\\d", "0"));
      BigDecimal original = new BigDecimal(value);
      BigDecimal m = new BigDecimal(masked);
      assertThat(m.abs().setScale(0, java.math.RoundingMode.DOWN))
          .isLessThanOrEqualTo(original.abs().setScale(0, java.math.RoundingMode.DOWN));
      if (!masked.equals(value)) {
        changed++;
      }
    }
    assertThat(changed).isGreaterThan(4_900);
    assertThat(mask.mask("2147483647", ValueType.NUMBER))
        .satisfies(s -> assertThat(Long.parseLong(s)).isLessThanOrEqualTo(Integer.MAX_VALUE));
    assertThat(mask.mask("1.5e+20", ValueType.NUMBER)).matches("\\d\\.\\de\\+20");
    assertThat(mask.mask("NaN", ValueType.NUMBER)).isNull();
  }

  @ParameterizedTest
  @EnumSource(
      value = MaskingStrategy.class,
      names = {"PSEUDONYM", "FORMAT_PRESERVING"})
  void keyedDatesAreValidDatesOfTheSameDecade(MaskingStrategy strategy) {
    ColumnMask mask = new StrategyMask(Optional.of(DataKind.DATE_OF_BIRTH), strategy, K);
    LocalDate day = LocalDate.of(1950, 1, 1);
    int changed = 0;
    for (int n = 0; n < 3_000; n++, day = day.plusDays(7)) {
      String masked = mask.mask(day.toString(), ValueType.DATE);
      LocalDate m = LocalDate.parse(masked);
      assertThat(m.getYear() / 10).isEqualTo(day.getYear() / 10);
      if (!m.equals(day)) {
        changed++;
      }
    }
    assertThat(changed).isGreaterThan(2_900);
    assertThat(mask.mask("infinity", ValueType.DATE)).isNull();
  }

  @Test
  void formatPreservingAndPseudonymsOfOneValueAreUnrelated() {
    String fp =
        new StrategyMask(Optional.of(DataKind.NATIONAL_ID), MaskingStrategy.FORMAT_PRESERVING, K)
            .mask("123456789", ValueType.NUMBER);
    String ps =
        new StrategyMask(Optional.of(DataKind.NATIONAL_ID), MaskingStrategy.PSEUDONYM, K)
            .mask("123456789", ValueType.NUMBER);
    assertThat(fp).isNotEqualTo(ps);
  }

  @Test
  void jsonValuesThatAreNotStringsBecomeOneMaskedString() {
    ColumnMask fp =
        new StrategyMask(Optional.of(DataKind.EMAIL), MaskingStrategy.FORMAT_PRESERVING, K);
    String masked = fp.mask("{\"email\":\"alice@example.com\"}", ValueType.JSON);
    assertThat(masked).startsWith("\"{\\\"").endsWith("\\\"}\"");
    assertThat(masked).doesNotContain("alice").doesNotContain("example");
    assertThat(JsonCheck.valid(masked)).isTrue();
    ColumnMask ps = new StrategyMask(Optional.of(DataKind.EMAIL), MaskingStrategy.PSEUDONYM, K);
    assertThat(ps.mask("[1, 2]", ValueType.JSON)).matches("\"pseudo:[a-z2-7]{13}\"");
    assertThat(ps.mask(" [1, 2] ", ValueType.JSON)).isEqualTo(ps.mask("[1, 2]", ValueType.JSON));
    ColumnMask nul = new StrategyMask(Optional.of(DataKind.EMAIL), MaskingStrategy.NULL, K);
    assertThat(nul.mask("\"alice@example.com\"", ValueType.JSON)).isNull();
  }

  @Test
  void jsonStringsWithEscapesAreDecodedMaskedAndQuotedAgain() {
    ColumnMask fp =
        new StrategyMask(Optional.of(DataKind.PERSON_NAME), MaskingStrategy.FORMAT_PRESERVING, K);
    String masked = fp.mask("\"O\\\"Brien\\n\\u00e9\\\\\"", ValueType.JSON);
    assertThat(JsonCheck.valid(masked)).isTrue();
    assertThat(JsonText.stringContent(masked)).matches("[A-Z]\"[A-Z][a-z]{4}\n[a-z]\\\\");
  }

  @ParameterizedTest
  @EnumSource(MaskingStrategy.class)
  void nullStrategyIsAlwaysNullAndOthersNeverThrow(MaskingStrategy strategy) {
    Random random = new Random(strategy.ordinal());
    for (Optional<DataKind> kind : kinds()) {
      StrategyMask mask = new StrategyMask(kind, strategy, K);
      for (int n = 0; n < 300; n++) {
        String value = random.nextBoolean() ? randomText(random) : mutatedSample(random);
        for (ValueType type : ValueType.values()) {
          // apply, not mask: an exception must fail the test, not turn into a redaction.
          String masked = mask.apply(value, type);
          if (strategy == MaskingStrategy.NULL) {
            assertThat(masked).isNull();
          }
          assertValid(masked, type, strategy + " " + kind + " " + type);
        }
      }
    }
  }

  @Test
  void maskingCostIsLinearInTheValue() {
    ColumnMask fp =
        new StrategyMask(Optional.of(DataKind.PERSON_NAME), MaskingStrategy.FORMAT_PRESERVING, K);
    String big = "ab1-".repeat(250_000);
    long start = System.nanoTime();
    String masked = fp.mask(big, ValueType.TEXT);
    assertThat(masked).hasSameSizeAs(big);
    assertThat(System.nanoTime() - start).isLessThan(2_000_000_000L);
  }

  private static final List<String> ALL_SAMPLES =
      SAMPLES.values().stream().flatMap(List::stream).sorted().toList();

  /** A sample of some type with up to three characters replaced, inserted or removed. */
  static String mutatedSample(Random random) {
    StringBuilder s = new StringBuilder(ALL_SAMPLES.get(random.nextInt(ALL_SAMPLES.size())));
    String alphabet = "09.-+eE\"\\{}[]: xé";
    for (int m = random.nextInt(4); m > 0; m--) {
      int at = s.isEmpty() ? 0 : random.nextInt(s.length());
      char c = alphabet.charAt(random.nextInt(alphabet.length()));
      switch (random.nextInt(3)) {
        case 0 -> {
          if (!s.isEmpty()) {
            s.setCharAt(at, c);
          }
        }
        case 1 -> s.insert(at, c);
        default -> {
          if (!s.isEmpty()) {
            s.deleteCharAt(at);
          }
        }
      }
    }
    return s.toString();
  }

  static String randomText(Random random) {
    String alphabet = "aZ09 -.@+\"\\{}[]:,éÜ🙂\n\u0000\u2028ß٣";
    int length = random.nextInt(30);
    StringBuilder s = new StringBuilder();
    for (int i = 0; i < length; i++) {
      int at = random.nextInt(alphabet.length());
      char c = alphabet.charAt(at);
      if (Character.isHighSurrogate(c) && at + 1 < alphabet.length()) {
        s.append(c).append(alphabet.charAt(at + 1));
      } else if (!Character.isLowSurrogate(c)) {
        s.append(c);
      }
    }
    return s.toString();
  }

  /**
   * The byte path a proxy takes for ASCII text ({@link ColumnMask#maskAscii}) gives exactly what
   * {@link ColumnMask#mask} gives, for every kind and strategy, over values built to hit the
   * partial forms' edges (whitespace at the ends and inside, several @, few digits, separators).
   */
  @Test
  void theAsciiBytePathMasksExactlyAsTheTextPath() {
    Random random = new Random(20261128);
    String alphabet = "0123456789@@..-+() \t\n\u000b\u001fabcXYZ_/*";
    List<String> values =
        new ArrayList<>(
            List.of(
                "customer1@example.com",
                "+1 212 555 0001",
                "4111 1111 1111 1111",
                "4111-1111-1111-1111",
                "@example.com",
                "alice@",
                " alice@example.com\t",
                "a b@example.com",
                "a@b@c",
                "",
                " ",
                "12345",
                "123456",
                "(212) 555-0100",
                "DE89370400440532013000",
                "1984-03-02"));
    for (int n = 0; n < 4000; n++) {
      StringBuilder b = new StringBuilder();
      int length = random.nextInt(24);
      for (int i = 0; i < length; i++) {
        b.append(alphabet.charAt(random.nextInt(alphabet.length())));
      }
      values.add(b.toString());
    }
    for (MaskingStrategy strategy : MaskingStrategy.values()) {
      for (Optional<DataKind> kind :
          Stream.concat(
                  Stream.of(Optional.<DataKind>empty()),
                  Stream.of(DataKind.values()).map(Optional::of))
              .toList()) {
        StrategyMask mask = new StrategyMask(kind, strategy, K);
        for (String value : values) {
          byte[] padded =
              ("xx" + value + "yy").getBytes(java.nio.charset.StandardCharsets.US_ASCII);
          String expected = mask.mask(value, ValueType.TEXT);
          byte[] actual =
              mask.maskAscii(padded, 2, value.length(), java.nio.charset.StandardCharsets.UTF_8);
          assertThat(
                  actual == null
                      ? null
                      : new String(actual, java.nio.charset.StandardCharsets.UTF_8))
              .as("%s %s of '%s'", strategy, kind, value)
              .isEqualTo(expected);
        }
      }
    }
  }
}
