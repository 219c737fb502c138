package dev.warden.sql.postgres;

import com.fasterxml.jackson.databind.JsonNode;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Optional;

/**
 * Reads the value of a constant in the parse tree. Every read goes through here and is recorded,
 * because facts that depend on a constant's value must never be served for a text that differs only
 * in constants (the literal-free cache).
 */
final class Constants {
  /** A constant's value: a number, a string, a boolean, or SQL NULL ({@code value} empty). */
  record Value(Optional<Object> value) {
    boolean isNull() {
      return value.isEmpty();
    }
  }

  private final byte[] utf8;
  private boolean read;

  Constants(byte[] utf8) {
    this.utf8 = utf8;
  }

  /** Whether any constant's value has been read. */
  boolean anyRead() {
    return read;
  }

  /** True for an {@code A_Const} body (or node), without reading its value. */
  static boolean isConstant(JsonNode node) {
    return node != null && node.has("A_Const");
  }

  /**
   * The value of an {@code A_Const} node, or empty if it cannot be known exactly (libpg_query 15's
   * JSON drops negative integers: it writes {@code "ival":{}} for them and for 0, so only a literal
   * 0 in the text is taken as 0).
   */
  Optional<Value> value(JsonNode node) {
    JsonNode c = node == null ? null : node.get("A_Const");
    if (c == null) {
      return Optional.empty();
    }
    read = true;
    if (c.path("isnull").asBoolean(false)) {
      return Optional.of(new Value(Optional.empty()));
    }
    if (c.has("boolval")) {
      return Optional.of(
          new Value(Optional.of(c.path("boolval").path("boolval").asBoolean(false))));
    }
    if (c.has("sval")) {
      return Optional.of(new Value(Optional.of(c.path("sval").path("sval").asText(""))));
    }
    if (c.has("fval")) {
      try {
        return Optional.of(
            new Value(Optional.of(new BigDecimal(c.path("fval").path("fval").asText()))));
      } catch (NumberFormatException e) {
        return Optional.empty();
      }
    }
    if (c.has("ival")) {
      JsonNode ival = c.path("ival").get("ival");
      if (ival != null) {
        return Optional.of(new Value(Optional.of(BigDecimal.valueOf(ival.asLong()))));
      }
      return integerAt(c.path("location").asInt(-1)).map(v -> new Value(Optional.of(v)));
    }
    return Optional.empty(); // bit strings: never needed as values
  }

  /** The integer written at byte {@code location}: an optional minus, spaces, then digits. */
  private Optional<BigDecimal> integerAt(int location) {
    if (location < 0 || location >= utf8.length) {
      return Optional.empty();
    }
    int i = location;
    boolean negative = utf8[i] == '-';
    if (negative) {
      i++;
      while (i < utf8.length
          && (utf8[i] == ' ' || utf8[i] == '\t' || utf8[i] == '\n' || utf8[i] == '\r')) {
        i++;
      }
    }
    int start = i;
    while (i < utf8.length && utf8[i] >= '0' && utf8[i] <= '9') {
      i++;
    }
    if (i == start || i - start > 18) {
      return Optional.empty();
    }
    BigDecimal value =
        new BigDecimal(new String(utf8, start, i - start, StandardCharsets.US_ASCII));
    return Optional.of(negative ? value.negate() : value);
  }

  /** A string constant's text, or empty for anything else. */
  Optional<String> string(JsonNode node) {
    return value(node)
        .flatMap(Value::value)
        .filter(String.class::isInstance)
        .map(String.class::cast);
  }

  /** Records that constants' values decided a fact, without reading one here. */
  void markRead() {
    read = true;
  }

  /** Marks that a plain string in the tree (a file name, an option) decided a fact. */
  String text(JsonNode node) {
    read = true;
    return node == null ? "" : node.asText("");
  }

  /**
   * PostgreSQL's reading of a boolean setting or option ({@code parse_bool}): true, false, on, off,
   * yes, no, 1, 0 and unique prefixes, any case; empty when it is none of them.
   */
  static Optional<Boolean> parseBool(String text) {
    String s = text.strip().toLowerCase(Locale.ROOT);
    if (s.isEmpty()) {
      return Optional.empty();
    }
    if ("true".startsWith(s) || "yes".startsWith(s) || s.equals("on") || s.equals("1")) {
      return Optional.of(true);
    }
    if ("false".startsWith(s)
        || "no".startsWith(s)
        || s.equals("of")
        || s.equals("off")
        || s.equals("0")) {
      return Optional.of(false);
    }
    return Optional.empty();
  }

  /** A constant read as a boolean, as a setting value or a cast to boolean would. */
  Optional<Boolean> bool(JsonNode node) {
    Optional<Value> v = value(node);
    if (v.isEmpty() || v.get().isNull()) {
      return Optional.empty();
    }
    Object value = v.get().value().orElseThrow();
    if (value instanceof Boolean b) {
      return Optional.of(b);
    }
    if (value instanceof String s) {
      return parseBool(s);
    }
    if (value instanceof BigDecimal d) {
      return Optional.of(d.signum() != 0);
    }
    return Optional.empty();
  }
}
