package dev.warden.server.config;

import dev.warden.core.environment.Environment;
import dev.warden.core.environment.JustInTime;
import dev.warden.core.environment.RoleMapping;
import dev.warden.core.environment.TlsMode;
import dev.warden.core.environment.Upstream;
import dev.warden.core.identity.ClientCertificateSettings;
import dev.warden.core.identity.Secret;
import dev.warden.proxy.postgres.LoginSettings;
import dev.warden.server.identity.oidc.OidcProviderSettings;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;
import org.yaml.snakeyaml.nodes.Tag;

/** Turns one YAML node tree into a {@link WardenConfig}, checking every key and value. */
final class ConfigParser {
  private static final List<String> TOP_KEYS =
      List.of(
          "listen",
          "data-dir",
          "tls",
          "environments",
          "policy",
          "console",
          "audit",
          "data-map",
          "identity",
          "approvals");
  private static final List<String> TLS_KEYS =
      List.of("certificate", "private-key", "required", "client-certificates");
  private static final List<String> CLIENT_CERTIFICATE_KEYS =
      List.of(
          "ca",
          "required",
          "identity-san",
          "common-name-fallback",
          "groups-from-ou",
          "accept-without-eku",
          "crl");
  private static final List<String> IDENTITY_KEYS =
      List.of("oidc", "session-expiry", "expiry-grace");
  private static final List<String> OIDC_KEYS =
      List.of(
          "name",
          "issuer",
          "audience",
          "client-id",
          "user-claims",
          "groups-claim",
          "clock-skew",
          "require-verified-email",
          "jwks-uri",
          "jwks-min-refresh-interval",
          "cache-lifetime",
          "allowed-algorithms",
          "required-claims",
          "http-timeout");
  private static final List<String> APPROVALS_KEYS = List.of("public-url", "notify");
  private static final List<String> NOTIFY_KEYS = List.of("webhook", "secret", "slack");
  private static final List<String> ROLE_KEYS =
      List.of("name", "groups", "identities", "user", "password", "just-in-time");
  private static final List<String> JUST_IN_TIME_KEYS =
      List.of("approvers", "min-approvals", "max-duration", "requestable-by", "break-glass");
  private static final List<String> ENVIRONMENT_KEYS =
      List.of("name", "tags", "databases", "upstream", "mode", "roles");
  private static final List<String> UPSTREAM_KEYS =
      List.of("host", "port", "database", "user", "password", "tls", "ca-file");
  private static final List<String> SECRET_KEYS = List.of("env", "file");
  private static final List<String> AUDIT_KEYS =
      List.of("strict", "bounded-window", "witness", "store", "instance", "export", "parameters");
  private static final List<String> DATA_MAP_KEYS =
      List.of("refresh", "sample-rows", "max-sampled-relations", "statement-timeout");
  private static final List<String> STORE_KEYS = List.of("url", "password");
  private static final List<String> EXPORT_KEYS = List.of("jsonl", "webhook", "secret");
  private static final Pattern DURATION = Pattern.compile("([0-9]{1,9})(us|ms|s|m)");
  private static final Pattern ENVIRONMENT_NAME = Pattern.compile("[A-Za-z0-9_.-]{1,63}");
  private static final int MAX_PASSWORD_FILE_BYTES = 64 * 1024;

  private final String file;
  private final Path baseDir;
  private final Map<String, String> environmentVariables;
  private final Set<String> observed = new LinkedHashSet<>();

  private final boolean readSecrets;

  /**
   * @param readSecrets false for tools: secrets are checked for their form only and come back empty
   */
  ConfigParser(
      String file, Path baseDir, Map<String, String> environmentVariables, boolean readSecrets) {
    this.file = file;
    this.baseDir = baseDir;
    this.environmentVariables = environmentVariables;
    this.readSecrets = readSecrets;
  }

  WardenConfig parse(Node root) throws ConfigException {
    WardenConfig defaults = WardenConfig.defaults();
    if (root == null) {
      return defaults;
    }
    Map<String, NodeTuple> top = entries(root, "the configuration file", TOP_KEYS);
    HostPort listen = defaults.listen();
    if (top.containsKey("listen")) {
      listen = hostPort(top.get("listen"));
    }
    Path dataDir = defaults.dataDir();
    if (top.containsKey("data-dir")) {
      dataDir = path(top.get("data-dir").getValueNode(), "data-dir");
    }
    TlsConfig tls = TlsConfig.generated();
    if (top.containsKey("tls")) {
      tls = tls(top.get("tls"));
    }
    List<Environment> environments = defaults.environments();
    if (top.containsKey("environments")) {
      environments = environments(top.get("environments"));
    }
    Optional<Path> policy = Optional.empty();
    if (top.containsKey("policy")) {
      policy = Optional.of(readableFile(top.get("policy"), "policy"));
    }
    HostPort console = defaults.console();
    if (top.containsKey("console")) {
      console = console(top.get("console"));
    }
    AuditConfig audit = defaults.audit();
    if (top.containsKey("audit")) {
      audit = audit(top.get("audit"));
    }
    DataMapConfig dataMap = defaults.dataMap();
    if (top.containsKey("data-map")) {
      dataMap = dataMap(top.get("data-map"));
    }
    IdentityConfig identity = IdentityConfig.defaults();
    if (top.containsKey("identity")) {
      identity = identity(top.get("identity"));
    }
    ApprovalNotifications approvals = ApprovalNotifications.NONE;
    if (top.containsKey("approvals")) {
      approvals = approvals(top.get("approvals"));
    }
    return new WardenConfig(
        listen,
        dataDir,
        tls,
        environments,
        policy,
        observed,
        console,
        audit,
        dataMap,
        identity,
        approvals);
  }

