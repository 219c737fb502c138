package dev.warden.proxy.postgres;

/** {@link PgbenchTransparencyTest} with the real analyser and the default policy in front. */
final class DefaultPolicyPgbenchTransparencyTest extends PgbenchTransparencyTest {
  @Override
  ProxyFixture newFixture() {
    return DefaultPolicyFixtures.newFixture();
  }
}
