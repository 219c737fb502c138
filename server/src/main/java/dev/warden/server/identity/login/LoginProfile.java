package dev.warden.server.identity.login;

import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * One remembered login: where to log in, which Warden to connect to, and the tokens of the last
 * login. A second {@code warden login} reads the first three from here and needs no flags.
 *
 * @param name the profile's name ({@code default} unless {@code --profile} says otherwise)
 * @param client the provider and client registration
 * @param proxy Warden's address as {@code HOST:PORT}, when one was given
 * @param tokens the tokens of the last login, absent after a logout
 */
public record LoginProfile(
    String name, ClientRegistration client, Optional<String> proxy, Optional<Tokens> tokens) {
  /** The profile used without {@code --profile}. */
  public static final String DEFAULT = "default";

  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");

  public LoginProfile {
    checkName(name);
    Objects.requireNonNull(client, "client");
    Objects.requireNonNull(proxy, "proxy");
    Objects.requireNonNull(tokens, "tokens");
  }

  /**
   * Checks a profile name: letters, digits, dots, dashes and underscores, at most 64.
   *
   * @throws IllegalArgumentException with a message fit to show
   */
  public static String checkName(String name) {
    if (name == null || !NAME.matcher(name).matches()) {
      throw new IllegalArgumentException(
          "a profile name is 1 to 64 letters, digits, '.', '-' or '_', found '" + name + "'");
    }
    return name;
  }

  /** This profile with other tokens (or none). */
  public LoginProfile withTokens(Optional<Tokens> newTokens) {
    return new LoginProfile(name, client, proxy, newTokens);
  }
}
