package dev.warden.sql.postgres;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Which columns each statement of {@code column-uses.txt} computes and filters on (the THREATS M01
 * to M04, M11, M12, M15 and M17 forms), with the rest of its facts, and the same for its case,
 * whitespace and comment mutations: masking relies on a sensitive column never being missed where
 * its value can reach a result without an origin.
 */
class ColumnUseFactsTest {
  @TestFactory
  Stream<DynamicTest> everyCaseHasItsColumnUses() throws IOException {
    return StatementFactsTest.cases("column-uses.txt").stream()
        .map(
            c ->
                DynamicTest.dynamicTest(
                    c.sql(), () -> StatementFactsTest.check(c.sql(), c.expected())));
  }

  @TestFactory
  Stream<DynamicTest> mutationsKeepTheColumnUses() throws IOException {
    List<DynamicTest> tests = new ArrayList<>();
    for (StatementFactsTest.Case c : StatementFactsTest.cases("column-uses.txt")) {
      if (c.sql().matches(".*['\"$\\\\].*|.*--.*|.*/\\*.*")) {
        continue;
      }
      for (String mutant : StatementFactsTest.mutants(c.sql())) {
        tests.add(
            DynamicTest.dynamicTest(mutant, () -> StatementFactsTest.check(mutant, c.expected())));
      }
    }
    return tests.stream();
  }
}
