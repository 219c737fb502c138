package dev.warden.proxy.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warden.core.policy.Policy;
import dev.warden.core.policy.PolicyAction;
import dev.warden.core.policy.PolicyException;
import dev.warden.core.policy.PolicyGatekeeper;
import dev.warden.core.policy.Rule;
import dev.warden.sql.postgres.PostgresAnalyzer;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Unqualified relation names are resolved through the database's own catalogue and search path, so
 * a rule written for {@code public.secret} applies to {@code SELECT * FROM secret} (THREATS S02,
 * G15), and not to a relation of the same name in a schema off the search path.
 */
class CatalogueResolutionTest {
  static ProxyFixture fixture;

  @BeforeAll
  static void start() throws PolicyException {
    Policy policy =
        Policy.compile(
            "test",
            List.of(
                Rule.of("no-secret", "'public.secret' in statement.tables", PolicyAction.DENY)
                    .withMessage("public.secret is off limits", "Ask its owner.")),
            PolicyAction.ALLOW);
    fixture = new ProxyFixture(new PolicyGatekeeper(new PostgresAnalyzer(), () -> policy), s -> s);
    fixture.sql("CREATE TABLE secret (v int)");
    fixture.sql("CREATE SCHEMA other");
    fixture.sql("CREATE TABLE other.secret (v int)");
    fixture.sql("CREATE TABLE other.only_other (v int)");
  }

  @AfterAll
  static void stop() {
    fixture.close();
  }

  /** Runs {@code SELECT 1} until the first session's catalogue load has been answered. */
  private static void awaitCatalogue(Statement s) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (true) {
      try {
        s.executeQuery("SELECT * FROM secret").close();
      } catch (SQLException refused) {
        return; // resolved: the rule about public.secret applies
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("the catalogue never resolved secret to public.secret");
      }
      Thread.sleep(20);
    }
  }

  @Test
  void anUnqualifiedNameIsJudgedAsTheRelationTheSearchPathFinds() throws Exception {
    try (Connection c = fixture.connect();
        Statement s = c.createStatement()) {
      awaitCatalogue(s);
      assertThatThrownBy(() -> s.executeQuery("SELECT v FROM secret WHERE v > 0"))
          .hasMessageContaining("public.secret is off limits");
      assertThatThrownBy(() -> s.executeQuery("SELECT count(*) FROM \"secret\""))
          .hasMessageContaining("public.secret is off limits");
      // The same name in a schema the statement names, or the path does not reach, is another
      // relation.
      s.executeQuery("SELECT * FROM other.secret").close();
    }
  }

  @Test
  void afterTheSessionChangesItsSearchPathNamesAreJudgedAsWritten() throws Exception {
    try (Connection c = fixture.connect();
        Statement s = c.createStatement()) {
      awaitCatalogue(s);
      s.execute("SET search_path = other, public");
      // Now "secret" is other.secret for the server; Warden no longer claims to know, and the
      // rule about public.secret (an exact name) does not match an unqualified one.
      s.executeQuery("SELECT * FROM secret").close();
      assertThatThrownBy(() -> s.executeQuery("SELECT * FROM public.secret"))
          .hasMessageContaining("public.secret is off limits");
    }
  }

  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.ValueSource(strings = {"simple", "extended"})
  void aSchemaChangeMadeAroundWardenIsSeenOnceTheSnapshotIsOld(String mode) throws Exception {
    try (ProxyFixture quick = quickFixture()) {
      quick.sql("CREATE TABLE target (v int)");
      java.util.Properties p = new java.util.Properties();
      p.setProperty("preferQueryMode", mode);
      p.setProperty(
          "prepareThreshold", "0"); // extended: a Parse of the unnamed statement each time
      try (Connection c = quick.connect(p);
          Statement s = c.createStatement()) {
        s.executeQuery("SELECT * FROM target").close(); // public.target: allowed
        // Directly on the database, not through Warden: a schema named after the upstream role
        // now comes first on its search path ("$user", public), and holds its own target.
        quick.sql("CREATE SCHEMA postgres");
        quick.sql("CREATE TABLE postgres.target (v int)");
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (true) {
          Thread.sleep(250);
          try {
            s.executeQuery("SELECT * FROM target").close();
          } catch (SQLException refused) {
            assertThat(refused.getMessage()).contains("postgres.target is off limits");
            break;
          }
          if (System.nanoTime() > deadline) {
            throw new AssertionError("the new catalogue was never read");
          }
        }
      }
    }
  }

  @Test
  void aNamedPreparedStatementIsJudgedAgainWithTheNewCatalogue() throws Exception {
    try (ProxyFixture quick = quickFixture()) {
      quick.sql("CREATE TABLE target (v int)");
      java.util.Properties p = new java.util.Properties();
      p.setProperty("prepareThreshold", "1"); // a named server-side statement from the start
      try (Connection c = quick.connect(p);
          java.sql.PreparedStatement select = c.prepareStatement("SELECT * FROM target")) {
        select.executeQuery().close(); // public.target: allowed
        select.executeQuery().close();
        quick.sql("CREATE SCHEMA postgres");
        quick.sql("CREATE TABLE postgres.target (v int)");
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (true) {
          Thread.sleep(250);
          // Another session's start reads the catalogue again once it is old.
          try (Connection other = quick.connect()) {
            other.createStatement().execute("SELECT 1");
          }
          try {
            select.executeQuery().close(); // Bind/Execute only: no Parse
          } catch (SQLException refused) {
            assertThat(refused.getMessage()).contains("postgres.target is off limits");
            break;
          }
          if (System.nanoTime() > deadline) {
            throw new AssertionError("the prepared statement was never judged again");
          }
        }
      }
    }
  }

  /**
   * Warden with a rule about {@code postgres.target} (a schema named after the upstream role, first
   * on its default search path once it exists) and catalogue snapshots that age in 200 ms.
   */
  private static ProxyFixture quickFixture() throws PolicyException {
    Policy policy =
        Policy.compile(
            "test",
            List.of(
                Rule.of("no-early", "'postgres.target' in statement.tables", PolicyAction.DENY)
                    .withMessage("postgres.target is off limits", "Ask its owner.")),
            PolicyAction.ALLOW);
    return new ProxyFixture(
        new PolicyGatekeeper(new PostgresAnalyzer(), () -> policy),
        s -> s.withCatalogueMaxAge(Duration.ofMillis(200)));
  }
}
