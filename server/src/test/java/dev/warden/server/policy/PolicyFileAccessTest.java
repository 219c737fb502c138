package dev.warden.server.policy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.core.environment.Environment;
import dev.warden.core.environment.TlsMode;
import dev.warden.core.environment.Upstream;
import dev.warden.core.gate.Admission;
import dev.warden.core.gate.SessionContext;
import dev.warden.core.identity.AuthMethod;
import dev.warden.core.identity.Identity;
import dev.warden.core.identity.Secret;
import dev.warden.core.policy.AccessRules;
import dev.warden.core.policy.Policy;
import dev.warden.core.policy.PolicyException;
import dev.warden.core.policy.PolicyGatekeeper;
import dev.warden.core.statement.LexicalSettings;
import dev.warden.core.statement.SqlAnalyzer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PolicyFileAccessTest {
  private static final Instant NOON = Instant.parse("2026-03-02T12:00:00Z");

  private static final String ACCESS =
      """
      default: allow
      access:
        default: deny
        rules:
          - name: no-interns-in-production
            when: "'production' in env.tags && 'interns' in identity.groups"
            action: deny
            message: interns work in staging
          - name: prod-engineers
            description: Engineers may use production.
            when: "'production' in env.tags && 'engineers' in identity.groups"
            action: allow
          - name: agents-for-people
            when: "identity.method == 'service_token' && identity.on_behalf_of != ''"
            action: allow
          - name: everyone-elsewhere
            when: "!('production' in env.tags)"
            action: allow
      """;

  private static List<String> problems(String text) {
    try {
      PolicyFile.parse("p.yaml", text);
    } catch (PolicyException e) {
      return e.problems().stream().map(PolicyException.Problem::toString).toList();
    }
    throw new AssertionError("accepted: " + text);
  }

  private static Environment environment(String name, String... tags) {
    return new Environment(
        name,
        Set.of(tags),
        List.of(Environment.ANY_DATABASE),
        new Upstream(
            "localhost",
            5432,
            Optional.empty(),
            "postgres",
            Secret.of(""),
            TlsMode.DISABLE,
            Optional.empty()));
  }

  private static SessionContext session(Identity identity, Environment environment) {
    return new SessionContext("s1", identity, environment, "10.1.2.3:5000", "shop", "psql");
  }

  private static final Environment PROD = environment("prod", "production");
  private static final Environment STAGING = environment("staging");

  private static Identity person(String name, String... groups) {
    return new Identity(name, Set.of(groups), AuthMethod.OIDC);
  }

  @Test
  void theAccessSectionIsReadInOrderWithItsDefault() throws PolicyException {
    Policy p = PolicyFile.parse("p.yaml", ACCESS);
    assertThat(p.access().allowByDefault()).isFalse();
    assertThat(p.access().rules())
        .extracting(r -> r.name() + ":" + r.allows() + ":" + r.origin())
        .containsExactly(
            "no-interns-in-production:false:p.yaml:5:7",
            "prod-engineers:true:p.yaml:9:7",
            "agents-for-people:true:p.yaml:13:7",
            "everyone-elsewhere:true:p.yaml:16:7");
    assertThat(p.access().rules().get(1).description()).isEqualTo("Engineers may use production.");

    assertThat(p.admit(session(person("alice", "engineers"), PROD), NOON))
        .isEqualTo(new Admission(true, "prod-engineers", ""));
    Admission intern = p.admit(session(person("bob", "engineers", "interns"), PROD), NOON);
    assertThat(intern.allowed()).isFalse();
    assertThat(intern.rule()).isEqualTo("no-interns-in-production");
    assertThat(intern.message()).isEqualTo("interns work in staging");
    Identity agent =
        new Identity(
            "copilot",
            Set.of(),
            AuthMethod.SERVICE_TOKEN,
            Optional.of("alice@corp.example"),
            Optional.empty());
    assertThat(p.admit(session(agent, PROD), NOON).rule()).isEqualTo("agents-for-people");
    Admission sales = p.admit(session(person("carol", "sales"), PROD), NOON);
    assertThat(sales.allowed()).isFalse();
    assertThat(sales.rule()).isEqualTo("(default)");
    assertThat(p.admit(session(person("carol", "sales"), STAGING), NOON).allowed()).isTrue();
  }

  @Test
  void withoutAnAccessSectionOrWithAnEmptyOneEveryoneMayUseEveryEnvironment()
      throws PolicyException {
    for (String text :
        List.of(
            "default: deny\n",
            "default: deny\naccess:\n",
            "default: deny\naccess:\n  rules: []\n")) {
      Policy p = PolicyFile.parse("p.yaml", text);
      assertThat(p.access()).isEqualTo(AccessRules.OPEN);
      assertThat(p.admit(session(person("carol"), PROD), NOON)).isSameAs(Admission.OPEN);
      assertThat(p.version()).isEqualTo(PolicyFile.parse("p.yaml", "default: deny\n").version());
    }
    assertThat(PolicyFile.defaultPolicy().access()).isEqualTo(AccessRules.OPEN);
  }

  @Test
  void structuralProblemsAreReportedWithTheirPositions() {
    assertThat(
            problems(
                """
                default: allow
                access:
                  default: Deny
                  rule:
                    - name: x
                """))
        .containsExactly(
            "p.yaml:3:12: the access default 'Deny' is not allow or deny (did you mean 'deny'?);"
                + " who may use an environment is allowed or denied, nothing else",
            "p.yaml:4:3: unknown key 'rule' in the access section (did you mean 'rules'?)");
    assertThat(
            problems(
                """
                default: allow
                access:
                  rules:
                    - name: bad name
                      when: "true"
                      action: observe
                      sqlstate: "42501"
                    - name: no-when
                      action: allow
                      message: welcome
                    - when: "true"
                      action: deny
                """))
        .containsExactly(
            "p.yaml:4:13: rule name 'bad name' may contain only letters, digits, '_', '-' and '.'"
                + " (at most 63)",
            "p.yaml:6:15: an access action 'observe' is not allow or deny; who may use an"
                + " environment is allowed or denied, nothing else",
            "p.yaml:7:7: unknown key 'sqlstate' in an access rule; expected one of: name,"
                + " description, when, action, message",
            "p.yaml:8:7: an access rule is missing the required key 'when'",
            "p.yaml:10:7: access rule 'no-when': message is what a refused session is told; an"
                + " allow rule refuses no one",
            "p.yaml:11:7: an access rule is missing the required key 'name'");
    assertThat(problems("default: allow\naccess: [deny]\n"))
        .containsExactly(
            "p.yaml:2:9: the access section must be a mapping of key: value lines, found a list");
    assertThat(problems("default: allow\naccess:\n  rules: everyone\n"))
        .containsExactly(
            "p.yaml:3:10: rules must be a list, each item starting with '- name:', found"
                + " 'everyone'");
  }

  @Test
  void conditionsAreCheckedAtLoadAndMayNotReadTheStatement() {
    assertThat(
            problems(
                """
                default: allow
                rules:
                  - name: reads
                    when: statement.kind == 'read'
                    action: allow
                access:
                  rules:
                    - name: only-reads
                      when: "statement.kind == 'read' && request.path == 'simple'"
                      action: allow
                    - name: typo
                      when: "'dba' in identity.group"
                      action: allow
                    - name: reads
                      when: "true"
                      action: allow
                """))
        .satisfiesExactly(
            p ->
                assertThat(p)
                    .isEqualTo(
                        "p.yaml:8:7: access rule 'only-reads' reads request.path, statement.kind,"
                            + " but access is decided once per session, before any statement; an"
                            + " access rule may read identity.*, env.*, session.* and"
                            + " request.time"),
            p -> assertThat(p).startsWith("p.yaml:11:7: access rule 'typo': condition 1:"),
            p ->
                assertThat(p)
                    .isEqualTo("p.yaml:14:7: duplicate rule name 'reads' (first at p.yaml:3:5)"));
  }

  @Test
  void aReloadChangesTheAnswerForNewSessions(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("policy.yaml");
    Files.writeString(file, "default: allow\n");
    SqlAnalyzer none =
        (String sql, LexicalSettings settings) -> {
          throw new IllegalStateException("no statements in this test");
        };
    SessionContext carol = session(person("carol", "sales"), PROD);
    SessionContext alice = session(person("alice", "engineers"), PROD);
    try (PolicyReloader reloader = PolicyReloader.load(file)) {
      PolicyGatekeeper gate = new PolicyGatekeeper(none, reloader);
      assertThat(gate.admit(carol)).isSameAs(Admission.OPEN);

      Files.writeString(file, ACCESS);
      assertThat(reloader.checkNow()).isInstanceOf(PolicyReloader.Outcome.Reloaded.class);
      assertThat(gate.admit(carol).allowed()).isFalse();
      assertThat(gate.admit(alice).allowed()).isTrue();

      // A bad access section is not loaded: the last good answer stays.
      Files.writeString(file, ACCESS.replace("identity.groups", "statement.tables"));
      assertThat(reloader.checkNow()).isInstanceOf(PolicyReloader.Outcome.Rejected.class);
      assertThat(gate.admit(carol).allowed()).isFalse();
      assertThat(gate.admit(alice).rule()).isEqualTo("prod-engineers");

      Files.writeString(file, ACCESS.replace("  default: deny", "  default: allow"));
      assertThat(reloader.checkNow()).isInstanceOf(PolicyReloader.Outcome.Reloaded.class);
      assertThat(gate.admit(carol)).isEqualTo(new Admission(true, "(default)", ""));
    }
  }
}
