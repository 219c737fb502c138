package dev.warden.server.policy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.core.identity.AuthMethod;
import dev.warden.core.identity.Identity;
import dev.warden.core.masking.DataKind;
import dev.warden.core.masking.MaskingRules;
import dev.warden.core.masking.MaskingRules.ColumnOverride;
import dev.warden.core.masking.MaskingRules.Exemption;
import dev.warden.core.masking.MaskingStrategy;
import dev.warden.core.masking.PatternDetector;
import dev.warden.core.policy.Policy;
import dev.warden.core.policy.PolicyException;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PolicyFileMaskingTest {
  private static final String FULL =
      """
      default: allow
      masking:
        enabled: true
        deny_inference: true
        strategies:
          email: pseudonym
          national_id: format_preserving
          password_hash: null
          unknown: "null"
        exempt:
          - identity: alice@corp.example
            until: 2026-12-31T18:00:00Z
            description: incident 4711
          - group: dba
            environments: [staging, dev]
          - group: auditors
            from: 2026-03-01T00:00:00Z
            until: 2026-03-02T00:00:00Z
            environments: production
        columns:
          - column: public.users.nickname
            kind: person_name
          - column: users.email
            kind: none
            environment: dev
            database: app
        detectors:
          - name: employee-id
            kind: national_id
            pattern: "EMP-[0-9]{6}"
      """;

  private static List<String> problems(String text) {
    try {
      PolicyFile.parse("p.yaml", text);
    } catch (PolicyException e) {
      return e.problems().stream().map(PolicyException.Problem::toString).toList();
    }
    throw new AssertionError("accepted: " + text);
  }

  private static String masking(String section) {
    return "default: allow\nmasking:\n" + section.stripIndent().indent(2);
  }

  @Test
  void everyPartOfTheMaskingSectionIsRead() throws PolicyException {
    MaskingRules m = PolicyFile.parse("p.yaml", FULL).masking();
    MaskingRules expected =
        MaskingRules.builder()
            .denyInference(true)
            .strategy(DataKind.EMAIL, MaskingStrategy.PSEUDONYM)
            .strategy(DataKind.NATIONAL_ID, MaskingStrategy.FORMAT_PRESERVING)
            .strategy(DataKind.PASSWORD_HASH, MaskingStrategy.NULL)
            .unknownStrategy(MaskingStrategy.NULL)
            .exempt(
                Exemption.identity("alice@corp.example")
                    .until(Instant.parse("2026-12-31T18:00:00Z")))
            .exempt(Exemption.group("dba").in(Set.of("staging", "dev")))
            .exempt(
                Exemption.group("auditors")
                    .from(Instant.parse("2026-03-01T00:00:00Z"))
                    .until(Instant.parse("2026-03-02T00:00:00Z"))
                    .in(Set.of("production")))
            .column(
                ColumnOverride.of(
                    "public.users.nickname",
                    Optional.of(DataKind.PERSON_NAME),
                    Optional.empty(),
                    Optional.empty()))
            .column(
                ColumnOverride.of(
                    "users.email", Optional.empty(), Optional.of("dev"), Optional.of("app")))
            .detector(PatternDetector.compile("employee-id", DataKind.NATIONAL_ID, "EMP-[0-9]{6}"))
            .build();
    assertThat(m).isEqualTo(expected);
    assertThat(m.strategy(DataKind.PHONE))
        .as("unlisted kinds keep their default")
        .isEqualTo(MaskingStrategy.PARTIAL);
    Identity alice = new Identity("alice@corp.example", Set.of(), AuthMethod.OIDC);
    assertThat(m.forSession(alice, "prod", Set.of(), Instant.parse("2026-06-01T00:00:00Z")))
        .isEmpty();
  }

  @Test
  void theMaskingSectionChangesThePolicyVersion() throws PolicyException {
    Policy with = PolicyFile.parse("p.yaml", FULL);
    Policy without = PolicyFile.parse("p.yaml", "default: allow\n");
    assertThat(with.version()).isNotEqualTo(without.version());
    assertThat(without.masking()).isEqualTo(MaskingRules.defaults());
    assertThat(PolicyFile.parse("p.yaml", "default: allow\nmasking:\n").masking())
        .isEqualTo(MaskingRules.defaults());
    assertThat(PolicyFile.parse("p.yaml", masking("enabled: false")).masking().enabled()).isFalse();
  }

  @Test
  void theDefaultPolicyMasksWithTheDefaults() {
    Policy p = PolicyFile.defaultPolicy();
    assertThat(p.masking()).isEqualTo(MaskingRules.defaults());
    assertThat(PolicyFile.defaultPolicyText()).contains("\nmasking:\n");
    for (DataKind kind : DataKind.values()) {
      assertThat(PolicyFile.defaultPolicyText())
          .as("the default policy lists every kind")
          .contains("    " + MaskingRules.kindName(kind) + ": ");
    }
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      quoteCharacter = '"',
      value = {
        // section | expected problem
        "enable: true|p.yaml:3:3: unknown key 'enable' in the masking section (did you mean 'enabled'?)",
        "enabled: yes please|p.yaml:3:12: enabled must be true or false, found 'yes please'",
        "deny_inference: 1|p.yaml:3:19: deny_inference must be true or false, found '1'",
        "strategies: {emial: redact}|p.yaml:3:16: unknown key 'emial' in masking strategies (kind: strategy) (did you mean 'email'?)",
        "strategies: {email: hash}|p.yaml:3:23: 'hash' is not a masking strategy; expected one of: redact, partial, pseudonym, format_preserving, null",
        "strategies: {email: partal}|p.yaml:3:23: 'partal' is not a masking strategy (did you mean 'partial'?); expected one of: redact, partial, pseudonym, format_preserving, null",
        "strategies: {email: ~}|p.yaml:3:23: '~' is not a masking strategy (did you mean 'null'?); expected one of: redact, partial, pseudonym, format_preserving, null",
        "strategies: {email: NULL}|p.yaml:3:23: 'NULL' is not a masking strategy (did you mean 'null'?); expected one of: redact, partial, pseudonym, format_preserving, null",
        "strategies: {email: }|p.yaml:3:22: the strategy for email must not be empty",
        "strategies: {email: 'Partial'}|p.yaml:3:23: 'Partial' is not a masking strategy (did you mean 'partial'?); expected one of: redact, partial, pseudonym, format_preserving, null",
        "strategies: [redact]|p.yaml:3:15: masking strategies (kind: strategy) must be a mapping of key: value lines, found a list",
        "exempt: {identity: a}|p.yaml:3:11: exempt must be a list, each item starting with '- identity:' or '- group:', found a mapping",
        "exempt: [{identity: a, group: g}]|p.yaml:3:26: an exemption names an identity or a group, not both (write two exemptions)",
        "exempt: [{until: 2026-01-01T00:00:00Z}]|p.yaml:3:12: an exemption needs 'identity:' or 'group:'",
        "exempt: [{identity: a, until: tomorrow}]|p.yaml:3:33: until must be an instant in UTC such as 2026-12-31T18:00:00Z, found 'tomorrow'",
        "exempt: [{identity: a, until: 2026-12-31}]|p.yaml:3:33: until must be an instant in UTC such as 2026-12-31T18:00:00Z, found '2026-12-31'",
        "exempt: [{identity: a, from: 2026-02-01T00:00:00Z, until: 2026-01-01T00:00:00Z}]|p.yaml:3:61: until must be later than from",
        "exempt: [{identity: a, environments: []}]|p.yaml:3:40: environments must list at least one environment name or tag (or be left out)",
        "exempt: [{identity: a, expires: 2026-01-01T00:00:00Z}]|p.yaml:3:26: unknown key 'expires' in an exemption; expected one of: identity, group, from, until, environments, description",
        "exempt: [{identity: ''}]|p.yaml:3:23: identity must not be empty",
        "columns: [{column: users.email}]|p.yaml:3:13: a column override is missing the required key 'kind'",
        "columns: [{column: email, kind: email}]|p.yaml:3:22: column 'email' is not [schema.]table.column (e.g. public.users.email)",
        "columns: [{column: users.email, kind: e-mail}]|p.yaml:3:41: 'e-mail' is not a kind of data (did you mean 'email'?); expected one of: email, phone, payment_card, iban, national_id, ip_address, date_of_birth, person_name, postal_address, password, password_hash, jwt, private_key, api_token (or none in a column override)",
        "columns: [{column: users.email, kind: email, env: dev}]|p.yaml:3:48: unknown key 'env' in a column override; expected one of: column, kind, environment, database, description",
        "detectors: [{name: x, kind: email, pattern: '[a-'}]|p.yaml:3:47: detector 'x': the pattern does not compile: Illegal character range at character 4",
        "detectors: [{name: x, kind: none, pattern: 'a'}]|p.yaml:3:31: a detector finds data of a kind; 'none' is for column overrides",
        "detectors: [{name: 'a b', kind: email, pattern: 'a'}]|p.yaml:3:22: detector name 'a b' may contain only letters, digits, '_', '-' and '.' (at most 63)",
        "detectors: [{name: x, kind: email}]|p.yaml:3:15: a detector is missing the required key 'pattern'",
        "rules: []|p.yaml:3:3: unknown key 'rules' in the masking section; expected one of: enabled, deny_inference, strategies, exempt, columns, detectors",
        "true|p.yaml:3:3: the masking section must be a mapping of key: value lines, found 'true'",
      })
  void badInputIsReportedWhereItIs(String section, String expected) {
    assertThat(problems(masking(section))).containsExactly(expected);
  }

  @Test
  void duplicatesAreReportedWithTheFirstLine() {
    assertThat(
            problems(
                masking(
                    """
                    columns:
                      - column: users.email
                        kind: none
                      - column: public.users.email
                        kind: email
                      - column: users.email
                        kind: email
                    detectors:
                      - name: emp
                        kind: national_id
                        pattern: "E[0-9]+"
                      - name: emp
                        kind: national_id
                        pattern: "F[0-9]+"
                    """)))
        .containsExactly(
            "p.yaml:8:15: column 'users.email' is overridden twice for the same environment and"
                + " database (first at line 4)",
            "p.yaml:14:13: duplicate detector name 'emp' (first at line 11)");
  }

  @Test
  void aTooLongPatternIsRefused() {
    assertThat(
            problems(
                masking(
                    "detectors: [{name: x, kind: email, pattern: '"
                        + "a".repeat(PatternDetector.MAX_PATTERN_LENGTH + 1)
                        + "'}]")))
        .containsExactly("p.yaml:3:47: detector 'x': the pattern is longer than 1000 characters");
  }

  @Test
  void problemsInRulesAndMaskingAreReportedTogetherInFileOrder() {
    assertThat(
            problems(
                """
                default: allow
                masking:
                  strategies:
                    email: hash
                rules:
                  - name: r
                    when: "nope"
                    action: allow
                """))
        .hasSize(2)
        .first()
        .asString()
        .startsWith("p.yaml:4:12: 'hash' is not a masking strategy");
  }
}
