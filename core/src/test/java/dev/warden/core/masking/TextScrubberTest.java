package dev.warden.core.masking;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.core.identity.AuthMethod;
import dev.warden.core.identity.Identity;
import java.time.Instant;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class TextScrubberTest {
  private static final SessionMasking MASKING =
      MaskingRules.defaults()
          .forSession(
              new Identity("alice", Set.of(), AuthMethod.SCRAM_SHA_256),
              "prod",
              Set.of(),
              Instant.EPOCH)
          .orElseThrow();

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "invalid input syntax for type integer: \"alice@example.com\""
            + "|invalid input syntax for type integer: \"****@example.com\"",
        "Key (email)=(alice@example.com) already exists."
            + "|Key (email)=(****@example.com) already exists.",
        "duplicate card 4111 1111 1111 1111, sorry|duplicate card **** **** **** 1111, sorry",
        "card=4111-1111-1111-1111;|card=****-****-****-1111;",
        "call +1 415 555 0100.|call +* *** *** **00.",
        "call (415) 555-0100 now|call (***) ***-**00 now",
        "iban DE89 3704 0044 0532 0130 00 rejected|iban DE** **** **** **** **30 00 rejected",
        "iban: GB82WEST12345698765432|iban: GB****************5432",
        "ssn '536-22-1234' invalid|ssn '[national_id]' invalid",
        "voided ssn 078-05-1120 reads as a phone number|voided ssn ***-**-**20 reads as a phone number",
        "from 2001:db8::1 at 10.0.0.7|from [ip_address] at [ip_address]",
        "<alice@example.com>|<****@example.com>",
        "[alice@example.com,bob@example.org]|[****@example.com,****@example.org]",
        "contact alice@example.com.|contact ****@example.com.",
        "integer: \"o'reilly@example.com\"|integer: \"****@example.com\"",
        "value 'o'reilly@example.com' here|value '****@example.com' here",
      })
  void sensitiveWordsAreMaskedInPlace(String text, String expected) {
    assertThat(MASKING.scrubText(text)).isEqualTo(expected);
  }

  @Test
  void tokensHashesAndJwtsAreRedacted() {
    String jwt =
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0"
            + ".dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";
    assertThat(MASKING.scrubText("bad token: Bearer " + jwt + " (expired)"))
        .isEqualTo("bad token: Bearer [jwt] (expired)");
    String argon =
        "$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHRzb21lc2FsdA$RdescudvJCsgt3ub+b+dWRWJTmaaJObG";
    assertThat(MASKING.scrubText("value \"" + argon + "\" too long"))
        .isEqualTo("value \"[password_hash]\" too long");
    String github = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8";
    String scrubbed = MASKING.scrubText("token=" + github);
    assertThat(scrubbed).doesNotContain(github);
  }

  @Test
  void privateKeyBlocksAreMaskedWhole() {
    String block =
        "-----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu\n"
            + "KUpRKfFLfRYC9AIKjbJTWit+CqvjWYzvQwECAwEAAQ==\n-----END RSA PRIVATE KEY-----";
    assertThat(MASKING.scrubText("key: " + block + " end")).isEqualTo("key: [private_key] end");
    assertThat(MASKING.scrubText("cut: -----BEGIN PRIVATE KEY-----\nMIIBOgIBAAJBAKj34Gkx"))
        .isEqualTo("cut: [private_key]");
    String certificate = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----";
    assertThat(MASKING.scrubText(certificate)).isSameAs(certificate);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "relation \"users\" does not exist",
        "syntax error at or near \"SELEC\" at character 1",
        "division by zero",
        "value 42 out of range; 2026-03-02 12:00:00+00",
        "column users.email is of type integer",
        "",
        "   ",
        "x"
      })
  void textWithoutSensitiveWordsIsReturnedItself(String text) {
    assertThat(MASKING.scrubText(text)).isSameAs(text);
  }

  @Test
  void nullStaysNull() {
    assertThat(MASKING.scrubText(null)).isNull();
  }

  @Test
  void aStrategyOfNullStillLeavesAMarkerInText() {
    SessionMasking s =
        MaskingRules.builder()
            .strategy(DataKind.EMAIL, MaskingStrategy.NULL)
            .build()
            .forSession(new Identity("a", Set.of(), AuthMethod.OIDC), "e", Set.of(), Instant.EPOCH)
            .orElseThrow();
    assertThat(s.scrubText("bad: alice@example.com")).isEqualTo("bad: [email]");
  }

  @Test
  void everyEmbeddedCanaryIsMaskedInRandomText() {
    Random random = new Random(3);
    String[] canaries = {
      "canary.1@example.com",
      "4111 1111 1111 1111",
      "536-22-1234",
      "DE89370400440532013000",
      "o'brien.c@example.com"
    };
    String[] fillers = {
      " ", "\"", "'", "(", ")", "=", ",", ":", ";", "[", "]", "<", ">", "\n", " x "
    };
    for (int n = 0; n < 2_000; n++) {
      StringBuilder text = new StringBuilder();
      for (int i = 0; i < 6; i++) {
        text.append(fillers[random.nextInt(fillers.length)]);
        if (random.nextInt(3) == 0) {
          text.append(canaries[random.nextInt(canaries.length)]);
        } else {
          text.append("word").append(random.nextInt(100));
        }
        text.append(fillers[random.nextInt(fillers.length)]);
      }
      String scrubbed = MASKING.scrubText(text.toString());
      for (String canary : canaries) {
        assertThat(scrubbed).as(text.toString()).doesNotContain(canary);
      }
      assertThat(scrubbed).doesNotContain("canary.1").doesNotContain("brien").doesNotContain("o'*");
    }
  }

  @Test
  void scrubbingIsFastOnLongText() {
    String text = "word, (x) = 'y'; 12 34 56 ".repeat(20_000);
    long start = System.nanoTime();
    assertThat(MASKING.scrubText(text)).isSameAs(text);
    assertThat(System.nanoTime() - start).isLessThan(3_000_000_000L);
  }
}
