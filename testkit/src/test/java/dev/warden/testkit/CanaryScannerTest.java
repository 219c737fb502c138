package dev.warden.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The canary oracle must find every form it promises (a scanner that never fires would pass every
 * masking test) and must not fire on bytes that do not hold the canary (one that always fires would
 * make them useless). The forms are produced here both by the scanner's own code and,
 * independently, by PostgreSQL's functions on the server at 127.0.0.1:5432.
 */
class CanaryScannerTest {
  private static final Canary EMAIL =
      Canary.of("users.email", "cnryq7f3a9b2ex@example.com", "cnryq7f3a9b2ex");
  private static final Canary CARD =
      Canary.of("users.card_number", "4539148803436467", "453914880343");
  private static final Canary NAME = Canary.of("users.full_name", "Zoë Ørkyvgaëlm", "Ørkyvgaëlm");

  private static final List<Canary> ALL = List.of(EMAIL, CARD, NAME);

  private static byte[] filler(long seed, int n) {
    // Wire-like noise: printable text, digits and binary, as result streams have.
    Random r = new Random(seed);
    byte[] b = new byte[n];
    for (int i = 0; i < n; i++) {
      int kind = r.nextInt(3);
      b[i] =
          (byte)
              switch (kind) {
                case 0 -> 'a' + r.nextInt(26);
                case 1 -> '0' + r.nextInt(10);
                default -> r.nextInt(256);
              };
    }
    return b;
  }

  private static byte[] plant(byte[] form) {
    return Packets.concat(filler(1, 300), form, filler(2, 300));
  }

  @Test
  void everyTransformationOfEveryCanaryIsFoundWherePlanted() {
    CanaryScanner scanner = CanaryScanner.of(ALL);
    for (Canary c : ALL) {
      Map<String, byte[]> forms = CanaryScanner.transformations(c);
      assertThat(forms).hasSizeGreaterThan(40);
      forms.forEach(
          (transformation, bytes) -> {
            List<CanaryScanner.Hit> hits = scanner.scan(plant(bytes));
            assertThat(hits)
                .as("%s as %s", c.name(), transformation)
                .anySatisfy(
                    h -> {
                      assertThat(h.canary()).isEqualTo(c.name());
                      assertThat(h.offset()).isLessThanOrEqualTo(300);
                      assertThat(h.offset() + h.length()).isGreaterThanOrEqualTo(300 + 1);
                    });
          });
    }
  }

  @Test
  void unrelatedBytesAndMaskedFormsAreNotHits() {
    CanaryScanner scanner = CanaryScanner.of(ALL);
    assertThat(scanner.scan(filler(42, 4 << 20))).isEmpty();
    String masked =
        "****@example.com|************6467|[redacted]|Zoë ****|example.com|4539|cnryq|45391|example";
    assertThat(scanner.scan(masked.getBytes(StandardCharsets.UTF_8))).isEmpty();
  }

  @Test
  void substringsCountFromSixCharactersInAnyCase() {
    CanaryScanner scanner = CanaryScanner.of(List.of(EMAIL));
    assertThat(scanner.scan(bytes("xx Q7F3A9 yy")))
        .singleElement()
        .satisfies(h -> assertThat(h.transformation()).contains("substring 4..10"));
    assertThat(scanner.scan(bytes("xx Q7F3A yy"))).isEmpty();
  }

