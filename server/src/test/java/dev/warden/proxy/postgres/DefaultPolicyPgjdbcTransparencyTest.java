package dev.warden.proxy.postgres;

/** {@link PgjdbcTransparencyTest} with the real analyser and the default policy in front. */
final class DefaultPolicyPgjdbcTransparencyTest extends PgjdbcTransparencyTest {
  @Override
  ProxyFixture newFixture() {
    return DefaultPolicyFixtures.newFixture();
  }
}
