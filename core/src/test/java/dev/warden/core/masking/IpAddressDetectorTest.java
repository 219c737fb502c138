package dev.warden.core.masking;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class IpAddressDetectorTest {
  private final ContentDetector detector = new IpAddressDetector();

  @ParameterizedTest
  @ValueSource(
      strings = {
        "192.168.1.1",
        "0.0.0.0",
        "255.255.255.255",
        "8.8.8.8",
        "2001:db8::1",
        "2001:0db8:85a3:0000:0000:8a2e:0370:7334",
        "::1",
        "fe80::1%eth0",
        "::ffff:192.0.2.128",
        "2001:db8:0:0:1:0:0:1",
        "1::"
      })
  void recognisesAddresses(String value) {
    assertThat(detector.matches(value)).isTrue();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "256.1.1.1",
        "192.168.1",
        "192.168.1.1.1",
        "192.168.01.1",
        "10.0.0.0/8",
        "1.2.3.-4",
        "12:30:45",
        "00:1A:2B:3C:4D:5E",
        "2001:db8::1::2",
        "2001:db8:0:0:1:0:0:1:2",
        "12345::1",
        "gggg::1",
        "1.2.3.4:5432",
        "::ffff:999.0.2.128",
        "v1.2.3.4"
      })
  void refusesNearMisses(String value) {
    assertThat(detector.matches(value)).isFalse();
  }
}
