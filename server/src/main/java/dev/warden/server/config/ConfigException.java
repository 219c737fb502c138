package dev.warden.server.config;

import java.util.OptionalInt;

/**
 * A configuration that Warden refuses to start with. The message names the file, the line and
 * column (1-based) and what is wrong, in the {@code file:line:column: problem} form editors and
 * terminals recognise; it never contains a secret's value.
 */
public final class ConfigException extends Exception {
  private static final long serialVersionUID = 1L;

  private final transient OptionalInt line;
  private final transient OptionalInt column;

  /** A problem at a position in a file. */
  public ConfigException(String file, int line, int column, String problem) {
    super(file + ":" + line + ":" + column + ": " + problem);
    this.line = OptionalInt.of(line);
    this.column = OptionalInt.of(column);
  }

  /** A problem with no position, such as a file that cannot be read or a bad command-line flag. */
  public ConfigException(String problem) {
    super(problem);
    this.line = OptionalInt.empty();
    this.column = OptionalInt.empty();
  }

  /** The 1-based line of the problem, when it has one. */
  public OptionalInt line() {
    return line;
  }

  /** The 1-based column of the problem, when it has one. */
  public OptionalInt column() {
    return column;
  }
}
