package dev.warden.proxy.postgres;

/** {@link PsqlTransparencyTest} with the real analyser and the default policy in front. */
final class DefaultPolicyPsqlTransparencyTest extends PsqlTransparencyTest {
  @Override
  ProxyFixture newFixture() {
    return DefaultPolicyFixtures.newFixture();
  }
}
