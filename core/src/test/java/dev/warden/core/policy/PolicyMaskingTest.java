package dev.warden.core.policy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.core.masking.DataKind;
import dev.warden.core.masking.MaskingRules;
import dev.warden.core.masking.MaskingStrategy;
import java.util.List;
import org.junit.jupiter.api.Test;

class PolicyMaskingTest {
  private static final List<Rule> RULES = List.of(Rule.of("r", "true", PolicyAction.ALLOW));

  @Test
  void aPolicyWithoutAMaskingSectionHasTheDefaults() throws PolicyException {
    Policy p = Policy.compile("p", RULES, PolicyAction.DENY);
    assertThat(p.masking()).isSameAs(MaskingRules.defaults());
    assertThat(Policy.compile("p", RULES, PolicyAction.DENY, MaskingRules.defaults()).version())
        .isEqualTo(p.version());
  }

  @Test
  void theMaskingSectionIsPartOfTheVersion() throws PolicyException {
    Policy plain = Policy.compile("p", RULES, PolicyAction.DENY);
    MaskingRules redactEmail =
        MaskingRules.builder().strategy(DataKind.EMAIL, MaskingStrategy.REDACT).build();
    Policy masked = Policy.compile("p", RULES, PolicyAction.DENY, redactEmail);
    assertThat(masked.masking()).isSameAs(redactEmail);
    assertThat(masked.version()).isNotEqualTo(plain.version()).isNotZero();
    assertThat(
            Policy.compile(
                    "p",
                    RULES,
                    PolicyAction.DENY,
                    MaskingRules.builder().strategy(DataKind.EMAIL, MaskingStrategy.REDACT).build())
                .version())
        .isEqualTo(masked.version());
    assertThat(
            Policy.compile(
                    "p", RULES, PolicyAction.DENY, MaskingRules.builder().enabled(false).build())
                .version())
        .isNotEqualTo(plain.version())
        .isNotEqualTo(masked.version());
  }

  @Test
  void theMaskingKeyIsGivenWithoutChangingTheVersionOrTheRules() throws PolicyException {
    Policy p = Policy.compile("p", RULES, PolicyAction.DENY);
    byte[] secret = new byte[32];
    Policy keyed = p.withPseudonymKey(secret);
    assertThat(keyed.masking().keyed()).isTrue();
    assertThat(p.masking().keyed()).isFalse();
    assertThat(keyed.version()).isEqualTo(p.version());
    assertThat(keyed.rules()).isEqualTo(p.rules());
    assertThat(keyed.defaultAction()).isEqualTo(p.defaultAction());
    assertThat(keyed.name()).isEqualTo(p.name());
  }
}
