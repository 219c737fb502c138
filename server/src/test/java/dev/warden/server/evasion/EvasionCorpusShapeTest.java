package dev.warden.server.evasion;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.server.evasion.Seed.Expect;
import dev.warden.testkit.AuditedPostgres;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * The corpus itself is sound: big enough, the same on every run, and made of statements PostgreSQL
 * accepts (so a refusal is Warden's, not the server's), except those marked {@code rejects}.
 */
class EvasionCorpusShapeTest {

  @Test
  void theCorpusIsLargeAndTheSameOnEveryRun() {
    List<EvasionCase> cases = EvasionCorpus.cases();

    assertThat(cases).hasSizeGreaterThanOrEqualTo(300);
    assertThat(EvasionCorpus.cases()).isEqualTo(cases);
    assertThat(cases).filteredOn(c -> c.expect() == Expect.ALLOW).hasSizeGreaterThan(100);
    assertThat(cases).filteredOn(c -> c.expect() == Expect.DENY).hasSizeGreaterThan(100);
    assertThat(cases.stream().map(EvasionCase::delivery).distinct()).hasSize(5);
    System.out.printf(
        "evasion corpus: %d seeds, %d cases (%d deny, %d allow)%n",
        Seed.load().size(),
        cases.size(),
        cases.stream().filter(c -> c.expect() == Expect.DENY).count(),
        cases.stream().filter(c -> c.expect() == Expect.ALLOW).count());
  }

  @Test
  void splittingFollowsQuotesCommentsAndDollarQuotes() {
    assertThat(SqlTokens.statements("SELECT 'a;b'; DROP TABLE t -- x;\n;"))
        .containsExactly("SELECT 'a;b'", "DROP TABLE t -- x;");
    assertThat(SqlTokens.statements("SELECT $q$ ; $q$; /* ; /* ; */ ; */ SELECT E'\\';'"))
        .containsExactly("SELECT $q$ ; $q$", "/* ; /* ; */ ; */ SELECT E'\\';'");
    assertThat(SqlTokens.statements(";;; DROP TABLE canary;;"))
        .containsExactly("DROP TABLE canary");
  }

  @Test
  void postgresAcceptsEveryStatementNotMarkedRejected() throws Exception {
    AuditedPostgres pg = AuditedPostgres.shared();
    String db = "evasion_shape_" + UUID.randomUUID().toString().replace("-", "");
    Set<String> texts = new LinkedHashSet<>();
    List<String> rejected = new ArrayList<>();
    List<String> problems = new ArrayList<>();
    try (EvasionFixture fixture = EvasionFixture.create(pg, db)) {
      Connection c = fixture.direct();
      for (EvasionCase ec : EvasionCorpus.cases()) {
        if (!texts.add(ec.sql())) {
          continue;
        }
        String failure = null;
        for (String statement : SqlTokens.statements(ec.sql())) {
          try (PreparedStatement ps = c.prepareStatement(statement)) {
            ps.getParameterMetaData();
          } catch (SQLException e) {
            failure = e.getSQLState() + " " + e.getMessage();
            break;
          }
        }
        if (ec.seed().has("rejects")) {
          if (failure == null) {
            problems.add("marked rejects but PostgreSQL accepts: " + ec.displayName());
          } else {
            rejected.add(ec.displayName());
          }
        } else if (failure != null) {
          problems.add(failure + " <- " + ec.displayName());
        }
      }
    }
    assertThat(problems).isEmpty();
    assertThat(rejected).isNotEmpty();
  }
}
