package dev.warden.sql.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.core.statement.Analysis;
import dev.warden.core.statement.ColumnRef;
import dev.warden.core.statement.LexicalSettings;
import dev.warden.core.statement.Statement;
import dev.warden.core.statement.StatementFlag;
import dev.warden.core.statement.StatementKind;
import dev.warden.core.statement.TableRef;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * The exact facts of each statement in {@code statements.txt} (the THREATS G and S cases and their
 * variants), and the same facts for its case, whitespace and comment mutations.
 */
class StatementFactsTest {
  private static final PostgresAnalyzer ANALYZER = new PostgresAnalyzer(0);

  record Case(String sql, String expected) {}

  @TestFactory
  Stream<DynamicTest> everyCaseHasItsExactFacts() throws IOException {
    return cases().stream()
        .map(c -> DynamicTest.dynamicTest(c.sql(), () -> check(c.sql(), c.expected())));
  }

  @TestFactory
  Stream<DynamicTest> mutationsKeepTheFacts() throws IOException {
    List<DynamicTest> tests = new ArrayList<>();
    for (Case c : cases()) {
      if (c.sql().matches(".*['\"$\\\\].*|.*--.*|.*/\\*.*") || c.expected().startsWith("UNKNOWN")) {
        continue;
      }
      for (String mutant : mutants(c.sql())) {
        tests.add(DynamicTest.dynamicTest(mutant, () -> check(mutant, c.expected())));
      }
    }
    return tests.stream();
  }

  static List<String> mutants(String sql) {
    return List.of(
        sql.toLowerCase(Locale.ROOT),
        upperKeywords(sql),
        sql.replace(" ", "\n\t  "),
        sql.replace(" ", "/* c /* nested */ c */"),
        "/* lead */ " + sql + " -- trail",
        "  " + sql + " ;  ",
        sql.replace(" ", " \r\n\f "));
  }

  /** Upper-cases everything; identifiers in the cases are lower case and fold back. */
  private static String upperKeywords(String sql) {
    return sql.toUpperCase(Locale.ROOT);
  }

  static List<Case> cases() throws IOException {
    return cases("statements.txt");
  }

  static List<Case> cases(String resource) throws IOException {
    try (InputStream in = StatementFactsTest.class.getResourceAsStream(resource)) {
      String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      List<Case> cases = new ArrayList<>();
      for (String line : text.split("\n")) {
        if (line.isBlank() || line.startsWith("#")) {
          continue;
        }
        int arrow = line.lastIndexOf(" ⇒ ");
        cases.add(new Case(line.substring(0, arrow), line.substring(arrow + 3)));
      }
      return cases;
    }
  }

  static void check(String sql, String expected) {
    Analysis analysis = ANALYZER.analyze(sql, LexicalSettings.DEFAULT);
    String[] specs = expected.split(" \\|\\| ");
    assertThat(analysis.statements())
        .as("statements of %s: %s", sql, analysis.statements())
        .hasSize(specs.length);
    for (int i = 0; i < specs.length; i++) {
      matches(analysis.statements().get(i), specs[i], sql);
    }
  }

