package dev.warden.server.identity.login;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.warden.core.identity.Secret;
import dev.warden.store.files.PrivateFiles;
import java.io.IOException;
import java.net.URI;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Iterator;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * The per-user credentials file of {@code warden login}: {@code $WARDEN_CONFIG_DIR}, else {@code
 * $XDG_CONFIG_HOME/warden}, else {@code ~/.config/warden}, file {@code credentials.json}. It holds
 * tokens, so it is created with mode 0600 in a directory created with mode 0700, replaced
 * atomically (a crash leaves the old file or the new one, never half of one), and refused when
 * other users can read it.
 *
 * <p>Layout: {@code {"version":1,"profiles":{"default":{"issuer":...,"client_id":...,"scope":...,
 * "proxy":...,"tokens":{"id_token":...,"access_token":...,"refresh_token":...,
 * "id_token_expires_at":...,"access_token_expires_at":...}}}}}.
 */
public final class CredentialStore {
  /** The file's name inside the configuration directory. */
  public static final String FILE_NAME = "credentials.json";

  static final int MAX_FILE_BYTES = 1024 * 1024;

  private static final Set<PosixFilePermission> OWNER_ONLY_FILE =
      PosixFilePermissions.fromString("rw-------");
  private static final Set<PosixFilePermission> OWNER_ONLY_DIR =
      PosixFilePermissions.fromString("rwx------");

  private final Path file;
  private final ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  public CredentialStore(Path file) {
    this.file = Objects.requireNonNull(file, "file");
  }

  /** The credentials file for the environment {@code env} (a process's environment variables). */
  public static Path defaultFile(Map<String, String> env) {
    String override = env.get("WARDEN_CONFIG_DIR");
    if (override != null && !override.isBlank()) {
      return Path.of(override).resolve(FILE_NAME);
    }
    String xdg = env.get("XDG_CONFIG_HOME");
    if (xdg != null && !xdg.isBlank() && Path.of(xdg).isAbsolute()) {
      return Path.of(xdg, "warden", FILE_NAME);
    }
    String home = env.getOrDefault("HOME", System.getProperty("user.home"));
    return Path.of(home, ".config", "warden", FILE_NAME);
  }

  public Path file() {
    return file;
  }

  /**
   * The profile named {@code name}, if it was saved.
   *
   * @throws LoginException when the file cannot be read, is not valid or is readable by others
   */
  public Optional<LoginProfile> load(String name) {
    JsonNode profile = read().path("profiles").path(name);
    if (!profile.isObject()) {
      return Optional.empty();
    }
    try {
      return Optional.of(profile(name, profile));
    } catch (IllegalArgumentException | DateTimeParseException e) {
      throw new LoginException(
          "the profile '"
              + name
              + "' in "
              + file
              + " is not valid ("
              + e.getMessage()
              + "); run warden login again");
    }
  }

  /** Saves {@code profile}, replacing the one of the same name and keeping the others. */
  public void save(LoginProfile profile) {
    ObjectNode root = read();
    root.put("version", 1);
    JsonNode profiles = root.get("profiles");
    ObjectNode all = profiles instanceof ObjectNode o ? o : root.putObject("profiles");
    all.set(profile.name(), node(profile));
    write(root);
  }

  private ObjectNode read() {
    byte[] bytes;
    try {
      checkPrivate();
      if (Files.size(file) > MAX_FILE_BYTES) {
        throw new LoginException(
            file + " is larger than " + MAX_FILE_BYTES + " bytes; remove it and run warden login");
      }
      bytes = Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      return json.createObjectNode();
    } catch (IOException e) {
      throw new LoginException("cannot read " + file + " (" + e.getMessage() + ")", e);
    }
    JsonNode root;
    try {
      root = json.readTree(bytes);
    } catch (IOException e) {
      throw new LoginException(file + " is not valid JSON; remove it and run warden login");
    }
    if (!(root instanceof ObjectNode object)) {
      throw new LoginException(file + " is not a JSON object; remove it and run warden login");
    }
    return object;
  }

  /** Tokens in a file others can read are refused, as ssh refuses such a private key. */
  private void checkPrivate() throws IOException {
    if (!posix()) {
      return;
    }
    Set<PosixFilePermission> permissions = Files.getPosixFilePermissions(file);
    for (PosixFilePermission p : permissions) {
      if (!OWNER_ONLY_FILE.contains(p)) {
        throw new LoginException(
            file
                + " can be read or changed by other users (mode "
                + PosixFilePermissions.toString(permissions)
                + "); run chmod 600 "
                + file);
      }
    }
  }

  private void write(ObjectNode root) {
    try {
      PrivateFiles.createDirectory(file.toAbsolutePath().getParent());
      byte[] bytes = json.writeValueAsBytes(root);
      byte[] line = java.util.Arrays.copyOf(bytes, bytes.length + 1);
      line[bytes.length] = '\n';
      PrivateFiles.write(file, line);
    } catch (IOException e) {
      throw new LoginException("cannot write " + file + " (" + e.getMessage() + ")", e);
    }
  }

  private boolean posix() {
    return FileSystems.getDefault().supportedFileAttributeViews().contains("posix");
  }

  private ObjectNode node(LoginProfile profile) {
    ObjectNode node = json.createObjectNode();
    ClientRegistration client = profile.client();
    node.put("issuer", client.issuer().toString());
    node.put("client_id", client.clientId());
    client.clientSecret().ifPresent(s -> node.put("client_secret", s.reveal()));
    node.put("scope", client.scope());
    profile.proxy().ifPresent(p -> node.put("proxy", p));
    profile
        .tokens()
        .ifPresent(
            t -> {
              ObjectNode tokens = node.putObject("tokens");
              tokens.put("id_token", t.idToken().reveal());
              tokens.put("access_token", t.accessToken().reveal());
              t.refreshToken().ifPresent(r -> tokens.put("refresh_token", r.reveal()));
              tokens.put("id_token_expires_at", t.idTokenExpiresAt().toString());
              t.accessTokenExpiresAt()
                  .ifPresent(a -> tokens.put("access_token_expires_at", a.toString()));
            });
    return node;
  }

  private static LoginProfile profile(String name, JsonNode node) {
    ClientRegistration client =
        new ClientRegistration(
            URI.create(required(node, "issuer")),
            required(node, "client_id"),
            optional(node, "client_secret").map(Secret::of),
            optional(node, "scope").orElse(ClientRegistration.DEFAULT_SCOPE));
    Optional<Tokens> tokens = Optional.empty();
    JsonNode t = node.path("tokens");
    if (t.isObject()) {
      tokens =
          Optional.of(
              new Tokens(
                  Secret.of(required(t, "id_token")),
                  Secret.of(required(t, "access_token")),
                  optional(t, "refresh_token").map(Secret::of),
                  Instant.parse(required(t, "id_token_expires_at")),
                  optional(t, "access_token_expires_at").map(Instant::parse)));
    }
    return new LoginProfile(name, client, optional(node, "proxy"), tokens);
  }

  private static String required(JsonNode node, String field) {
    return optional(node, field).orElseThrow(() -> new IllegalArgumentException("no " + field));
  }

  private static Optional<String> optional(JsonNode node, String field) {
    JsonNode value = node.get(field);
    return value != null && value.isTextual() && !value.asText().isEmpty()
        ? Optional.of(value.asText())
        : Optional.empty();
  }

  /** The names of the saved profiles, for messages. */
  public java.util.List<String> profileNames() {
    java.util.List<String> names = new java.util.ArrayList<>();
    Iterator<String> it = read().path("profiles").fieldNames();
    it.forEachRemaining(names::add);
    return names;
  }
}
