package dev.warden.core.statement;

import java.util.Objects;

/**
 * A table (or view, sequence, any relation) a statement names, as the database will resolve the
 * name: identifiers already case-folded and unquoted.
 *
 * @param schema the schema the name resolves to, or {@code ""} when the statement does not qualify
 *     it and the session's search path decides
 * @param name the relation's name
 */
public record TableRef(String schema, String name) implements Comparable<TableRef> {
  public TableRef {
    Objects.requireNonNull(schema, "schema");
    Objects.requireNonNull(name, "name");
  }

  /** An unqualified name, resolved through the search path. */
  public static TableRef unqualified(String name) {
    return new TableRef("", name);
  }

  public boolean qualified() {
    return !schema.isEmpty();
  }

  /**
   * The name policy matches against: {@code schema.name}, or {@code name} when unqualified.
   * Identifiers are shown as the server stores them, without quotes.
   */
  public String qualifiedName() {
    return schema.isEmpty() ? name : schema + "." + name;
  }

  /**
   * True if this reference can denote the relation {@code pattern} names: {@code name} matches that
   * name in any schema, {@code schema.name} that name in that schema or unqualified (the search
   * path may resolve it there), {@code *.name} and {@code schema.*} what they say.
   */
  public boolean matches(String pattern) {
    int dot = pattern.lastIndexOf('.');
    if (dot < 0) {
      return pattern.equals("*") || name.equals(pattern);
    }
    String s = pattern.substring(0, dot);
    String n = pattern.substring(dot + 1);
    boolean nameMatches = n.equals("*") || name.equals(n);
    return nameMatches && (schema.isEmpty() || s.equals("*") || schema.equals(s));
  }

  @Override
  public int compareTo(TableRef o) {
    int c = schema.compareTo(o.schema);
    return c != 0 ? c : name.compareTo(o.name);
  }

  @Override
  public String toString() {
    return qualifiedName();
  }
}
