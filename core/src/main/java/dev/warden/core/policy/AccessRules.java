package dev.warden.core.policy;

import java.util.List;
import java.util.Objects;

/**
 * A policy's {@code access:} section: who may use which environment, decided once per session.
 *
 * @param allowByDefault what happens to a session no rule matches: let in (the default, so that
 *     policies without the section keep working) or refused
 * @param rules tried in order; the first whose condition holds decides
 */
public record AccessRules(boolean allowByDefault, List<AccessRule> rules) {
  /** No access section: every authenticated identity may use every environment it is routed to. */
  public static final AccessRules OPEN = new AccessRules(true, List.of());

  public AccessRules {
    rules = List.copyOf(Objects.requireNonNull(rules, "rules"));
  }

  /** True when the section lets everyone in without a rule: {@link #OPEN} or its equal. */
  public boolean open() {
    return allowByDefault && rules.isEmpty();
  }
}
