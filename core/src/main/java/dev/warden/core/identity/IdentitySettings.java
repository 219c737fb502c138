package dev.warden.core.identity;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeSet;

/**
 * The settings that show a database session who is connected: every session Warden opens for an
 * identity carries them ({@code warden.identity}, {@code warden.groups}, {@code
 * warden.auth_method}, {@code warden.on_behalf_of}), so that row-level security and the database's
 * own logs can read the verified identity.
 *
 * <p>{@value #REASON} is not one of them: it is the reason the person gives for what they do, which
 * they may set themselves ({@code SET warden.reason = '...'}). Every other {@code warden.*} name is
 * Warden's.
 */
public final class IdentitySettings {
  private IdentitySettings() {}

  /**
   * The setting a session gives its reason with; the one {@code warden.*} setting it may change.
   */
  public static final String REASON = "warden.reason";

  /**
   * The longest reason {@value #REASON} may hold, in characters (UTF-16 code units, as Java counts
   * them): as long as the reason a {@code /* reason: ... *}{@code /} comment gives.
   */
  public static final int MAX_REASON_LENGTH = 1000;

  /**
   * Whether {@code name}, a setting's name as the SQL parser hands it over (unquoted parts already
   * in lower case, quoted ones as written), is {@value #REASON}. PostgreSQL compares setting names
   * folding ASCII letters only ({@code guc_name_compare}), so this does too: {@code
   * "Warden".REASON} is the reason, a name with a non-ASCII letter that Java would fold to the same
   * is not.
   */
  public static boolean isReason(String name) {
    if (name.length() != REASON.length()) {
      return false;
    }
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      if (c >= 'A' && c <= 'Z') {
        c = (char) (c + ('a' - 'A'));
      }
      if (c != REASON.charAt(i)) {
        return false;
      }
    }
    return true;
  }

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
