package dev.warden.core.masking;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.util.Optional;

/**
 * Any value is masked by every strategy without an exception (called past the safety net that would
 * hide one), into a value valid for its type; any text is scrubbed without an exception, and
 * scrubbing what was scrubbed changes nothing more.
 *
 * <p>A plain {@code mvn test} replays the seeds in {@code
 * src/test/resources/dev/warden/core/masking/MaskingFuzzTestInputs/}. To fuzz: {@code JAZZER_FUZZ=1
 * mvn -pl core test -Djazzer.version=0.30.0 -Dtest=MaskingFuzzTest}.
 */
class MaskingFuzzTest {
  private static final MaskingKey KEY = MaskingKey.of(StrategyMaskTest.KEY);
  private static final SessionMasking SESSION =
      MaskingRules.defaults()
          .withPseudonymKey(StrategyMaskTest.KEY)
          .forSession(
              new dev.warden.core.identity.Identity(
                  "fuzz", java.util.Set.of(), dev.warden.core.identity.AuthMethod.OIDC),
              "e",
              java.util.Set.of(),
              java.time.Instant.EPOCH)
          .orElseThrow();

  @FuzzTest(maxDuration = "5m")
  void strategies(FuzzedDataProvider data) {
    MaskingStrategy strategy = data.pickValue(MaskingStrategy.values());
    ValueType type = data.pickValue(ValueType.values());
    int k = data.consumeInt(0, DataKind.values().length);
    Optional<DataKind> kind = k == 0 ? Optional.empty() : Optional.of(DataKind.values()[k - 1]);
    String value = data.consumeRemainingAsString();
    StrategyMask mask = new StrategyMask(kind, strategy, KEY);
    String masked = mask.apply(value, type);
    StrategyMaskTest.assertValid(masked, type, strategy + " " + kind + " " + type);
    assertThat(mask.apply(value, type)).isEqualTo(masked);
  }

  @FuzzTest(maxDuration = "5m")
  void scrub(FuzzedDataProvider data) {
    String text = data.consumeRemainingAsString();
    String once = SESSION.scrubText(text);
    assertThat(once).isNotNull();
    if (once.equals(text)) {
      assertThat(once).isSameAs(text);
    }
  }
}
