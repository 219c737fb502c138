package dev.warden.core.masking;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class DetectorsTest {
  @Test
  void standardCoversEveryContentKindOnce() {
    assertThat(Detectors.standard())
        .extracting(ContentDetector::kind)
        .doesNotHaveDuplicates()
        .contains(
            DataKind.EMAIL,
            DataKind.PHONE,
            DataKind.PAYMENT_CARD,
            DataKind.IBAN,
            DataKind.NATIONAL_ID,
            DataKind.IP_ADDRESS,
            DataKind.JWT,
            DataKind.PRIVATE_KEY,
            DataKind.PASSWORD_HASH,
            DataKind.API_TOKEN);
  }

  @Test
  void detectNamesTheKindOfEachValue() {
    assertThat(Detectors.detect("alice@example.com")).containsExactly(DataKind.EMAIL);
    assertThat(Detectors.detect("4111 1111 1111 1111")).containsExactly(DataKind.PAYMENT_CARD);
    assertThat(Detectors.detect("DE89 3704 0044 0532 0130 00")).containsExactly(DataKind.IBAN);
    assertThat(Detectors.detect("123-45-6789")).containsExactly(DataKind.NATIONAL_ID);
    assertThat(Detectors.detect("10.1.2.3")).containsExactly(DataKind.IP_ADDRESS);
    assertThat(Detectors.detect("+44 20 7946 0958")).containsExactly(DataKind.PHONE);
    assertThat(Detectors.detect("AKIAIOSFODNN7EXAMPLE")).containsExactly(DataKind.API_TOKEN);
  }

  @Test
  void ordinaryValuesAreNotSensitive() {
    for (String value :
        List.of(
            "",
            "   ",
            "hello world",
            "42",
            "2024-01-15",
            "2024-01-15T10:30:00Z",
            "true",
            "ORD-000123",
            "3.14159",
            "https://example.com/a?b=c",
            "1700000000000")) {
      assertThat(Detectors.detect(value)).as(value).isEmpty();
    }
    assertThat(Detectors.detect(null)).isEmpty();
  }

  @Test
  void overlongValuesAreIgnored() {
    String key =
        PrivateKeyDetectorTest.pem("PRIVATE KEY", PrivateKeyDetectorTest.randomBytes(100, 1));
    assertThat(Detectors.detect(key)).containsExactly(DataKind.PRIVATE_KEY);
    String padded = key + " ".repeat(Detectors.MAX_VALUE_LENGTH);
    assertThat(Detectors.detect(padded)).isEmpty();
  }

  @Test
  void aThrowingDetectorDoesNotFailTheScan() {
    ContentDetector broken =
        new ContentDetector() {
          @Override
          public DataKind kind() {
            return DataKind.PERSON_NAME;
          }

          @Override
          public boolean matches(String value) {
            throw new IllegalStateException("broken detector");
          }
        };
    assertThat(Detectors.detect(List.of(broken, new EmailDetector()), "a@example.com"))
        .containsExactly(DataKind.EMAIL);
  }

  @Test
  void largeHostileValuesAreClassifiedQuickly() {
    Random random = new Random(42);
    String alphabet = "0123456789-. :@$()+aA=_/\n-----BEGIN PRIVATE KEY-----";
    StringBuilder value = new StringBuilder(Detectors.MAX_VALUE_LENGTH);
    while (value.length() < Detectors.MAX_VALUE_LENGTH - 64) {
      value.append(alphabet.charAt(random.nextInt(alphabet.length())));
    }
    long start = System.nanoTime();
    for (int i = 0; i < 20; i++) {
      Detectors.detect(value.toString());
      Detectors.detect("-----BEGIN PRIVATE KEY-----".repeat(2000));
      Detectors.detect("{".repeat(60_000));
    }
    assertThat((System.nanoTime() - start) / 1_000_000).isLessThan(5_000);
  }
}