  @Test
  void aHitInsideALongerOneOfTheSameCanaryIsReportedOnce() {
    CanaryScanner scanner = CanaryScanner.of(List.of(EMAIL));
    List<CanaryScanner.Hit> hits = scanner.scan(bytes("<cnryq7f3a9b2ex@example.com>"));
    assertThat(hits)
        .singleElement()
        .satisfies(
            h -> {
              assertThat(h.transformation()).isEqualTo("value as is");
              assertThat(h.offset()).isEqualTo(1);
              assertThat(h.length()).isEqualTo(EMAIL.value().length());
            });
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 1, 2, 30, 31, 32})
  void base64IsFoundAtEveryAlignmentAndAcrossLineBreaks(int prefix) {
    CanaryScanner scanner = CanaryScanner.of(List.of(EMAIL));
    byte[] value = Packets.concat(filler(prefix, prefix), bytes(EMAIL.value()), bytes("tail"));
    String encoded = Base64.getMimeEncoder(20, new byte[] {'\n'}).encodeToString(value);
    assertThat(scanner.scan(bytes(encoded))).isNotEmpty();
  }

  @Test
  void otherFormsAreFoundExactly() {
    byte[] binaryDate = {0, 0, 0, 4, (byte) 0xff, (byte) 0xff, (byte) 0xe0, 0x12};
    Canary dob =
        new Canary("users.date_of_birth", "1987-03-14", List.of(), Map.of("binary", binaryDate));
    CanaryScanner scanner = CanaryScanner.of(List.of(dob));
    assertThat(scanner.scan(plant(binaryDate)))
        .singleElement()
        .satisfies(h -> assertThat(h.transformation()).isEqualTo("binary"));
    assertThat(scanner.scan(bytes("1987-03-14"))).isNotEmpty();
    assertThat(scanner.scan(bytes("1987-01-01"))).isEmpty();
  }

  /** The transformations as PostgreSQL computes them, not as the scanner believes they look. */
  @Test
  void transformationsComputedByPostgresAreFound() throws SQLException {
    List<String> expressions =
        List.of(
            "upper($1)",
            "lower($1)",
            "reverse($1)",
            "initcap($1)",
            "encode(convert_to($1, 'UTF8'), 'hex')",
            "upper(encode(convert_to($1, 'UTF8'), 'hex'))",
            "convert_to($1, 'UTF8')::text",
            "encode(convert_to($1, 'UTF8'), 'base64')",
            "encode(convert_to('a' || $1, 'UTF8'), 'base64')",
            "encode(convert_to('ab' || $1, 'UTF8'), 'base64')",
            "encode(convert_to(repeat('x', 70) || $1, 'UTF8'), 'base64')",
            "translate(encode(convert_to('?' || $1, 'UTF8'), 'base64'), '+/', '-_')",
            "to_json($1)::text",
            "replace(to_json($1)::text, '@', '\\u0040')",
            "md5($1)",
            "encode(sha256(convert_to($1, 'UTF8')), 'hex')",
            "sha256(convert_to($1, 'UTF8'))::text",
            "substr($1, 5, 8)",
            "'x' || upper(substr($1, 6, 8)) || 'y'",
            "array_to_string(ARRAY[$1, 'z'], ',')",
            "row_to_json(ROW($1))::text",
            "quote_literal($1)",
            "format('%I', $1)");
    try (Connection c =
            DriverManager.getConnection(
                "jdbc:postgresql://127.0.0.1:5432/postgres", "postgres", "");
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT "
                    + String.join(
                        ", ",
                        expressions.stream().map(e -> e.replace("$1", "?::text")).toList()))) {
      for (Canary canary : ALL) {
        CanaryScanner scanner = CanaryScanner.of(List.of(canary));
        String input = canary.value();
        for (int i = 1; i <= expressions.size(); i++) {
          ps.setString(i, input);
        }
        List<String> missed = new ArrayList<>();
        try (ResultSet r = ps.executeQuery()) {
          r.next();
          for (int i = 1; i <= expressions.size(); i++) {
            String out = r.getString(i);
            if (scanner.scan(out.getBytes(StandardCharsets.UTF_8)).isEmpty()) {
              missed.add(expressions.get(i - 1) + " = " + out);
            }
          }
        }
        assertThat(missed).as("forms of %s the scanner missed", canary.name()).isEmpty();
        try (var latin1 = c.prepareStatement("SELECT convert_to(?, 'LATIN1')")) {
          if (canary == NAME) {
            latin1.setString(1, input);
            try (ResultSet r = latin1.executeQuery()) {
              r.next();
              assertThat(scanner.scan(r.getBytes(1))).isNotEmpty();
            }
          }
        }
      }
    }
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