  private ApprovalNotifications approvals(NodeTuple entry) throws ConfigException {
    Map<String, NodeTuple> keys = entries(entry.getValueNode(), "approvals", APPROVALS_KEYS);
    Optional<URI> publicUrl = Optional.empty();
    if (keys.containsKey("public-url")) {
      publicUrl = Optional.of(providerUrl(keys.get("public-url").getValueNode(), "public-url"));
    }
    List<ApprovalNotifications.Webhook> webhooks = new ArrayList<>();
    List<URI> slack = new ArrayList<>();
    if (keys.containsKey("notify")) {
      Node value = keys.get("notify").getValueNode();
      if (!(value instanceof SequenceNode list)) {
        throw error(
            value,
            "notify must be a list, each item '- webhook: URL' (with secret:) or '- slack: URL'");
      }
      for (Node item : list.getValue()) {
        Map<String, NodeTuple> n = entries(item, "a notification", NOTIFY_KEYS);
        if (n.containsKey("webhook") == n.containsKey("slack")) {
          throw error(item, "a notification is either webhook: URL or slack: URL");
        }
        if (n.containsKey("webhook")) {
          Optional<Secret> secret = Optional.empty();
          if (n.containsKey("secret")) {
            secret = Optional.of(secret(n.get("secret").getValueNode(), "secret"));
          }
          webhooks.add(
              new ApprovalNotifications.Webhook(
                  webhookUrl(n.get("webhook").getValueNode()), secret));
        } else {
          if (n.containsKey("secret")) {
            throw error(n.get("secret").getKeyNode(), "secret is only used with webhook");
          }
          Node slackNode = n.get("slack").getValueNode();
          URI url;
          if (slackNode instanceof ScalarNode) {
            url = webhookUrl(slackNode);
          } else {
            // A Slack URL carries its token: like a password, from a variable or a file.
            String text = secret(slackNode, "slack").reveal();
            try {
              url = new URI(text.strip());
            } catch (URISyntaxException e) {
              throw error(slackNode, "slack is not a valid URL: " + e.getReason());
            }
          }
          slack.add(url);
        }
      }
    }
    try {
      return new ApprovalNotifications(webhooks, slack, publicUrl);
    } catch (IllegalArgumentException e) {
      throw error(entry.getValueNode(), "approvals: " + e.getMessage());
    }
  }

  private IdentityConfig identity(NodeTuple entry) throws ConfigException {
    Map<String, NodeTuple> keys = entries(entry.getValueNode(), "identity", IDENTITY_KEYS);
    List<OidcProviderSettings> providers = new ArrayList<>();
    if (keys.containsKey("oidc")) {
      Node value = keys.get("oidc").getValueNode();
      if (!(value instanceof SequenceNode list)) {
        throw error(
            value,
            "oidc must be a list of providers, each starting with '- name:', found "
                + describe(value));
      }
      Map<String, Node> names = new HashMap<>();
      Map<URI, Node> issuers = new HashMap<>();
      for (Node item : list.getValue()) {
        OidcProviderSettings provider = oidcProvider(item);
        Node first = names.putIfAbsent(provider.name(), item);
        if (first != null) {
          throw error(
              item,
              "duplicate provider name '"
                  + provider.name()
                  + "' (first at line "
                  + line(first)
                  + ")");
        }
        Node sameIssuer = issuers.putIfAbsent(provider.issuer(), item);
        if (sameIssuer != null) {
          throw error(
              item,
              "issuer "
                  + provider.issuer()
                  + " is already configured (line "
                  + line(sameIssuer)
                  + ")");
        }
        providers.add(provider);
      }
    }
    LoginSettings.AtExpiry atExpiry = LoginSettings.AtExpiry.WHEN_IDLE;
    if (keys.containsKey("session-expiry")) {
      Node node = keys.get("session-expiry").getValueNode();
      atExpiry =
          switch (string(node, "session-expiry")) {
            case "when-idle" -> LoginSettings.AtExpiry.WHEN_IDLE;
            case "terminate" -> LoginSettings.AtExpiry.TERMINATE;
            default ->
                throw error(
                    node,
                    "session-expiry must be when-idle (end a session whose credential expired once"
                        + " no transaction is open, within expiry-grace) or terminate (end it at"
                        + " once)");
          };
    }
    Duration grace = IdentityConfig.DEFAULT_GRACE;
    if (keys.containsKey("expiry-grace")) {
      grace =
          duration(
              keys.get("expiry-grace").getValueNode(),
              "expiry-grace",
              "5m",
              Duration.ZERO,
              Duration.ofHours(24));
    }
    return new IdentityConfig(providers, atExpiry, grace);
  }

  private OidcProviderSettings oidcProvider(Node item) throws ConfigException {
    Map<String, NodeTuple> keys = entries(item, "an oidc provider", OIDC_KEYS);
    String name = string(required(keys, "name", item, "an oidc provider").getValueNode(), "name");
    if (!ENVIRONMENT_NAME.matcher(name).matches()) {
      throw error(
          keys.get("name").getValueNode(),
          "provider name '"
              + shorten(name)
              + "' may contain only letters, digits, '_', '-' and '.'");
    }
    String where = "oidc provider '" + name + "'";
    Node issuerNode = required(keys, "issuer", item, where).getValueNode();
    URI issuer = providerUrl(issuerNode, "issuer");
    Node audienceNode = required(keys, "audience", item, where).getValueNode();
    List<String> audiences =
        audienceNode instanceof SequenceNode
            ? strings(audienceNode, "audience", "[warden]")
            : List.of(string(audienceNode, "audience"));
    OidcProviderSettings.Builder builder = OidcProviderSettings.builder(name, issuer, audiences);
    try {
      if (keys.containsKey("client-id")) {
        builder.clientId(string(keys.get("client-id").getValueNode(), "client-id"));
      }
      if (keys.containsKey("user-claims")) {
        builder.userClaims(
            strings(keys.get("user-claims").getValueNode(), "user-claims", "[email, sub]"));
      }
      if (keys.containsKey("groups-claim")) {
        builder.groupsClaim(string(keys.get("groups-claim").getValueNode(), "groups-claim"));
      }
      if (keys.containsKey("clock-skew")) {
        builder.clockSkew(
            duration(
                keys.get("clock-skew").getValueNode(),
                "clock-skew",
                "60s",
                Duration.ZERO,
                Duration.ofMinutes(10)));
      }
      if (keys.containsKey("require-verified-email")) {
        builder.requireVerifiedEmail(
            bool(keys.get("require-verified-email").getValueNode(), "require-verified-email"));
      }
      if (keys.containsKey("jwks-uri")) {
        builder.jwksUri(providerUrl(keys.get("jwks-uri").getValueNode(), "jwks-uri"));
      }
      if (keys.containsKey("jwks-min-refresh-interval")) {
        builder.jwksMinRefreshInterval(
            duration(
                keys.get("jwks-min-refresh-interval").getValueNode(),
                "jwks-min-refresh-interval",
                "30s",
                Duration.ofSeconds(1),
                Duration.ofHours(1)));
      }
      if (keys.containsKey("cache-lifetime")) {
        builder.cacheLifetime(
            duration(
                keys.get("cache-lifetime").getValueNode(),
                "cache-lifetime",
                "15m",
                Duration.ofSeconds(10),
                Duration.ofHours(24)));
      }
      if (keys.containsKey("http-timeout")) {
        builder.httpTimeout(
            duration(
                keys.get("http-timeout").getValueNode(),
                "http-timeout",
                "5s",
                Duration.ofMillis(100),
                Duration.ofMinutes(1)));
      }
      if (keys.containsKey("allowed-algorithms")) {
        builder.allowedAlgorithms(
            Set.copyOf(
                strings(
                    keys.get("allowed-algorithms").getValueNode(),
                    "allowed-algorithms",
                    "[RS256, ES256]")));
      }
      if (keys.containsKey("required-claims")) {
        Node claimsNode = keys.get("required-claims").getValueNode();
        if (!(claimsNode instanceof MappingNode claims)) {
          throw error(
              claimsNode,
              "required-claims must be a mapping, e.g. required-claims: { hd: corp.example }");
        }
        for (NodeTuple claim : claims.getValue()) {
          builder.requiredClaim(
              string(claim.getKeyNode(), "a required claim's name"),
              string(claim.getValueNode(), "a required claim's value"));
        }
      }
      return builder.build();
    } catch (IllegalArgumentException e) {
      throw error(item, where + ": " + e.getMessage());
    }
  }

