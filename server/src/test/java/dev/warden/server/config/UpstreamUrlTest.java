package dev.warden.server.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warden.core.environment.TlsMode;
import dev.warden.core.environment.Upstream;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class UpstreamUrlTest {
  @Test
  void parsesEveryPart() {
    Upstream upstream =
        UpstreamUrl.parse("postgresql://warden:pa55@db.internal:6543/app?sslmode=require");

    assertThat(upstream.user()).isEqualTo("warden");
    assertThat(upstream.password().reveal()).isEqualTo("pa55");
    assertThat(upstream.host()).isEqualTo("db.internal");
    assertThat(upstream.port()).isEqualTo(6543);
    assertThat(upstream.database()).contains("app");
    assertThat(upstream.tls()).isEqualTo(TlsMode.REQUIRE);
    assertThat(upstream.caFile()).isEmpty();
  }

  @Test
  void defaultsToPort5432NoPasswordAndTheClientsDatabase() {
    Upstream upstream = UpstreamUrl.parse("postgresql://postgres@localhost");

    assertThat(upstream.port()).isEqualTo(5432);
    assertThat(upstream.password().isEmpty()).isTrue();
    assertThat(upstream.database()).isEmpty();
    assertThat(upstream.databaseFor("shop")).isEqualTo("shop");
  }

  @Test
  void loopbackDefaultsToPlainTcpAndRemoteToVerifiedTls() {
    assertThat(UpstreamUrl.parse("postgresql://u@127.0.0.1").tls()).isEqualTo(TlsMode.DISABLE);
    assertThat(UpstreamUrl.parse("postgresql://u@[::1]").tls()).isEqualTo(TlsMode.DISABLE);
    assertThat(UpstreamUrl.parse("postgresql://u@db.internal").tls())
        .isEqualTo(TlsMode.VERIFY_FULL);
  }

  @Test
  void percentDecodesUserPasswordAndDatabase() {
    Upstream upstream =
        UpstreamUrl.parse("postgres://al%40ice:p%3Aa%2Fs%40s%20w%C3%B6rd@h/my%20db");

    assertThat(upstream.user()).isEqualTo("al@ice");
    assertThat(upstream.password().reveal()).isEqualTo("p:a/s@s wörd");
    assertThat(upstream.database()).contains("my db");
  }

  @Test
  void anUnencodedAtSignInThePasswordEndsAtTheLastAt() {
    Upstream upstream = UpstreamUrl.parse("postgresql://u:p@ss@h:1");

    assertThat(upstream.password().reveal()).isEqualTo("p@ss");
    assertThat(upstream.host()).isEqualTo("h");
  }

  @Test
  void parsesBracketedIpv6Addresses() {
    Upstream upstream = UpstreamUrl.parse("postgresql://u@[2001:db8::5]:5433/db");

    assertThat(upstream.host()).isEqualTo("2001:db8::5");
    assertThat(upstream.port()).isEqualTo(5433);
    assertThat(upstream.database()).contains("db");
  }

  @Test
  void verifyFullMayNameTheRootCertificate() {
    Upstream upstream =
        UpstreamUrl.parse("postgresql://u@h?sslmode=verify-full&sslrootcert=/etc/ca.pem");

    assertThat(upstream.tls()).isEqualTo(TlsMode.VERIFY_FULL);
    assertThat(upstream.caFile()).contains(Path.of("/etc/ca.pem"));
  }

  @Test
  void refusesOtherSchemes() {
    assertThatThrownBy(() -> UpstreamUrl.parse("mysql://u:secret@h"))
        .hasMessage(
            "the upstream URL must start with postgresql://, e.g. postgresql://postgres@localhost:5432");
  }

  @Test
  void requiresAUserAndAHost() {
    assertThatThrownBy(() -> UpstreamUrl.parse("postgresql://localhost"))
        .hasMessageContaining("needs a user");
    assertThatThrownBy(() -> UpstreamUrl.parse("postgresql://:pw@localhost"))
        .hasMessageContaining("needs a user");
    assertThatThrownBy(() -> UpstreamUrl.parse("postgresql://u@/db"))
        .hasMessageContaining("needs a host");
  }

  @Test
  void refusesBadPorts() {
    assertThatThrownBy(() -> UpstreamUrl.parse("postgresql://u@h:0"))
        .hasMessage("the upstream URL's port must be between 1 and 65535, found 0");
    assertThatThrownBy(() -> UpstreamUrl.parse("postgresql://u@h:99999"))
        .hasMessage("the upstream URL's port must be between 1 and 65535, found 99999");
    assertThatThrownBy(() -> UpstreamUrl.parse("postgresql://u@h:54x"))
        .hasMessage("the upstream URL's port must be a number, found '54x'");
  }

  @Test
  void refusesSeveralHostsAndUnclosedBrackets() {
    assertThatThrownBy(() -> UpstreamUrl.parse("postgresql://u@a:5432,b:5432"))
        .hasMessage("the upstream URL may name only one host");
    assertThatThrownBy(() -> UpstreamUrl.parse("postgresql://u@[::1"))
        .hasMessageContaining("unclosed '['");
  }

  @Test
  void refusesUnsupportedSslModesAndParameters() {
    assertThatThrownBy(() -> UpstreamUrl.parse("postgresql://u@h?sslmode=prefer"))
        .hasMessageContaining("TLS mode 'prefer' is not supported");
    assertThatThrownBy(() -> UpstreamUrl.parse("postgresql://u@h?sslmode=yes"))
        .hasMessage("unknown TLS mode 'yes'; use disable, require or verify-full");
    assertThatThrownBy(() -> UpstreamUrl.parse("postgresql://u@h?options=-c%20x%3D1"))
        .hasMessage(
            "the upstream URL has an unsupported parameter 'options'; supported: sslmode,"
                + " sslrootcert");
    assertThatThrownBy(
            () -> UpstreamUrl.parse("postgresql://u@h?sslmode=require&sslrootcert=/ca.pem"))
        .hasMessage("sslrootcert is only used with sslmode=verify-full");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "postgresql://u:s3cret-canary%zz@h",
        "postgresql://u:s3cret-canary%C3@h",
        "postgresql://u:s3cret-canary@h:notaport",
        "postgresql://u:s3cret-canary@h?sslmode=maybe",
        "postgresql://u:s3cret-canary@h?colour=blue",
        "postgresql://u:s3cret-canary@[::1",
        "mysql://u:s3cret-canary@h"
      })
  void errorsNeverEchoThePassword(String url) {
    assertThatThrownBy(() -> UpstreamUrl.parse(url))
        .isInstanceOf(IllegalArgumentException.class)
        .message()
        .doesNotContain("s3cret");
  }

  @Test
  void invalidPercentEscapesAndUtf8AreRefused() {
    assertThatThrownBy(() -> UpstreamUrl.parse("postgresql://u:%zz@h"))
        .hasMessage(
            "the upstream URL's password has a '%' that is not followed by two hexadecimal digits");
    assertThatThrownBy(() -> UpstreamUrl.parse("postgresql://u:%C3@h"))
        .hasMessage("the upstream URL's password is not valid UTF-8 once percent-decoded");
  }
}
