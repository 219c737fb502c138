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
  void detectWithinFindsSensitiveWordsInsideFreeTextAndDocuments() {
    List<ContentDetector> all = Detectors.standard();
    assertThat(
            Detectors.detectWithin(
                all,
                "I want my data erased. Name: Amelia Garcia, e-mail amelia.garcia112@example.com."))
        .containsExactly(DataKind.EMAIL);
    assertThat(
            Detectors.detectWithin(
                all, "{\"contact\": {\"email\": \"x7@example.org\", \"ssn\": \"123-45-6789\"}}"))
        .containsExactlyInAnyOrder(DataKind.EMAIL, DataKind.NATIONAL_ID);
    assertThat(Detectors.detectWithin(all, "call +1 415 555 0100 after five"))
        .containsExactly(DataKind.PHONE);
    assertThat(Detectors.detectWithin(all, "the parcel was late again, second time this month"))
        .isEmpty();
    assertThat(Detectors.detectWithin(all, null)).isEmpty();
    assertThat(Detectors.detectWithin(all, "x".repeat(Detectors.MAX_VALUE_LENGTH + 1))).isEmpty();
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

  /**
   * Seeded mutations of valid values of every kind (characters inserted, deleted, replaced and
   * parts duplicated) reach the detectors' edge cases; each detector is called directly, so an
   * exception fails the test instead of being absorbed by {@link Detectors#detect(String)}.
   */
  @Test
  void mutatedValuesNeverMakeADetectorThrow() {
    List<String> seeds =
        List.of(
            "alice@example.com",
            "+1 (415) 555-2671",
            "06 12 34 56 78",
            "4111 1111 1111 1111",
            "GB82 WEST 1234 5698 7654 32",
            "123-45-6789",
            "fe80::1%eth0",
            "::ffff:192.0.2.128",
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0.abc",
            PrivateKeyDetectorTest.pem("PRIVATE KEY", PrivateKeyDetectorTest.randomBytes(40, 3)),
            "$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG",
            "$7$C6..../....SodiumChloride$kBGj9fHznVYFQMEn/qDCfrDevf9YDtcDdKvEqHJLV8D",
            PasswordHashDetectorTest.scram(1),
            "scrypt$16384$abcdefghijklmnop$8$1$" + PasswordHashDetectorTest.b64(64, 1),
            "xoxp-1234567890-1234567890-1234567890123-0123456789abcdef0123456789abcdef",
            "SG.abcdefghijklmnopqrstuv.abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ");
    String alphabet = "0123456789abcdefAZ-_.:$@=+/%,()[]{}\\\" \n\u00e9\ud83d";
    Random random = new Random(20261127);
    int matched = 0;
    for (int i = 0; i < 30_000; i++) {
      StringBuilder value = new StringBuilder(seeds.get(random.nextInt(seeds.size())));
      for (int edits = 1 + random.nextInt(4); edits > 0; edits--) {
        int at = value.isEmpty() ? 0 : random.nextInt(value.length());
        char c = alphabet.charAt(random.nextInt(alphabet.length()));
        switch (random.nextInt(5)) {
          case 0 -> value.insert(at, c);
          case 1 -> {
            if (!value.isEmpty()) {
              value.deleteCharAt(at);
            }
          }
          case 2 -> {
            if (!value.isEmpty()) {
              value.setCharAt(at, c);
            }
          }
          case 3 -> value.setLength(at);
          default -> value.insert(at, value.substring(at, Math.min(value.length(), at + 8)));
        }
      }
      String mutated = value.toString();
      for (ContentDetector detector : Detectors.standard()) {
        if (detector.matches(mutated)) {
          matched++;
        }
      }
      assertThat(Detectors.detect(mutated)).isNotNull();
    }
    // Some mutations keep a value valid (a changed salt character): the run reached the
    // acceptance paths, not only early refusals.
    assertThat(matched).isGreaterThan(100);
  }
}