  /** An identity provider's address: https, or http only on this machine (for tests and demos). */
  private URI providerUrl(Node node, String key) throws ConfigException {
    String text = string(node, key);
    URI url;
    try {
      url = new URI(text);
    } catch (URISyntaxException e) {
      throw error(node, key + " is not a valid URL: " + e.getReason());
    }
    String scheme = url.getScheme() == null ? "" : url.getScheme().toLowerCase(Locale.ROOT);
    if (!scheme.equals("https") && !scheme.equals("http") || url.getHost() == null) {
      throw error(
          node, key + " must be an https:// URL, e.g. https://login.corp.example/realms/main");
    }
    if (scheme.equals("http") && !HostPort.isLoopback(url.getHost())) {
      throw error(
          node,
          key
              + " must use https: keys and tokens from an identity provider must not cross the"
              + " network in clear (http is allowed only on this machine)");
    }
    return url;
  }

  private List<RoleMapping> roles(Node value, String where) throws ConfigException {
    if (!(value instanceof SequenceNode list)) {
      throw error(
          value,
          "roles must be a list, each item '- groups: [analysts]' with 'user:' (and 'password:'),"
              + " found "
              + describe(value));
    }
    List<RoleMapping> roles = new ArrayList<>();
    Map<String, Node> names = new HashMap<>();
    for (Node item : list.getValue()) {
      Map<String, NodeTuple> keys = entries(item, "a role mapping", ROLE_KEYS);
      Optional<String> name = Optional.empty();
      if (keys.containsKey("name")) {
        Node nameNode = keys.get("name").getValueNode();
        String text = string(nameNode, "name");
        if (!RoleMapping.NAME.matcher(text).matches()) {
          throw error(
              nameNode,
              "a role mapping's name is lower-case letters, digits, '_' and '-', starting with a"
                  + " letter (e.g. writer), found '"
                  + shorten(text)
                  + "'");
        }
        Node first = names.putIfAbsent(text, nameNode);
        if (first != null) {
          throw error(
              nameNode,
              where
                  + " has two role mappings named '"
                  + text
                  + "' (the first at line "
                  + line(first)
                  + ")");
        }
        name = Optional.of(text);
      }
      Optional<JustInTime> justInTime = Optional.empty();
      if (keys.containsKey("just-in-time")) {
        NodeTuple entry = keys.get("just-in-time");
        if (name.isEmpty()) {
          throw error(
              entry.getKeyNode(),
              "a role mapping with just-in-time needs a name, which access requests ask for"
                  + " (e.g. name: writer)");
        }
        justInTime = Optional.of(justInTime(entry.getValueNode()));
      }
      List<String> groups = List.of();
      if (keys.containsKey("groups")) {
        groups = strings(keys.get("groups").getValueNode(), "groups", "[analysts]");
      }
      List<String> identities = List.of();
      if (keys.containsKey("identities")) {
        identities =
            strings(keys.get("identities").getValueNode(), "identities", "[alice@corp.example]");
      }
      if (groups.isEmpty() && identities.isEmpty() && justInTime.isEmpty()) {
        throw error(
            item,
            "a role mapping of "
                + where
                + " needs groups or identities (or both), or a name and just-in-time for one"
                + " reached only through access windows");
      }
      String user = string(required(keys, "user", item, "a role mapping").getValueNode(), "user");
      Secret password = Secret.of("");
      if (keys.containsKey("password")) {
        password = secret(keys.get("password").getValueNode());
      }
      roles.add(
          new RoleMapping(
              Set.copyOf(groups), Set.copyOf(identities), user, password, name, justInTime));
    }
    return roles;
  }

