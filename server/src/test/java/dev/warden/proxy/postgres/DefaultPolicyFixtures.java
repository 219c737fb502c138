package dev.warden.proxy.postgres;

import dev.warden.core.policy.PolicyGatekeeper;
import dev.warden.server.policy.PolicyFile;
import dev.warden.sql.postgres.PostgresAnalyzer;

/**
 * Warden as {@code warden serve} runs it, with no policy file: every statement analysed by
 * PostgreSQL's parser and judged by the default policy, in an environment not tagged {@code
 * production}. The foundation's transparency scenarios must pass through it unchanged.
 */
final class DefaultPolicyFixtures {
  private DefaultPolicyFixtures() {}

  static ProxyFixture newFixture() {
    var policy = PolicyFile.defaultPolicy();
    return new ProxyFixture(new PolicyGatekeeper(new PostgresAnalyzer(), () -> policy), s -> s);
  }
}
