package dev.warden.core.audit;

import dev.warden.core.statement.LexicalSettings;

/**
 * Removes secrets from statement text before it is recorded (THREATS AD06): passwords, user mapping
 * options, key arguments of cryptographic functions, and, where configured, every literal. One
 * implementation per SQL dialect.
 */
public interface Redactor {
  /**
   * {@code sql} with its secrets replaced, or {@code sql} itself (the same instance) when it holds
   * none. Text that cannot be lexed is redacted whole rather than stored as it is.
   */
  String redact(String sql, LexicalSettings lexical);

  /** Keeps every text as it is: for dialects with no secrets in their text, and for tests. */
  Redactor NONE = (sql, lexical) -> sql;
}