  /** A role mapping's {@code just-in-time:} block; {@code {}} takes every default. */
  private JustInTime justInTime(Node node) throws ConfigException {
    Map<String, NodeTuple> keys =
        node instanceof ScalarNode scalar && scalar.getTag().equals(Tag.NULL)
            ? Map.of()
            : entries(node, "just-in-time", JUST_IN_TIME_KEYS);
    JustInTime defaults = JustInTime.DEFAULT;
    Set<String> approvers = defaults.approvers();
    if (keys.containsKey("approvers")) {
      Node value = keys.get("approvers").getValueNode();
      approvers = Set.copyOf(strings(value, "approvers", "[approvers, dba]"));
      if (approvers.isEmpty()) {
        throw error(value, "approvers must name at least one group");
      }
    }
    int minApprovals = defaults.minApprovals();
    if (keys.containsKey("min-approvals")) {
      Node value = keys.get("min-approvals").getValueNode();
      minApprovals = count(value, "min-approvals", 1, 10);
    }
    Duration maxDuration = defaults.maxDuration();
    if (keys.containsKey("max-duration")) {
      Node value = keys.get("max-duration").getValueNode();
      String text = string(value, "max-duration");
      try {
        maxDuration = JustInTime.parseDuration(text);
      } catch (IllegalArgumentException e) {
        throw error(value, "max-duration: " + e.getMessage());
      }
      if (maxDuration.compareTo(JustInTime.MIN_DURATION) < 0
          || maxDuration.compareTo(JustInTime.LONGEST) > 0) {
        throw error(value, "max-duration must be between 1m and 7d, found " + text.strip());
      }
    }
    Set<String> requestableBy = defaults.requestableBy();
    if (keys.containsKey("requestable-by")) {
      Node value = keys.get("requestable-by").getValueNode();
      requestableBy = Set.copyOf(strings(value, "requestable-by", "[engineers]"));
      if (requestableBy.isEmpty()) {
        throw error(
            value,
            "requestable-by must name at least one group; leave it out to let anyone the"
                + " environment admits ask");
      }
    }
    boolean breakGlass = defaults.breakGlass();
    if (keys.containsKey("break-glass")) {
      breakGlass = bool(keys.get("break-glass").getValueNode(), "break-glass");
    }
    return new JustInTime(approvers, minApprovals, maxDuration, requestableBy, breakGlass);
  }

  private DataMapConfig dataMap(NodeTuple entry) throws ConfigException {
    Map<String, NodeTuple> keys = entries(entry.getValueNode(), "data-map", DATA_MAP_KEYS);
    DataMapConfig defaults = DataMapConfig.defaults();
    Duration refresh = defaults.refresh();
    if (keys.containsKey("refresh")) {
      refresh =
          duration(
              keys.get("refresh").getValueNode(),
              "refresh",
              "30s or 5m",
              DataMapConfig.MIN_REFRESH,
              DataMapConfig.MAX_REFRESH);
    }
    int sampleRows = defaults.sampleRows();
    if (keys.containsKey("sample-rows")) {
      sampleRows =
          count(
              keys.get("sample-rows").getValueNode(),
              "sample-rows",
              1,
              DataMapConfig.MAX_SAMPLE_ROWS);
    }
    int maxSampled = defaults.maxSampledRelations();
    if (keys.containsKey("max-sampled-relations")) {
      maxSampled =
          count(
              keys.get("max-sampled-relations").getValueNode(),
              "max-sampled-relations",
              0,
              1_000_000);
    }
    Duration timeout = defaults.statementTimeout();
    if (keys.containsKey("statement-timeout")) {
      timeout =
          duration(
              keys.get("statement-timeout").getValueNode(),
              "statement-timeout",
              "2s or 500ms",
              Duration.ofMillis(1),
              DataMapConfig.MAX_STATEMENT_TIMEOUT);
    }
    return new DataMapConfig(refresh, sampleRows, maxSampled, timeout);
  }

  /** A duration such as {@code 30s}, between {@code min} and {@code max}. */
  private Duration duration(Node node, String key, String example, Duration min, Duration max)
      throws ConfigException {
    String text = string(node, key);
    Matcher m = DURATION.matcher(text.strip());
    if (!m.matches()) {
      throw error(
          node, key + " must be a duration such as " + example + ", found '" + shorten(text) + "'");
    }
    long amount = Long.parseLong(m.group(1));
    Duration value =
        switch (m.group(2)) {
          case "us" -> Duration.ofNanos(amount * 1000);
          case "ms" -> Duration.ofMillis(amount);
          case "s" -> Duration.ofSeconds(amount);
          default -> Duration.ofMinutes(amount);
        };
    if (value.compareTo(min) < 0 || value.compareTo(max) > 0) {
      throw error(
          node,
          key
              + " must be between "
              + human(min)
              + " and "
              + human(max)
              + ", found "
              + text.strip());
    }
    return value;
  }

  private static String human(Duration d) {
    if (d.toMinutes() > 0 && d.toSecondsPart() == 0) {
      return d.toMinutes() + "m";
    }
    if (d.toSeconds() > 0 && d.toMillisPart() == 0) {
      return d.toSeconds() + "s";
    }
    return d.toMillis() + "ms";
  }

  /** A whole number between {@code min} and {@code max}. */
  private int count(Node node, String key, int min, int max) throws ConfigException {
    String text = string(node, key).strip();
    long value;
    try {
      value = text.length() > 10 ? Long.MAX_VALUE : Long.parseLong(text);
    } catch (NumberFormatException e) {
      throw error(node, key + " must be a whole number, found '" + shorten(text) + "'");
    }
    if (value < min || value > max) {
      throw error(node, key + " must be between " + min + " and " + max + ", found " + text);
    }
    return (int) value;
  }

  /**
   * The REST API's address. Only loopback addresses: the API authenticates with HTTP Basic and has
   * no TLS of its own yet, so anywhere else passwords and audit records would cross the network in
   * clear text.
   */
  private HostPort console(NodeTuple entry) throws ConfigException {
    Node value = entry.getValueNode();
    HostPort console;
    try {
      console = HostPort.parse(string(value, "console"));
    } catch (IllegalArgumentException e) {
      throw error(value, "console: " + e.getMessage());
    }
    if (!console.isLoopback()) {
      throw error(
          value,
          "console must be a loopback address such as 127.0.0.1:8080: the REST API has no TLS"
              + " of its own yet, so passwords and audit records would cross the network in clear"
              + " text; put a TLS-terminating reverse proxy in front of it for remote access");
    }
    return console;
  }

