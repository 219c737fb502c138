package dev.warden.server.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class HostPortTest {
  @Test
  void parsesNamesAddressesAndBracketedIpv6() {
    assertThat(HostPort.parse("127.0.0.1:6432")).isEqualTo(new HostPort("127.0.0.1", 6432));
    assertThat(HostPort.parse("warden.internal:1")).isEqualTo(new HostPort("warden.internal", 1));
    assertThat(HostPort.parse("[::1]:6432")).isEqualTo(new HostPort("::1", 6432));
    assertThat(HostPort.parse("0.0.0.0:0").port()).as("port 0 picks a free port").isZero();
  }

  @Test
  void printsIpv6InBrackets() {
    assertThat(new HostPort("::1", 6432)).hasToString("[::1]:6432");
    assertThat(new HostPort("localhost", 6432)).hasToString("localhost:6432");
  }

  @Test
  void refusesMalformedAddresses() {
    assertThatThrownBy(() -> HostPort.parse("6432")).hasMessageContaining("is not HOST:PORT");
    assertThatThrownBy(() -> HostPort.parse("::1:6432"))
        .hasMessageContaining("an IPv6 address goes in brackets");
    assertThatThrownBy(() -> HostPort.parse("[::1]6432"))
        .hasMessageContaining("an IPv6 address goes in brackets");
    assertThatThrownBy(() -> HostPort.parse(":6432")).hasMessageContaining("has no host");
    assertThatThrownBy(() -> HostPort.parse("h:65536"))
        .hasMessage("port must be between 0 and 65535, found 65536");
    assertThatThrownBy(() -> HostPort.parse("h:")).hasMessage("port must be a number, found ''");
  }

  @Test
  void knowsLoopbackNames() {
    assertThat(new HostPort("localhost", 1).isLoopback()).isTrue();
    assertThat(new HostPort("127.0.0.2", 1).isLoopback()).isTrue();
    assertThat(new HostPort("::1", 1).isLoopback()).isTrue();
    assertThat(new HostPort("db.internal", 1).isLoopback()).isFalse();
    assertThat(new HostPort("10.0.0.1", 1).isLoopback()).isFalse();
  }
}
