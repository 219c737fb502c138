package dev.warden.proxy.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warden.core.gate.Decision;
import dev.warden.core.gate.Gatekeeper;
import dev.warden.core.gate.SessionContext;
import dev.warden.core.gate.StatementRequest;
import dev.warden.core.gate.Verdict;
import dev.warden.core.statement.Analysis;
import dev.warden.core.statement.PreparedStatements;
import dev.warden.core.statement.Relations;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.OptionalLong;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A prepared statement is judged again each time it is executed, as what its portal really runs: a
 * policy that changes after the Parse applies to the next Execute.
 */
class ExecuteRecheckTest {
  static final AtomicBoolean refuseExecutions = new AtomicBoolean();
  static ProxyFixture fixture;

  @BeforeAll
  static void start() {
    Gatekeeper gatekeeper =
        new Gatekeeper() {
          @Override
          public Decision decide(StatementRequest request) {
            return new Decision(
                Verdict.ALLOW,
                new Analysis(List.of(), ""),
                "",
                false,
                OptionalLong.empty(),
                null,
                1,
                false);
          }

          @Override
          public Decision recheck(
              SessionContext session,
              PreparedStatements prepared,
              Relations relations,
              Decision earlier) {
            return refuseExecutions.get()
                ? new Decision(
                    new Verdict.Deny("42501", "refused at execution", "ask the test"),
                    earlier.analysis(),
                    "",
                    false,
                    OptionalLong.empty(),
                    null,
                    2,
                    false)
                : earlier;
          }
        };
    fixture = new ProxyFixture(gatekeeper, s -> s);
    fixture.sql("CREATE TABLE n (v int)");
  }

  @AfterAll
  static void stop() {
    refuseExecutions.set(false);
    fixture.close();
  }

  @Test
  void aPolicyChangeAppliesToTheNextExecutionOfAPreparedStatement() throws Exception {
    Properties p = new Properties();
    p.setProperty("prepareThreshold", "1");
    try (Connection c = fixture.connect(p);
        PreparedStatement insert = c.prepareStatement("INSERT INTO n VALUES (?)")) {
      insert.setInt(1, 1);
      insert.executeUpdate();
      insert.setInt(1, 2);
      insert.executeUpdate(); // now a named server-side statement, bound and executed again
      refuseExecutions.set(true);
      insert.setInt(1, 3);
      assertThatThrownBy(insert::executeUpdate)
          .isInstanceOf(SQLException.class)
          .hasMessageContaining("refused at execution")
          .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("42501"));
      refuseExecutions.set(false);
      insert.setInt(1, 4);
      insert.executeUpdate();
    }
    try (Connection c = fixture.direct();
        ResultSet rs =
            c.createStatement().executeQuery("SELECT string_agg(v::text, ',' ORDER BY v) FROM n")) {
      rs.next();
      assertThat(rs.getString(1)).isEqualTo("1,2,4");
    }
  }
}