  static void matches(Statement s, String spec, String sql) {
    String[] parts = spec.trim().split(" +");
    String what = sql + " → " + s;
    assertThat(s.kind()).as(what).isEqualTo(StatementKind.valueOf(parts[0]));
    assertThat(s.command()).as(what).isEqualTo(parts[1].replace('_', ' '));
    Set<TableRef> read = Set.of();
    Set<TableRef> written = Set.of();
    Set<StatementFlag> flags = EnumSet.noneOf(StatementFlag.class);
    Set<String> functions = Set.of();
    Set<String> columnsRead = null;
    Set<String> columnsWritten = null;
    Set<String> columnsComputed = null;
    Set<String> columnsFiltered = null;
    boolean hasWhere = true;
    boolean trivial = false;
    String prepared = "";
    String inner = null;
    for (int i = 2; i < parts.length; i++) {
      String p = parts[i];
      String v = p.contains("=") ? p.substring(p.indexOf('=') + 1) : "";
      if (p.startsWith("r=")) {
        read = tables(v);
      } else if (p.startsWith("w=")) {
        written = tables(v);
      } else if (p.startsWith("f=")) {
        for (String f : v.split(",")) {
          flags.add(StatementFlag.valueOf(f));
        }
      } else if (p.startsWith("fn=")) {
        functions = Set.of(v.split(","));
      } else if (p.startsWith("cr=")) {
        columnsRead = new LinkedHashSet<>(Arrays.asList(v.split(",")));
      } else if (p.startsWith("cw=")) {
        columnsWritten = new LinkedHashSet<>(Arrays.asList(v.split(",")));
      } else if (p.startsWith("cc=")) {
        columnsComputed =
            v.equals("-") ? Set.of() : new LinkedHashSet<>(Arrays.asList(v.split(",")));
      } else if (p.startsWith("cf=")) {
        columnsFiltered =
            v.equals("-") ? Set.of() : new LinkedHashSet<>(Arrays.asList(v.split(",")));
      } else if (p.equals("nowhere")) {
        hasWhere = false;
      } else if (p.equals("trivial")) {
        trivial = true;
      } else if (p.startsWith("prep=")) {
        prepared = v;
      } else if (p.startsWith("inner=")) {
        inner = v;
      } else if (!p.isEmpty()) {
        // the rest of a spec is part of a column name with spaces (cr=x.; DROP ...)
        if (columnsRead != null) {
          List<String> all = new ArrayList<>(columnsRead);
          all.set(all.size() - 1, all.get(all.size() - 1) + " " + p);
          columnsRead = new LinkedHashSet<>(all);
        }
      }
    }
    assertThat(s.tablesRead()).as("tables read: " + what).containsExactlyInAnyOrderElementsOf(read);
    assertThat(s.tablesWritten())
        .as("tables written: " + what)
        .containsExactlyInAnyOrderElementsOf(written);
    assertThat(s.flags()).as("flags: " + what).containsExactlyInAnyOrderElementsOf(flags);
    assertThat(s.functions())
        .as("functions: " + what)
        .containsExactlyInAnyOrderElementsOf(functions);
    if (columnsRead != null) {
      assertThat(names(s.columnsRead()))
          .as("columns read: " + what)
          .containsExactlyInAnyOrderElementsOf(columnsRead);
    }
    if (columnsWritten != null) {
      assertThat(names(s.columnsWritten()))
          .as("columns written: " + what)
          .containsExactlyInAnyOrderElementsOf(columnsWritten);
    }
    if (columnsComputed != null) {
      assertThat(names(s.columnsComputed()))
          .as("columns computed: " + what)
          .containsExactlyInAnyOrderElementsOf(columnsComputed);
    }
    if (columnsFiltered != null) {
      assertThat(names(s.columnsFiltered()))
          .as("columns filtered: " + what)
          .containsExactlyInAnyOrderElementsOf(columnsFiltered);
    }
    assertThat(s.hasWhere()).as("hasWhere: " + what).isEqualTo(hasWhere);
    assertThat(s.whereTriviallyTrue()).as("trivially true: " + what).isEqualTo(trivial);
    assertThat(s.preparedName()).as("prepared name: " + what).isEqualTo(prepared);
    if (inner == null) {
      assertThat(s.inner()).as("inner: " + what).isEmpty();
    } else {
      Statement in = s.inner().orElseThrow();
      assertThat(in.kind() + ":" + in.command().replace(' ', '_')).as(what).isEqualTo(inner);
    }
    if (s.kind() == StatementKind.UNKNOWN) {
      assertThat(s.unknownReason()).as(what).isNotEmpty();
    }
  }

  private static Set<TableRef> tables(String list) {
    Set<TableRef> tables = new LinkedHashSet<>();
    for (String t : list.split(",")) {
      int dot = t.indexOf('.');
      tables.add(
          dot < 0
              ? TableRef.unqualified(t)
              : new TableRef(t.substring(0, dot), t.substring(dot + 1)));
    }
    return tables;
  }

  private static Set<String> names(Set<ColumnRef> columns) {
    return columns.stream().map(ColumnRef::toString).collect(Collectors.toSet());
  }
}
