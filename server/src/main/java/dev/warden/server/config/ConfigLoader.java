package dev.warden.server.config;

import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.Node;

/**
 * Reads Warden's YAML configuration file. Every problem is reported with the file, line and column
 * it was found at, and the configuration is checked completely at start: environment variables and
 * password files are read now, so that a mistake stops Warden before it accepts a connection rather
 * than when the first client is routed.
 *
 * <p>Relative paths in the file are resolved against the file's directory.
 */
public final class ConfigLoader {
  /** A configuration file larger than this is refused before it is parsed. */
  static final int MAX_FILE_BYTES = 1 << 20;

  private static final Pattern UNQUOTED_BRACKET = Pattern.compile(":\\s*\\[[0-9A-Fa-f]*:");

  private final Map<String, String> environmentVariables;
  private final boolean readSecrets;

  /**
   * @param environmentVariables where {@code password: { env: NAME }} is looked up; in production
   *     {@link System#getenv()}
   */
  public ConfigLoader(Map<String, String> environmentVariables) {
    this(environmentVariables, true);
  }

  private ConfigLoader(Map<String, String> environmentVariables, boolean readSecrets) {
    this.environmentVariables = Map.copyOf(environmentVariables);
    this.readSecrets = readSecrets;
  }

  /**
   * A loader for tools that only need addresses and paths from the file ({@code warden audit ...}):
   * secrets are checked for their form but neither looked up nor read, and come back empty, so that
   * a tool run by someone without the server's environment or password files still finds the
   * console address and the data directory. Never start a server from what it loads.
   */
  public ConfigLoader withoutSecrets() {
    return new ConfigLoader(environmentVariables, false);
  }

  /** Reads and checks the configuration file at {@code file}. */
  public WardenConfig load(Path file) throws ConfigException {
    String name = file.toString();
    String text;
    try {
      if (Files.size(file) > MAX_FILE_BYTES) {
        throw new ConfigException(
            "configuration file " + name + " is larger than " + MAX_FILE_BYTES + " bytes");
      }
      text =
          StandardCharsets.UTF_8
              .newDecoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT)
              .decode(java.nio.ByteBuffer.wrap(Files.readAllBytes(file)))
              .toString();
    } catch (CharacterCodingException e) {
      throw new ConfigException("configuration file " + name + " is not valid UTF-8");
    } catch (IOException e) {
      throw new ConfigException(
          "cannot read configuration file " + name + ": " + ConfigParser.reason(e));
    }
    Path baseDir = file.toAbsolutePath().getParent();
    return parse(name, baseDir, text);
  }

  /** Parses configuration text; {@code name} is the file name shown in messages. */
  WardenConfig parse(String name, Path baseDir, String text) throws ConfigException {
    LoaderOptions options = new LoaderOptions();
    options.setCodePointLimit(MAX_FILE_BYTES);
    options.setMaxAliasesForCollections(10);
    options.setNestingDepthLimit(20);
    options.setAllowRecursiveKeys(false);
    Node root;
    try {
      root = new Yaml(options).compose(new StringReader(text));
    } catch (MarkedYAMLException e) {
      // Only the problem and its position: SnakeYAML's full message quotes the offending line,
      // which may hold a password someone wrote inline.
      Mark mark = e.getProblemMark() != null ? e.getProblemMark() : e.getContextMark();
      String problem = e.getProblem() != null ? e.getProblem() : "malformed YAML";
      if (mark == null) {
        throw new ConfigException(name + ": invalid YAML: " + problem);
      }
      throw new ConfigException(
          name,
          mark.getLine() + 1,
          mark.getColumn() + 1,
          "invalid YAML: " + problem + hint(text, mark.getLine()));
    } catch (YAMLException e) {
      throw new ConfigException(name + ": invalid YAML: " + e.getMessage());
    }
    return new ConfigParser(name, baseDir, environmentVariables, readSecrets).parse(root);
  }

  /** Explains the one YAML mistake that address syntax invites: {@code [::1]} is a YAML list. */
  private static String hint(String text, int line) {
    List<String> lines = text.lines().toList();
    if (line < lines.size() && UNQUOTED_BRACKET.matcher(lines.get(line)).find()) {
      return " (an IPv6 address must be quoted, e.g. listen: \"[::1]:6432\")";
    }
    return "";
  }
}