  private AuditConfig audit(NodeTuple entry) throws ConfigException {
    Map<String, NodeTuple> keys = entries(entry.getValueNode(), "audit", AUDIT_KEYS);
    AuditConfig defaults = AuditConfig.defaults();
    boolean strict = defaults.strict();
    if (keys.containsKey("strict")) {
      strict = bool(keys.get("strict").getValueNode(), "strict");
    }
    Duration window = defaults.boundedWindow();
    if (keys.containsKey("bounded-window")) {
      window = boundedWindow(keys.get("bounded-window").getValueNode());
    }
    Optional<Path> witness = Optional.empty();
    if (keys.containsKey("witness")) {
      Node node = keys.get("witness").getValueNode();
      Path path = path(node, "witness");
      if (!Files.isDirectory(path)) {
        throw error(
            node,
            "witness directory "
                + path
                + " does not exist; create it, ideally owned by another user or on another"
                + " host's mount, so that Warden can append checkpoints there but not rewrite them");
      }
      witness = Optional.of(path);
    }
    AuditConfig.Store store = defaults.store();
    if (keys.containsKey("store")) {
      store = store(keys.get("store").getValueNode());
    }
    Optional<String> instance = Optional.empty();
    if (keys.containsKey("instance")) {
      Node node = keys.get("instance").getValueNode();
      if (!(node instanceof ScalarNode scalar)) {
        throw error(node, "instance must be a single value, found " + describe(node));
      }
      String name = scalar.getTag().equals(Tag.NULL) ? "" : scalar.getValue();
      if (!name.isEmpty()) {
        if (!AuditConfig.INSTANCE_ID.matcher(name).matches()) {
          throw error(
              node,
              "instance '"
                  + shorten(name)
                  + "' must start with a letter or digit and may contain only letters, digits, '_',"
                  + " '-' and '.' (at most 63); leave it"
                  + " empty to use the id generated and kept in the data directory");
        }
        instance = Optional.of(name);
      }
    }
    List<AuditConfig.Export> exports = List.of();
    if (keys.containsKey("export")) {
      exports = exports(keys.get("export").getValueNode());
    }
    boolean parameters = defaults.recordParameters();
    if (keys.containsKey("parameters")) {
      Node node = keys.get("parameters").getValueNode();
      String value = string(node, "parameters");
      parameters =
          switch (value) {
            case "redacted" -> false;
            case "recorded" -> true;
            default ->
                throw error(
                    node,
                    "parameters must be 'redacted' (bind parameter values are left out of the"
                        + " trail, the default) or 'recorded', found '"
                        + shorten(value)
                        + "'");
          };
    }
    return new AuditConfig(strict, window, witness, store, instance, exports, parameters);
  }

  private Duration boundedWindow(Node node) throws ConfigException {
    String text = string(node, "bounded-window");
    Matcher m = DURATION.matcher(text.strip());
    if (!m.matches()) {
      throw error(
          node,
          "bounded-window must be a duration such as 20ms, 500us or 1s, found '"
              + shorten(text)
              + "'");
    }
    long amount = Long.parseLong(m.group(1));
    Duration window =
        switch (m.group(2)) {
          case "us" -> Duration.ofNanos(amount * 1000);
          case "ms" -> Duration.ofMillis(amount);
          case "s" -> Duration.ofSeconds(amount);
          default -> Duration.ofMinutes(amount);
        };
    if (!window.isPositive() || window.compareTo(AuditConfig.MAX_BOUNDED_WINDOW) > 0) {
      throw error(
          node,
          "bounded-window must be more than 0 and at most "
              + AuditConfig.MAX_BOUNDED_WINDOW.toSeconds()
              + "s, found "
              + text.strip()
              + "; use strict: true to make every record durable at once");
    }
    return window;
  }

  /** {@code store: embedded}, {@code store: URL}, or {@code store: { url: URL, password: ... }}. */
  private AuditConfig.Store store(Node node) throws ConfigException {
    Node urlNode = node;
    Optional<Secret> password = Optional.empty();
    if (node instanceof MappingNode) {
      Map<String, NodeTuple> keys = entries(node, "store", STORE_KEYS);
      urlNode = required(keys, "url", node, "store").getValueNode();
      if (keys.containsKey("password")) {
        password = Optional.of(secret(keys.get("password").getValueNode()));
      }
    }
    String text = string(urlNode, "store");
    if (text.equals("embedded")) {
      if (password.isPresent()) {
        throw error(node, "the embedded store takes no password");
      }
      return new AuditConfig.Store.Embedded();
    }
    if (!text.startsWith("postgresql://") && !text.startsWith("postgres://")) {
      throw error(
          urlNode,
          "store must be embedded or a PostgreSQL URL such as"
              + " postgresql://warden@db.internal:5432/audit");
    }
    Upstream parsed;
    try {
      parsed = UpstreamUrl.parse(text);
    } catch (IllegalArgumentException e) {
      throw error(urlNode, e.getMessage().replace("the upstream URL", "the audit store URL"));
    }
    if (!parsed.password().isEmpty()) {
      throw error(
          urlNode,
          "the audit store URL must not contain a password: write store: { url: ..., password:"
              + " { env: VARIABLE } } or password: { file: /path/to/file }");
    }
    return new AuditConfig.Store.Postgres(
        new Upstream(
            parsed.host(),
            parsed.port(),
            parsed.database(),
            parsed.user(),
            password.orElse(Secret.of("")),
            parsed.tls(),
            parsed.caFile().map(baseDir::resolve)));
  }

  private List<AuditConfig.Export> exports(Node node) throws ConfigException {
    if (!(node instanceof SequenceNode list)) {
      throw error(
          node,
          "export must be a list, each item starting with '- jsonl:' or '- webhook:', found "
              + describe(node));
    }
    List<AuditConfig.Export> exports = new ArrayList<>();
    Map<String, Node> names = new HashMap<>();
    for (Node item : list.getValue()) {
      Map<String, NodeTuple> keys = entries(item, "an export", EXPORT_KEYS);
      AuditConfig.Export export;
      if (keys.containsKey("jsonl") == keys.containsKey("webhook")) {
        throw error(
            item, "each export needs exactly one of jsonl: FILE (or \"-\") or webhook: URL");
      }
      if (keys.containsKey("jsonl")) {
        if (keys.containsKey("secret")) {
          throw error(keys.get("secret").getKeyNode(), "secret is only used with webhook");
        }
        export = jsonLines(keys.get("jsonl").getValueNode());
      } else {
        Optional<Secret> secret = Optional.empty();
        if (keys.containsKey("secret")) {
          secret = Optional.of(secret(keys.get("secret").getValueNode(), "secret"));
        }
        export =
            new AuditConfig.Export.Webhook(webhookUrl(keys.get("webhook").getValueNode()), secret);
      }
      Node first = names.putIfAbsent(export.name(), item);
      if (first != null) {
        throw error(
            item,
            "the export to "
                + export.name()
                + " is already configured at line "
                + line(first)
                + "; each sink may appear once");
      }
      exports.add(export);
    }
    return exports;
  }

