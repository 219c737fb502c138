package dev.warden.proxy.postgres;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The parameters of a client's StartupMessage, checked before anything is done with them.
 *
 * <p>Every parameter other than {@code user} and {@code database} becomes a server setting on the
 * upstream connection, so they are allowlisted: a client must not be able to choose the upstream
 * role ({@code role}, {@code session_authorization}), turn on replication (which bypasses SQL
 * governance, THREATS AU14), or forge Warden's own {@code warden.*} settings. The {@code options}
 * parameter is split the way the server splits it ({@code pg_split_opts}: white space separates,
 * backslash escapes) and each {@code -c name=value} is held to the same allowlist, then rebuilt
 * rather than passed through, so the server cannot read it differently (THREATS P06).
 */
record StartupParameters(
    String user, String database, String applicationName, Map<String, String> upstreamSettings) {

  /** Settings a client may choose at connection start, lower-cased. */
  static final Set<String> ALLOWED_SETTINGS =
      Set.of(
          "application_name",
          "client_encoding",
          "datestyle",
          "timezone",
          "intervalstyle",
          "extra_float_digits",
          "search_path",
          "statement_timeout",
          "lock_timeout",
          "idle_in_transaction_session_timeout",
          "idle_session_timeout",
          "default_transaction_isolation",
          "default_transaction_read_only",
          "default_transaction_deferrable",
          "bytea_output",
          "lc_messages",
          "lc_monetary",
          "lc_numeric",
          "lc_time",
          "geqo",
          "jit",
          "work_mem",
          "enable_seqscan",
          "timezone_abbreviations");

  static final int MAX_NAME_BYTES = 63;
  private static final int MAX_OPTION_SETTINGS = 64;

  /** Why a startup was refused. */
  static final class Rejected extends Exception {
    private final String sqlState;

    Rejected(String sqlState, String message) {
      super(message);
      this.sqlState = sqlState;
    }

    String sqlState() {
      return sqlState;
    }
  }

  static StartupParameters from(Map<String, String> parameters) throws Rejected {
    String user = parameters.get("user");
    if (user == null || user.isEmpty()) {
      throw new Rejected(
          ClientErrors.INVALID_AUTHORIZATION,
          "no PostgreSQL user name specified in startup packet");
    }
    checkName("user", user);
    String database = Optional.ofNullable(parameters.get("database")).orElse(user);
    if (database.isEmpty()) {
      database = user;
    }
    checkName("database", database);
    Map<String, String> settings = new LinkedHashMap<>();
    for (Map.Entry<String, String> e : parameters.entrySet()) {
      String name = e.getKey();
      String lower = name.toLowerCase(Locale.ROOT);
      switch (lower) {
        case "user", "database" -> {}
        case "options" -> {
          String rebuilt = rebuildOptions(e.getValue());
          if (!rebuilt.isEmpty()) {
            settings.put("options", rebuilt);
          }
        }
        case "replication" ->
            throw new Rejected(
                ClientErrors.INSUFFICIENT_PRIVILEGE,
                "replication connections are not allowed through Warden");
        default -> {
          if (lower.startsWith("_pq_.")) {
            continue; // protocol extensions: answered with NegotiateProtocolVersion, never
            // forwarded
          }
          checkAllowed(name);
          settings.put(name, e.getValue());
        }
      }
    }
    String app = parameters.getOrDefault("application_name", "");
    return new StartupParameters(user, database, app, Map.copyOf(settings));
  }

  private static void checkAllowed(String name) throws Rejected {
    if (!ALLOWED_SETTINGS.contains(name.toLowerCase(Locale.ROOT))) {
      throw new Rejected(
          ClientErrors.INSUFFICIENT_PRIVILEGE,
          "parameter \"" + name + "\" cannot be set at connection start through Warden");
    }
  }

  private static void checkName(String what, String value) throws Rejected {
    if (value.getBytes(StandardCharsets.UTF_8).length > MAX_NAME_BYTES) {
      throw new Rejected(
          ClientErrors.INVALID_AUTHORIZATION,
          what + " name is longer than " + MAX_NAME_BYTES + " bytes");
    }
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (Character.isISOControl(c)) {
        throw new Rejected(
            ClientErrors.INVALID_AUTHORIZATION, what + " name contains a control character");
      }
    }
  }

  /**
   * Splits {@code options} as PostgreSQL's {@code pg_split_opts} does and rebuilds it from the
   * allowed {@code -c name=value} settings only.
   */
  static String rebuildOptions(String options) throws Rejected {
    List<String> words = splitOptions(options);
    StringBuilder out = new StringBuilder();
    int settings = 0;
    for (int i = 0; i < words.size(); i++) {
      String word = words.get(i);
      String setting;
      if (word.equals("-c")) {
        if (i + 1 >= words.size()) {
          throw new Rejected(
              ClientErrors.PROTOCOL_VIOLATION, "invalid options: -c requires a value");
        }
        setting = words.get(++i);
      } else if (word.startsWith("-c")) {
        setting = word.substring(2);
      } else if (word.startsWith("--")) {
        setting = word.substring(2);
      } else {
        throw new Rejected(
            ClientErrors.INSUFFICIENT_PRIVILEGE,
            "only -c name=value settings are allowed in options through Warden");
      }
      int eq = setting.indexOf('=');
      if (eq <= 0) {
        throw new Rejected(ClientErrors.PROTOCOL_VIOLATION, "invalid options: expected name=value");
      }
      if (++settings > MAX_OPTION_SETTINGS) {
        throw new Rejected(ClientErrors.PROTOCOL_VIOLATION, "too many settings in options");
      }
      String name = setting.substring(0, eq).replace('-', '_');
      checkAllowed(name);
      if (!out.isEmpty()) {
        out.append(' ');
      }
      out.append("-c ").append(StartupOptions.escape(name + "=" + setting.substring(eq + 1)));
    }
    return out.toString();
  }

  private static List<String> splitOptions(String options) {
    List<String> words = new ArrayList<>();
    StringBuilder word = new StringBuilder();
    boolean inWord = false;
    for (int i = 0; i < options.length(); i++) {
      char c = options.charAt(i);
      if (c == '\\' && i + 1 < options.length()) {
        word.append(options.charAt(++i));
        inWord = true;
      } else if (Character.isWhitespace(c)) {
        if (inWord) {
          words.add(word.toString());
          word.setLength(0);
          inWord = false;
        }
      } else {
        word.append(c);
        inWord = true;
      }
    }
    if (inWord) {
      words.add(word.toString());
    }
    return words;
  }
}
