package dev.warden.proxy.postgres;

import dev.warden.core.statement.Statement;
import dev.warden.core.statement.StatementKind;
import java.util.Optional;
import java.util.Set;

/** Statement facts for test gatekeepers that classify by the first word, not by analysis. */
final class TestStatements {
  private TestStatements() {}

  /** A statement of {@code kind} with nothing else known (no tables, a WHERE clause assumed). */
  static Statement of(StatementKind kind, String command) {
    return new Statement(
        kind,
        command,
        Set.of(),
        Set.of(),
        Set.of(),
        Set.of(),
        Set.of(),
        true,
        false,
        Set.of(),
        "",
        "",
        Optional.empty());
  }
}
