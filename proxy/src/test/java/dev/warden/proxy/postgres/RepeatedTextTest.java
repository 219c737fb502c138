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
import java.sql.SQLException;
import java.util.List;
import java.util.OptionalLong;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A Query or Parse identical to the session's previous one is not decoded and judged from scratch,
 * but its earlier decision is checked again ({@link Gatekeeper#recheck}): a policy change still
 * applies to it at once, and a different text is judged anew.
 */
class RepeatedTextTest {
  static final AtomicInteger decided = new AtomicInteger();
  static final AtomicBoolean refuse = new AtomicBoolean();
  static ProxyFixture fixture;

  @BeforeAll
  static void start() {
    Gatekeeper gatekeeper =
        new Gatekeeper() {
          @Override
          public Decision decide(StatementRequest request) {
            if (request.sql().contains("FROM r")) {
              decided.incrementAndGet();
            }
            return decision(refuse.get());
          }

          @Override
          public Decision recheck(
              SessionContext session,
              PreparedStatements prepared,
              Relations relations,
              Decision earlier) {
            return refuse.get() ? decision(true) : earlier;
          }
        };
    fixture = new ProxyFixture(gatekeeper, s -> s);
    fixture.sql("CREATE TABLE r (v int)");
  }

  static Decision decision(boolean deny) {
    return new Decision(
        deny ? new Verdict.Deny("42501", "refused on repetition", "ask the test") : Verdict.ALLOW,
        new Analysis(List.of(), ""),
        "",
        false,
        OptionalLong.empty(),
        null,
        1,
        true);
  }

  @AfterAll
  static void stop() {
    refuse.set(false);
    fixture.close();
  }

  @BeforeEach
  void reset() {
    decided.set(0);
    refuse.set(false);
  }

  @ParameterizedTest
  @ValueSource(strings = {"simple", "extended"})
  void theSameTextAgainIsRecheckedNotJudgedAnew(String mode) throws SQLException {
    Properties p = new Properties();
    p.setProperty("preferQueryMode", mode);
    p.setProperty("prepareThreshold", "0"); // extended: an unnamed Parse every time
    try (Connection c = fixture.connect(p);
        PreparedStatement count = c.prepareStatement("SELECT count(*) FROM r WHERE v >= 0")) {
      for (int i = 0; i < 3; i++) {
        count.executeQuery().close();
      }
      assertThat(decided.get()).isEqualTo(1);
      c.createStatement().executeQuery("SELECT count(*) FROM r WHERE v >= 1").close();
      assertThat(decided.get()).isEqualTo(2);
      count.executeQuery().close();
      assertThat(decided.get()).isEqualTo(3); // no longer the previous text

      refuse.set(true);
      assertThatThrownBy(() -> count.executeQuery().close())
          .isInstanceOf(SQLException.class)
          .hasMessageContaining("refused on repetition");
      refuse.set(false);
      count.executeQuery().close();
    }
  }
}
