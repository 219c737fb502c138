package dev.warden.core.environment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.warden.core.identity.AuthMethod;
import dev.warden.core.identity.Identity;
import dev.warden.core.identity.Secret;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

class RoleMappingTest {
  private static final Upstream UPSTREAM =
      new Upstream(
          "db.internal",
          5432,
          Optional.empty(),
          "warden",
          Secret.of("warden-pw"),
          TlsMode.DISABLE,
          Optional.empty());

  private static Identity who(String name, String... groups) {
    return new Identity(name, Set.of(groups), AuthMethod.OIDC);
  }

  @Test
  void withoutMappingsEveryoneLogsInAsTheEnvironmentsRole() {
    Environment env = new Environment("prod", Set.of(), List.of("*"), UPSTREAM);
    assertThat(env.upstreamFor(who("alice"))).contains(UPSTREAM);
  }

  @Test
  void theFirstMappingThatNamesAGroupOrTheIdentityDecidesTheRole() {
    Environment env =
        new Environment(
            "prod",
            Set.of("production"),
            List.of("*"),
            UPSTREAM,
            List.of(
                new RoleMapping(Set.of(), Set.of("bob"), "breakglass", Secret.of("b")),
                new RoleMapping(Set.of("engineers"), Set.of(), "app_rw", Secret.of("rw")),
                new RoleMapping(
                    Set.of("analysts", "engineers"), Set.of(), "app_ro", Secret.of("ro"))));

    Upstream engineer = env.upstreamFor(who("alice", "analysts", "engineers")).orElseThrow();
    assertThat(engineer.user()).isEqualTo("app_rw");
    assertThat(engineer.password().reveal()).isEqualTo("rw");
    assertThat(engineer.host()).isEqualTo("db.internal");

    assertThat(env.upstreamFor(who("carol", "analysts")).orElseThrow().user()).isEqualTo("app_ro");
    assertThat(env.upstreamFor(who("bob")).orElseThrow().user()).isEqualTo("breakglass");
  }

  @Test
  void anIdentityNoMappingNamesGetsNoRoleRatherThanWardensOwn() {
    Environment env =
        new Environment(
            "prod",
            Set.of(),
            List.of("*"),
            UPSTREAM,
            List.of(new RoleMapping(Set.of("engineers"), Set.of(), "app_rw", Secret.of("rw"))));
    assertThat(env.upstreamFor(who("mallory", "contractors"))).isEmpty();
  }

  @Test
  void aMappingMustNameSomeoneAndARole() {
    assertThatThrownBy(() -> new RoleMapping(Set.of(), Set.of(), "r", Secret.of("")))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new RoleMapping(Set.of("g"), Set.of(), " ", Secret.of("")))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
