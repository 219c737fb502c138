package dev.warden.core.identity;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeSet;

/**
 * The settings that show a database session who is connected: every session Warden opens for an
 * identity carries them ({@code warden.identity}, {@code warden.groups}, {@code
 * warden.auth_method}, {@code warden.on_behalf_of}), so that row-level security and the database's
 * own logs can read the verified identity.
 */
public final class IdentitySettings {
  private IdentitySettings() {}

  /** The settings for {@code identity}, in a fixed order. */
  public static Map<String, String> of(Identity identity) {
    Map<String, String> settings = new LinkedHashMap<>();
    settings.put("warden.identity", identity.name());
    settings.put("warden.groups", String.join(",", new TreeSet<>(identity.groups())));
    settings.put("warden.auth_method", identity.methodName());
    settings.put("warden.on_behalf_of", identity.onBehalfOf().orElse(""));
    return settings;
  }
}
