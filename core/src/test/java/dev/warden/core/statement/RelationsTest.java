package dev.warden.core.statement;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

class RelationsTest {
  private final Relations relations =
      new Relations(
          Map.of(
              "orders", Set.of("public", "billing"),
              "invoices", Set.of("billing"),
              "pg_class", Set.of("pg_catalog"),
              "audit", Set.of("archive")),
          List.of("pg_catalog", "billing", "public"));

  @Test
  void anUnqualifiedNameResolvesToTheFirstSchemaOfThePathHoldingIt() {
    assertThat(relations.resolve(TableRef.unqualified("orders")))
        .isEqualTo(new TableRef("billing", "orders"));
    assertThat(relations.resolve(TableRef.unqualified("invoices")))
        .isEqualTo(new TableRef("billing", "invoices"));
    assertThat(relations.resolve(TableRef.unqualified("pg_class")))
        .isEqualTo(new TableRef("pg_catalog", "pg_class"));
  }

  @Test
  void qualifiedUnknownAndOffThePathNamesStayAsWritten() {
    TableRef qualified = new TableRef("public", "orders");
    assertThat(relations.resolve(qualified)).isSameAs(qualified);
    assertThat(relations.resolve(TableRef.unqualified("nowhere")))
        .isEqualTo(TableRef.unqualified("nowhere"));
    // archive is not on the search path: the server would not find it either
    assertThat(relations.resolve(TableRef.unqualified("audit")))
        .isEqualTo(TableRef.unqualified("audit"));
  }

  @Test
  void anAnalysisIsResolvedInEveryTableAndColumnAndInnerStatement() {
    Statement select =
        new Statement(
            StatementKind.READ,
            "SELECT",
            Set.of(TableRef.unqualified("orders")),
            Set.of(),
            Set.of(new ColumnRef(TableRef.unqualified("orders"), "total")),
            Set.of(),
            Set.of(),
            true,
            false,
            Set.of(),
            "",
            "",
            Optional.empty());
    Statement explain =
        new Statement(
            StatementKind.READ,
            "EXPLAIN",
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
            Optional.of(select));
    Analysis resolved = relations.resolve(new Analysis(List.of(select, explain), "f"));
    Statement first = resolved.statements().get(0);
    assertThat(first.tablesRead()).containsExactly(new TableRef("billing", "orders"));
    assertThat(first.columnsRead())
        .containsExactly(new ColumnRef(new TableRef("billing", "orders"), "total"));
    assertThat(resolved.statements().get(1).inner().orElseThrow().tablesRead())
        .containsExactly(new TableRef("billing", "orders"));
    assertThat(resolved.fingerprint()).isEqualTo("f");
  }

  @Test
  void computedAndFilteredColumnsAreResolvedToo() {
    ColumnRef total = new ColumnRef(TableRef.unqualified("orders"), "total");
    ColumnRef id = new ColumnRef(TableRef.unqualified("invoices"), "id");
    ColumnRef ambiguous = new ColumnRef(TableRef.unqualified(""), "note");
    Statement select =
        new Statement(
            StatementKind.READ,
            "SELECT",
            Set.of(TableRef.unqualified("orders"), TableRef.unqualified("invoices")),
            Set.of(),
            Set.of(total, id, ambiguous),
            Set.of(),
            Set.of(total, ambiguous),
            Set.of(id),
            Set.of(),
            true,
            false,
            Set.of(),
            "",
            "",
            Optional.empty());
    Statement resolved = relations.resolve(new Analysis(List.of(select), "")).statements().get(0);
    assertThat(resolved.columnsComputed())
        .containsExactlyInAnyOrder(
            new ColumnRef(new TableRef("billing", "orders"), "total"), ambiguous);
    assertThat(resolved.columnsFiltered())
        .containsExactly(new ColumnRef(new TableRef("billing", "invoices"), "id"));
  }

  @Test
  void withNothingKnownAnAnalysisIsReturnedAsItIs() {
    Analysis a = new Analysis(List.of(), "");
    assertThat(Relations.NONE.resolve(a)).isSameAs(a);
    assertThat(Relations.NONE.known()).isFalse();
  }
}