  private AuditConfig.Export jsonLines(Node node) throws ConfigException {
    String text = string(node, "jsonl");
    if (text.equals("-")) {
      return new AuditConfig.Export.JsonLines(Optional.empty());
    }
    Path file = path(node, "jsonl");
    Path parent = file.getParent();
    if (parent == null || !Files.isDirectory(parent)) {
      throw error(node, "the directory of the export file " + file + " does not exist");
    }
    if (Files.isDirectory(file)) {
      throw error(node, "the export file " + file + " is a directory; name a file in it");
    }
    return new AuditConfig.Export.JsonLines(Optional.of(file));
  }

  private URI webhookUrl(Node node) throws ConfigException {
    String text = string(node, "webhook");
    URI url;
    try {
      url = new URI(text);
    } catch (URISyntaxException e) {
      // Only the reason: the URL may carry a token in its query.
      throw error(node, "webhook is not a valid URL: " + e.getReason());
    }
    String scheme = url.getScheme() == null ? "" : url.getScheme().toLowerCase(Locale.ROOT);
    if (!scheme.equals("https") && !scheme.equals("http") || url.getHost() == null) {
      throw error(node, "webhook must be an https URL such as https://siem.example/hook");
    }
    if (url.getRawUserInfo() != null) {
      throw error(
          node,
          "the webhook URL must not contain a user or password; sign requests with secret: {"
              + " env: VARIABLE } instead");
    }
    if (scheme.equals("http") && !HostPort.isLoopback(url.getHost())) {
      throw error(
          node,
          "webhook must use https: audit records would cross the network in clear text (plain"
              + " http is accepted only for this machine)");
    }
    return url;
  }

  private HostPort hostPort(NodeTuple entry) throws ConfigException {
    Node value = entry.getValueNode();
    if (value instanceof SequenceNode) {
      throw error(value, "listen must be HOST:PORT; quote an IPv6 address: listen: \"[::1]:6432\"");
    }
    String text = string(value, "listen");
    try {
      return HostPort.parse(text);
    } catch (IllegalArgumentException e) {
      throw error(value, "listen: " + e.getMessage());
    }
  }

  private TlsConfig tls(NodeTuple entry) throws ConfigException {
    Map<String, NodeTuple> keys = entries(entry.getValueNode(), "tls", TLS_KEYS);
    Optional<Path> certificate = Optional.empty();
    Optional<Path> privateKey = Optional.empty();
    if (keys.containsKey("certificate")) {
      certificate = Optional.of(readableFile(keys.get("certificate"), "certificate"));
    }
    if (keys.containsKey("private-key")) {
      privateKey = Optional.of(readableFile(keys.get("private-key"), "private key"));
    }
    if (certificate.isPresent() != privateKey.isPresent()) {
      throw error(
          entry.getKeyNode(),
          "tls needs both certificate and private-key, or neither to use a generated"
              + " self-signed certificate");
    }
    boolean required = false;
    if (keys.containsKey("required")) {
      required = bool(keys.get("required").getValueNode(), "required");
    }
    Optional<TlsConfig.ClientCertificates> clients = Optional.empty();
    if (keys.containsKey("client-certificates")) {
      clients = Optional.of(clientCertificates(keys.get("client-certificates")));
    }
    return new TlsConfig(certificate, privateKey, required, clients);
  }

  private TlsConfig.ClientCertificates clientCertificates(NodeTuple entry) throws ConfigException {
    Map<String, NodeTuple> keys =
        entries(entry.getValueNode(), "client-certificates", CLIENT_CERTIFICATE_KEYS);
    Path ca =
        readableFile(
            required(keys, "ca", entry.getKeyNode(), "client-certificates"), "client CA bundle");
    boolean required = false;
    if (keys.containsKey("required")) {
      required = bool(keys.get("required").getValueNode(), "required");
    }
    ClientCertificateSettings settings = ClientCertificateSettings.defaults();
    if (keys.containsKey("identity-san")) {
      Node node = keys.get("identity-san").getValueNode();
      try {
        settings =
            ClientCertificateSettings.of(
                ClientCertificateSettings.SanType.parse(string(node, "identity-san")));
      } catch (IllegalArgumentException e) {
        throw error(node, "identity-san must be email, dns, uri or upn");
      }
    }
    if (keys.containsKey("common-name-fallback")) {
      settings =
          settings.withCommonNameFallback(
              bool(keys.get("common-name-fallback").getValueNode(), "common-name-fallback"));
    }
    if (keys.containsKey("groups-from-ou")) {
      settings =
          settings.withGroupsFromOrganizationalUnits(
              bool(keys.get("groups-from-ou").getValueNode(), "groups-from-ou"));
    }
    if (keys.containsKey("accept-without-eku")) {
      settings =
          settings.withAcceptWithoutExtendedKeyUsage(
              bool(keys.get("accept-without-eku").getValueNode(), "accept-without-eku"));
    }
    Optional<Path> crl = Optional.empty();
    if (keys.containsKey("crl")) {
      crl = Optional.of(readableFile(keys.get("crl"), "certificate revocation list"));
    }
    return new TlsConfig.ClientCertificates(ca, required, settings, crl);
  }

