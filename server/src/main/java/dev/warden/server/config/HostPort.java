package dev.warden.server.config;

import java.net.InetSocketAddress;
import java.util.Objects;

/**
 * A host name or address with a TCP port, as written in configuration ({@code 127.0.0.1:6432},
 * {@code [::1]:6432}, {@code db.internal:5432}).
 *
 * @param host the host name or address, without the brackets of an IPv6 literal
 * @param port the port; 0 asks the operating system for a free one (listeners only)
 */
public record HostPort(String host, int port) {
  public HostPort {
    Objects.requireNonNull(host, "host");
    if (host.isEmpty()) {
      throw new IllegalArgumentException("host must not be empty");
    }
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("port must be between 0 and 65535, found " + port);
    }
  }

  /**
   * Parses {@code HOST:PORT}; an IPv6 literal goes in brackets.
   *
   * @throws IllegalArgumentException with a message fit to show the user
   */
  public static HostPort parse(String text) {
    String trimmed = text.strip();
    String host;
    String port;
    if (trimmed.startsWith("[")) {
      int close = trimmed.indexOf(']');
      if (close < 0 || close + 1 >= trimmed.length() || trimmed.charAt(close + 1) != ':') {
        throw new IllegalArgumentException(
            "'" + text + "' is not HOST:PORT; an IPv6 address goes in brackets, e.g. [::1]:6432");
      }
      host = trimmed.substring(1, close);
      port = trimmed.substring(close + 2);
    } else {
      int colon = trimmed.lastIndexOf(':');
      if (colon < 0 || trimmed.indexOf(':') != colon) {
        throw new IllegalArgumentException(
            "'"
                + text
                + "' is not HOST:PORT, e.g. 127.0.0.1:6432 (an IPv6 address goes in brackets,"
                + " e.g. [::1]:6432)");
      }
      host = trimmed.substring(0, colon);
      port = trimmed.substring(colon + 1);
    }
    if (host.isEmpty()) {
      throw new IllegalArgumentException("'" + text + "' has no host, e.g. 127.0.0.1:6432");
    }
    return new HostPort(host, parsePort(port, 0));
  }

  /**
   * Parses a decimal port of at least {@code min}.
   *
   * @throws IllegalArgumentException with a message fit to show the user
   */
  static int parsePort(String text, int min) {
    if (text.isEmpty() || text.length() > 5 || !text.chars().allMatch(c -> c >= '0' && c <= '9')) {
      throw new IllegalArgumentException("port must be a number, found '" + text + "'");
    }
    int port = Integer.parseInt(text);
    if (port < min || port > 65535) {
      throw new IllegalArgumentException(
          "port must be between " + min + " and 65535, found " + port);
    }
    return port;
  }

  /** True for names and addresses that stay on this machine. */
  public boolean isLoopback() {
    return isLoopback(host);
  }

  public static boolean isLoopback(String host) {
    return host.equalsIgnoreCase("localhost")
        || host.startsWith("127.")
        || host.equals("::1")
        || host.equals("0:0:0:0:0:0:0:1");
  }

  /** The socket address to bind; resolves the host name. */
  public InetSocketAddress toSocketAddress() {
    return new InetSocketAddress(host, port);
  }

  @Override
  public String toString() {
    return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
  }
}
