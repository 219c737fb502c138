package dev.warden.server.config;

import dev.warden.core.environment.TlsMode;
import dev.warden.core.environment.Upstream;
import dev.warden.core.identity.Secret;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;

/**
 * Parses the {@code postgresql://USER[:PASSWORD]@HOST[:PORT][/DATABASE][?sslmode=MODE]} form of
 * {@code warden serve --upstream}, as libpq writes connection URIs.
 *
 * <p>The parser is written by hand rather than with {@link java.net.URI} because the JDK's errors
 * quote the whole input, password included; every message here is safe to print.
 */
public final class UpstreamUrl {
  private UpstreamUrl() {}

  /**
   * Parses an upstream URL.
   *
   * @throws IllegalArgumentException with a message fit to show the user, never containing the
   *     password
   */
  public static Upstream parse(String url) {
    String rest;
    if (url.startsWith("postgresql://")) {
      rest = url.substring("postgresql://".length());
    } else if (url.startsWith("postgres://")) {
      rest = url.substring("postgres://".length());
    } else {
      throw new IllegalArgumentException(
          "the upstream URL must start with postgresql://, e.g."
              + " postgresql://postgres@localhost:5432");
    }
    String query = "";
    int question = rest.indexOf('?');
    if (question >= 0) {
      query = rest.substring(question + 1);
      rest = rest.substring(0, question);
    }
    // The password may contain '/' and '@' only percent-encoded, as in libpq; the last '@' ends the
    // user information so that an unencoded '@' in a password still parses the way libpq does.
    int at = rest.lastIndexOf('@');
    if (at < 0) {
      throw new IllegalArgumentException(
          "the upstream URL needs a user, e.g. postgresql://postgres@localhost:5432");
    }
    String userInfo = rest.substring(0, at);
    String hostPart = rest.substring(at + 1);
    String path = "";
    int slash = hostPart.indexOf('/');
    if (slash >= 0) {
      path = hostPart.substring(slash + 1);
      hostPart = hostPart.substring(0, slash);
    }

    String user;
    Secret password;
    int colon = userInfo.indexOf(':');
    if (colon >= 0) {
      user = decode(userInfo.substring(0, colon), "user");
      password = Secret.of(decode(userInfo.substring(colon + 1), "password"));
    } else {
      user = decode(userInfo, "user");
      password = Secret.of("");
    }
    if (user.isEmpty()) {
      throw new IllegalArgumentException(
          "the upstream URL needs a user, e.g. postgresql://postgres@localhost:5432");
    }

    if (hostPart.contains(",")) {
      throw new IllegalArgumentException("the upstream URL may name only one host");
    }
    String host;
    String portText = "";
    if (hostPart.startsWith("[")) {
      int close = hostPart.indexOf(']');
      if (close < 0) {
        throw new IllegalArgumentException(
            "the upstream URL has an unclosed '[' in its host; an IPv6 address is written [::1]");
      }
      host = hostPart.substring(1, close);
      String after = hostPart.substring(close + 1);
      if (!after.isEmpty()) {
        if (!after.startsWith(":")) {
          throw new IllegalArgumentException(
              "the upstream URL has unexpected text after the IPv6 address: '" + after + "'");
        }
        portText = after.substring(1);
      }
    } else {
      int portColon = hostPart.indexOf(':');
      if (portColon >= 0) {
        host = hostPart.substring(0, portColon);
        portText = hostPart.substring(portColon + 1);
      } else {
        host = hostPart;
      }
      host = decode(host, "host");
    }
    if (host.isEmpty()) {
      throw new IllegalArgumentException(
          "the upstream URL needs a host, e.g. postgresql://postgres@localhost:5432");
    }
    int port = 5432;
    if (!portText.isEmpty()) {
      try {
        port = HostPort.parsePort(portText, 1);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("the upstream URL's " + e.getMessage(), e);
      }
    }
    Optional<String> database =
        path.isEmpty() ? Optional.empty() : Optional.of(decode(path, "database"));

    TlsMode tls = HostPort.isLoopback(host) ? TlsMode.DISABLE : TlsMode.VERIFY_FULL;
    Optional<Path> caFile = Optional.empty();
    if (!query.isEmpty()) {
      for (String parameter : query.split("&", -1)) {
        int equals = parameter.indexOf('=');
        String name = equals < 0 ? parameter : parameter.substring(0, equals);
        String value = equals < 0 ? "" : decode(parameter.substring(equals + 1), name);
        switch (name) {
          case "sslmode" -> tls = tlsMode(value);
          case "sslrootcert" -> caFile = Optional.of(Path.of(value));
          default ->
              throw new IllegalArgumentException(
                  "the upstream URL has an unsupported parameter '"
                      + name
                      + "'; supported: sslmode, sslrootcert");
        }
      }
    }
    if (caFile.isPresent() && tls != TlsMode.VERIFY_FULL) {
      throw new IllegalArgumentException("sslrootcert is only used with sslmode=verify-full");
    }
    return new Upstream(host, port, database, user, password, tls, caFile);
  }

  /**
   * The TLS mode named as in configuration and libpq's {@code sslmode}.
   *
   * @throws IllegalArgumentException naming the supported modes
   */
  static TlsMode tlsMode(String value) {
    return switch (value.toLowerCase(Locale.ROOT)) {
      case "disable" -> TlsMode.DISABLE;
      case "require" -> TlsMode.REQUIRE;
      case "verify-full" -> TlsMode.VERIFY_FULL;
      case "allow", "prefer", "verify-ca" ->
          throw new IllegalArgumentException(
              "TLS mode '"
                  + value
                  + "' is not supported: Warden either uses TLS or not, and checks the host name"
                  + " when it checks the certificate; use disable, require or verify-full");
      default ->
          throw new IllegalArgumentException(
              "unknown TLS mode '" + value + "'; use disable, require or verify-full");
    };
  }

  /** Percent-decodes one URL component as UTF-8; errors name the component, not its text. */
  private static String decode(String text, String component) {
    if (text.indexOf('%') < 0) {
      return text;
    }
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(text.length());
    int literalStart = 0;
    int i = 0;
    while (i < text.length()) {
      if (text.charAt(i) != '%') {
        i++;
        continue;
      }
      bytes.writeBytes(text.substring(literalStart, i).getBytes(StandardCharsets.UTF_8));
      if (i + 2 >= text.length()
          || Character.digit(text.charAt(i + 1), 16) < 0
          || Character.digit(text.charAt(i + 2), 16) < 0) {
        throw new IllegalArgumentException(
            "the upstream URL's "
                + component
                + " has a '%' that is not followed by two hexadecimal digits");
      }
      bytes.write(
          Character.digit(text.charAt(i + 1), 16) * 16 + Character.digit(text.charAt(i + 2), 16));
      i += 3;
      literalStart = i;
    }
    bytes.writeBytes(text.substring(literalStart).getBytes(StandardCharsets.UTF_8));
    try {
      return StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(bytes.toByteArray()))
          .toString();
    } catch (CharacterCodingException e) {
      throw new IllegalArgumentException(
          "the upstream URL's " + component + " is not valid UTF-8 once percent-decoded", e);
    }
  }
}
