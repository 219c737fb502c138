package dev.warden.server.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.core.audit.Redactor;
import dev.warden.core.environment.Environment;
import dev.warden.core.environment.Environments;
import dev.warden.core.environment.TlsMode;
import dev.warden.core.environment.Upstream;
import dev.warden.core.identity.Secret;
import dev.warden.core.session.EnvironmentCounters;
import dev.warden.core.session.SessionRegistry;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The metrics text: its format, escaping, and what each sample says (HTTP and roles: the E2E). */
class MetricsRoutesTest {
  private final SessionRegistry registry = new SessionRegistry(Redactor.NONE);
  private final ChainingTrail trail = new ChainingTrail();

  private static Environments environments(String... names) {
    Upstream upstream =
        new Upstream(
            "127.0.0.1",
            5432,
            Optional.empty(),
            "postgres",
            Secret.of(""),
            TlsMode.DISABLE,
            Optional.empty());
    return new Environments(
        java.util.Arrays.stream(names)
            .map(n -> new Environment(n, Set.of(), List.of(Environment.ANY_DATABASE), upstream))
            .toList());
  }

  private Map<String, Double> scrape(Environments environments) {
    String text = MetricsRoutes.of(registry, environments, trail, Optional.empty()).render();
    return LiveSessionsEndToEndTest.MetricsText.parse(text);
  }

  @Test
  void everyConfiguredEnvironmentIsShownAtZeroBeforeItsFirstLogin() {
    Map<String, Double> m = scrape(environments("production", "staging"));
    assertThat(m)
        .containsEntry("warden_sessions{environment=\"staging\"}", 0.0)
        .containsEntry("warden_statements_total{environment=\"staging\",verdict=\"allowed\"}", 0.0)
        .containsEntry("warden_statements_total{environment=\"staging\",verdict=\"denied\"}", 0.0)
        .containsEntry("warden_statements_total{environment=\"staging\",verdict=\"observed\"}", 0.0)
        .containsEntry("warden_connections_total{environment=\"staging\",result=\"accepted\"}", 0.0)
        .containsEntry("warden_connections_total{environment=\"staging\",result=\"refused\"}", 0.0)
        .containsEntry("warden_connections_total{environment=\"staging\",result=\"failed\"}", 0.0)
        .containsEntry("warden_masked_values_total{environment=\"production\"}", 0.0)
        .containsEntry("warden_audit_available", 1.0)
        .doesNotContainKey("warden_approvals_pending"); // no approvals configured
  }

  @Test
  void countersAreShownAsCounted() {
    EnvironmentCounters c = registry.counters("production");
    c.connectionAccepted();
    c.connectionAccepted();
    c.connectionRefused();
    c.masked(41);
    registry.counters("").connectionRefused(); // a login that named no environment
    Map<String, Double> m = scrape(environments("production"));
    assertThat(m)
        .containsEntry(
            "warden_connections_total{environment=\"production\",result=\"accepted\"}", 2.0)
        .containsEntry(
            "warden_connections_total{environment=\"production\",result=\"refused\"}", 1.0)
        .containsEntry("warden_connections_total{environment=\"\",result=\"refused\"}", 1.0)
        .containsEntry("warden_masked_values_total{environment=\"production\"}", 41.0)
        .doesNotContainKey("warden_sessions{environment=\"\"}");
  }

  @Test
  void theAuditTrailsAvailabilityIsAGauge() {
    trail.fail("disk full");
    assertThat(scrape(environments("production"))).containsEntry("warden_audit_available", 0.0);
  }

  @Test
  void labelValuesAreEscapedAsTheFormatSays() {
    registry.counters("we\"ird\\env\nname").connectionAccepted();
    String text = MetricsRoutes.of(registry, environments(), trail, Optional.empty()).render();
    assertThat(text)
        .contains(
            "warden_connections_total{environment=\"we\\\"ird\\\\env\\nname\",result=\"accepted\"} 1\n");
    assertThat(LiveSessionsEndToEndTest.MetricsText.parse(text)).isNotEmpty();
    assertThat(MetricsRoutes.Exposition.escapeLabel("a\\b\"c\nd")).isEqualTo("a\\\\b\\\"c\\nd");
    assertThat(MetricsRoutes.Exposition.escapeHelp("a\\b\nc\"")).isEqualTo("a\\\\b\\nc\"");
  }

  @Test
  void numbersAreWrittenWholeWhenWholeAndEveryFamilyIsTypedOnce() {
    assertThat(MetricsRoutes.Exposition.number(3.0)).isEqualTo("3");
    assertThat(MetricsRoutes.Exposition.number(0.25)).isEqualTo("0.25");
    assertThat(MetricsRoutes.Exposition.number(1.5e20)).isEqualTo("1.5E20");
    String text =
        MetricsRoutes.of(registry, environments("a", "b"), trail, Optional.empty()).render();
    assertThat(text.lines().filter(l -> l.startsWith("# TYPE warden_sessions "))).hasSize(1);
    assertThat(text).contains("# TYPE warden_statements_total counter\n");
    assertThat(text).contains("# TYPE warden_sessions gauge\n");
    assertThat(text).contains("# TYPE process_cpu_seconds_total counter\n");
  }
}
