package dev.warden.core.masking;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.util.Set;

/**
 * Any text is classified without an exception, and what {@link Detectors#detect(String)} reports is
 * exactly what the individual detectors report.
 *
 * <p>A plain {@code mvn test} replays the seeds in {@code
 * src/test/resources/dev/warden/core/masking/DetectorsFuzzTestInputs/detect/} and {@code
 * .../kindsFor/}. To fuzz: {@code JAZZER_FUZZ=1 mvn -pl core test -Djazzer.version=0.30.0
 * -Dtest=DetectorsFuzzTest}.
 */
class DetectorsFuzzTest {
  @FuzzTest(maxDuration = "5m")
  void detect(String input) {
    Set<DataKind> kinds = Detectors.detect(input);
    for (ContentDetector detector : Detectors.standard()) {
      assertThat(kinds.contains(detector.kind())).isEqualTo(detector.matches(input));
    }
  }

  @FuzzTest(maxDuration = "5m")
  void kindsFor(FuzzedDataProvider data) {
    String name = data.consumeString(200);
    String type = data.consumeString(60);
    String comment = data.consumeRemainingAsString();
    assertThat(ColumnHints.kindsFor(name, type, comment)).isNotNull();
  }
}
