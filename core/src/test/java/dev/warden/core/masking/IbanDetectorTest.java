package dev.warden.core.masking;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class IbanDetectorTest {
  private final ContentDetector detector = new IbanDetector();

  @ParameterizedTest
  @ValueSource(
      strings = {
        "GB82WEST12345698765432",
        "GB82 WEST 1234 5698 7654 32",
        "DE89370400440532013000",
        "FR1420041010050500013M02606",
        "NL91ABNA0417164300",
        "BE68539007547034",
        "CH9300762011623852957",
        "NO9386011117947",
        "ES9121000418450200051332",
        "IT60X0542811101000000123456",
        "gb82west12345698765432"
      })
  void recognisesValidIbans(String value) {
    assertThat(detector.matches(value)).isTrue();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "GB83WEST12345698765432",
        "DE89370400440532013001",
        "GB82WEST1234569876543",
        "DE8937040044053201300",
        "XX82WEST12345698765432",
        "GB00WEST12345698765432",
        "GB82 WEST  1234 5698 7654 32",
        "GB82-WEST-1234-5698-7654-32",
        "1234567890123456",
        "NL91ABNA041716430",
        "GBXXWEST12345698765432"
      })
  void refusesWrongChecksLengthsAndCountries(String value) {
    assertThat(detector.matches(value)).isFalse();
  }
}