  private List<Environment> environments(NodeTuple entry) throws ConfigException {
    Node value = entry.getValueNode();
    if (!(value instanceof SequenceNode list)) {
      throw error(
          value,
          "environments must be a list, each item starting with '- name:', found "
              + describe(value));
    }
    if (list.getValue().isEmpty()) {
      throw error(value, "environments must list at least one environment");
    }
    List<Environment> environments = new ArrayList<>();
    Map<String, Node> names = new HashMap<>();
    // Which environment claims a client-visible database name, to refuse ambiguous routing.
    Map<String, String> claims = new HashMap<>();
    Map<String, Node> claimNodes = new HashMap<>();
    for (Node item : list.getValue()) {
      Map<String, NodeTuple> keys = entries(item, "an environment", ENVIRONMENT_KEYS);
      NodeTuple nameEntry = required(keys, "name", item, "an environment");
      String name = string(nameEntry.getValueNode(), "name");
      if (!ENVIRONMENT_NAME.matcher(name).matches()) {
        throw error(
            nameEntry.getValueNode(),
            "environment name '"
                + shorten(name)
                + "' may contain only letters, digits, '_', '-' and '.' (at most 63)");
      }
      Node first = names.putIfAbsent(name, nameEntry.getValueNode());
      if (first != null) {
        throw error(
            nameEntry.getValueNode(),
            "duplicate environment name '"
                + name
                + "' (first defined at line "
                + line(first)
                + ")");
      }
      String where = "environment '" + name + "'";
      List<String> tags = List.of();
      if (keys.containsKey("tags")) {
        tags = strings(keys.get("tags").getValueNode(), "tags", "[production]");
      }
      List<String> databases = List.of();
      List<Node> databaseNodes = new ArrayList<>();
      if (keys.containsKey("databases")) {
        Node databasesNode = keys.get("databases").getValueNode();
        databases = strings(databasesNode, "databases", "[app, billing]");
        databaseNodes.addAll(((SequenceNode) databasesNode).getValue());
      }
      List<String> claimed = new ArrayList<>(databases);
      claimed.add(name);
      List<Node> claimedNodes = new ArrayList<>(databaseNodes);
      claimedNodes.add(nameEntry.getValueNode());
      for (int i = 0; i < claimed.size(); i++) {
        String database = claimed.get(i);
        String owner = claims.putIfAbsent(database, name);
        if (owner != null && !owner.equals(name)) {
          throw error(
              claimedNodes.get(i),
              Environment.ANY_DATABASE.equals(database)
                  ? "only one environment may serve '*'; environment '"
                      + owner
                      + "' already does (line "
                      + line(claimNodes.get(database))
                      + ")"
                  : "database '"
                      + database
                      + "' is already routed to environment '"
                      + owner
                      + "' (line "
                      + line(claimNodes.get(database))
                      + ")");
        }
        claimNodes.putIfAbsent(database, claimedNodes.get(i));
      }
      if (keys.containsKey("mode")) {
        Node modeNode = keys.get("mode").getValueNode();
        switch (string(modeNode, "mode")) {
          case "enforce" -> {}
          case "observe" -> observed.add(name);
          default ->
              throw error(
                  modeNode,
                  "mode must be enforce (policy refuses what it denies) or observe (what policy"
                      + " would refuse runs, and is marked for the audit trail)");
        }
      }
      Upstream upstream = upstream(required(keys, "upstream", item, where), where);
      List<RoleMapping> roles = List.of();
      if (keys.containsKey("roles")) {
        roles = roles(keys.get("roles").getValueNode(), where);
      }
      environments.add(new Environment(name, Set.copyOf(tags), databases, upstream, roles));
    }
    return environments;
  }

  private Upstream upstream(NodeTuple entry, String where) throws ConfigException {
    Map<String, NodeTuple> keys = entries(entry.getValueNode(), "upstream", UPSTREAM_KEYS);
    String host = string(required(keys, "host", entry.getKeyNode(), where).getValueNode(), "host");
    int port = 5432;
    if (keys.containsKey("port")) {
      port = port(keys.get("port").getValueNode());
    }
    Optional<String> database = Optional.empty();
    if (keys.containsKey("database")) {
      database = Optional.of(string(keys.get("database").getValueNode(), "database"));
    }
    String user = string(required(keys, "user", entry.getKeyNode(), where).getValueNode(), "user");
    Secret password = Secret.of("");
    if (keys.containsKey("password")) {
      password = secret(keys.get("password").getValueNode());
    }
    TlsMode tls = HostPort.isLoopback(host) ? TlsMode.DISABLE : TlsMode.VERIFY_FULL;
    if (keys.containsKey("tls")) {
      Node value = keys.get("tls").getValueNode();
      try {
        tls = UpstreamUrl.tlsMode(string(value, "tls"));
      } catch (IllegalArgumentException e) {
        throw error(value, e.getMessage());
      }
    }
    Optional<Path> caFile = Optional.empty();
    if (keys.containsKey("ca-file")) {
      if (tls != TlsMode.VERIFY_FULL) {
        throw error(
            keys.get("ca-file").getKeyNode(),
            "ca-file is only used with tls: verify-full (this upstream has tls: "
                + tls.name().toLowerCase(Locale.ROOT).replace('_', '-')
                + ")");
      }
      caFile = Optional.of(readableFile(keys.get("ca-file"), "ca-file"));
    }
    return new Upstream(host, port, database, user, password, tls, caFile);
  }

  /**
   * An upstream password from an environment variable or a file. Inline passwords are refused:
   * configuration files are copied, committed and pasted into tickets (THREATS.md §7, "Secrets").
   */
  private Secret secret(Node value) throws ConfigException {
    return secret(value, "password");
  }

  /** A secret under the key {@code key}, as {@code key: { env: NAME }} or {@code { file: F }}. */
  private Secret secret(Node value, String key) throws ConfigException {
    if (value instanceof ScalarNode scalar) {
      if (scalar.getTag().equals(Tag.NULL)) {
        throw error(
            value,
            key
                + " is empty; leave it out"
                + (key.equals("password") ? " for trust or certificate authentication" : "")
                + ", or write "
                + key
                + ": { env: VARIABLE } or "
                + key
                + ": { file: /path/to/file }");
      }
      throw error(
          value,
          "inline "
              + (key.equals("password") ? "passwords" : "secrets")
              + " are not allowed: put the "
              + key
              + " in an environment variable and write "
              + key
              + ": { env: VARIABLE }, or in a file only Warden can read and write "
              + key
              + ": { file: /path/to/file }");
    }
    Map<String, NodeTuple> keys = entries(value, key, SECRET_KEYS);
    if (keys.size() != 1) {
      throw error(
          value,
          key + " must have exactly one of env or file, e.g. " + key + ": { env: VARIABLE }");
    }
    if (!readSecrets) {
      if (keys.containsKey("env")) {
        string(keys.get("env").getValueNode(), "env");
      } else {
        path(keys.get("file").getValueNode(), "file");
      }
      return Secret.of("");
    }
    if (keys.containsKey("env")) {
      Node variableNode = keys.get("env").getValueNode();
      String variable = string(variableNode, "env");
      String found = environmentVariables.get(variable);
      if (found == null) {
        throw error(variableNode, "environment variable " + variable + " is not set");
      }
      if (found.isEmpty()) {
        throw error(variableNode, "environment variable " + variable + " is empty");
      }
      return Secret.of(found);
    }
    Node fileNode = keys.get("file").getValueNode();
    Path path = path(fileNode, "file");
    byte[] bytes;
    try {
      if (Files.size(path) > MAX_PASSWORD_FILE_BYTES) {
        throw error(fileNode, key + " file " + path + " is larger than 64 KiB");
      }
      bytes = Files.readAllBytes(path);
    } catch (IOException e) {
      throw error(fileNode, "cannot read " + key + " file " + path + ": " + reason(e));
    }
    // One trailing line break is what `echo secret > file` leaves; it is not part of the secret.
    int length = bytes.length;
    if (length > 0 && bytes[length - 1] == '\n') {
      length--;
      if (length > 0 && bytes[length - 1] == '\r') {
        length--;
      }
    }
    if (length == 0) {
      throw error(fileNode, key + " file " + path + " is empty");
    }
    byte[] trimmed = Arrays.copyOf(bytes, length);
    Arrays.fill(bytes, (byte) 0);
    Secret secret = Secret.ofBytes(trimmed);
    Arrays.fill(trimmed, (byte) 0);
    return secret;
  }

  private Path readableFile(NodeTuple entry, String what) throws ConfigException {
    Path path = path(entry.getValueNode(), what);
    if (!Files.isRegularFile(path)) {
      throw error(entry.getValueNode(), what + " " + path + " does not exist or is not a file");
    }
    if (!Files.isReadable(path)) {
      throw error(entry.getValueNode(), what + " " + path + " is not readable");
    }
    return path;
  }

  // ---- typed values ---------------------------------------------------------------------------

  /**
   * The entries of a mapping, in order, after refusing duplicate and unknown keys.
   *
   * @param what how the mapping is named in messages
   */
  private Map<String, NodeTuple> entries(Node node, String what, List<String> allowed)
      throws ConfigException {
    if (!(node instanceof MappingNode mapping)) {
      throw error(node, what + " must be a mapping of key: value lines, found " + describe(node));
    }
    Map<String, NodeTuple> entries = new LinkedHashMap<>();
    for (NodeTuple tuple : mapping.getValue()) {
      if (!(tuple.getKeyNode() instanceof ScalarNode keyNode)) {
        throw error(
            tuple.getKeyNode(), "keys must be plain names, found " + describe(tuple.getKeyNode()));
      }
      String key = keyNode.getValue();
      if (!allowed.contains(key)) {
        String hint =
            Suggestions.closest(key, allowed)
                .map(s -> " (did you mean '" + s + "'?)")
                .orElse("; expected one of: " + String.join(", ", allowed));
        throw error(keyNode, "unknown key '" + shorten(key) + "' in " + what + hint);
      }
      NodeTuple first = entries.putIfAbsent(key, tuple);
      if (first != null) {
        throw error(
            keyNode,
            "duplicate key '"
                + key
                + "' in "
                + what
                + " (first at line "
                + line(first.getKeyNode())
                + ")");
      }
    }
    return entries;
  }

  private NodeTuple required(Map<String, NodeTuple> keys, String key, Node anchor, String what)
      throws ConfigException {
    NodeTuple entry = keys.get(key);
    if (entry == null) {
      throw error(anchor, what + " is missing the required key '" + key + "'");
    }
    return entry;
  }

  private String string(Node node, String key) throws ConfigException {
    if (!(node instanceof ScalarNode scalar)) {
      throw error(node, key + " must be a single value, found " + describe(node));
    }
    if (scalar.getTag().equals(Tag.NULL) || scalar.getValue().isBlank()) {
      throw error(node, key + " must not be empty");
    }
    return scalar.getValue();
  }

  private List<String> strings(Node node, String key, String example) throws ConfigException {
    if (!(node instanceof SequenceNode sequence)) {
      throw error(node, key + " must be a list, e.g. " + key + ": " + example);
    }
    Set<String> values = new LinkedHashSet<>();
    for (Node item : sequence.getValue()) {
      String value = string(item, "each of " + key);
      if (!values.add(value)) {
        throw error(item, key + " lists '" + shorten(value) + "' twice");
      }
    }
    return List.copyOf(values);
  }

  private int port(Node node) throws ConfigException {
    String text = string(node, "port");
    try {
      return HostPort.parsePort(text, 1);
    } catch (IllegalArgumentException e) {
      throw error(node, e.getMessage());
    }
  }

  private boolean bool(Node node, String key) throws ConfigException {
    if (node instanceof ScalarNode scalar && scalar.getTag().equals(Tag.BOOL)) {
      String value = scalar.getValue().toLowerCase(Locale.ROOT);
      if (value.equals("true")) {
        return true;
      }
      if (value.equals("false")) {
        return false;
      }
    }
    throw error(node, key + " must be true or false, found " + describe(node));
  }

  private Path path(Node node, String key) throws ConfigException {
    String text = string(node, key);
    try {
      Path path = Path.of(text);
      return path.isAbsolute() ? path : baseDir.resolve(path).normalize();
    } catch (InvalidPathException e) {
      throw error(node, key + " is not a valid path: " + e.getReason());
    }
  }

  // ---- messages -------------------------------------------------------------------------------

  private ConfigException error(Node node, String problem) {
    return new ConfigException(file, line(node), node.getStartMark().getColumn() + 1, problem);
  }

  private static int line(Node node) {
    return node.getStartMark().getLine() + 1;
  }

  private static String describe(Node node) {
    return switch (node) {
      case MappingNode m -> "a mapping";
      case SequenceNode s -> "a list";
      case ScalarNode s when s.getTag().equals(Tag.NULL) -> "nothing";
      case ScalarNode s -> "'" + shorten(s.getValue()) + "'";
      default -> "an unsupported value";
    };
  }

  private static String shorten(String value) {
    return value.length() <= 40 ? value : value.substring(0, 37) + "...";
  }

  /** A short reason for a failed file operation, without its stack trace. */
  static String reason(IOException e) {
    return switch (e) {
      case NoSuchFileException n -> "no such file";
      case AccessDeniedException a -> "permission denied";
      default -> e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
    };
  }
}
