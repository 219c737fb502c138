package dev.warden.server.api;

import dev.warden.core.identity.Identity;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * What a person or service may see and do in the console and REST API, from their groups: {@code
 * admins} are administrators, {@code approvers} approvers, {@code auditors} auditors, and every
 * identity is a user. An administrator holds every role.
 *
 * <ul>
 *   <li>user: their own approval and access requests, the environments, the policy simulator for
 *       themselves;
 *   <li>approver: reviewing approval requests (as the request's rule allows);
 *   <li>auditor: reading the audit trail, live and past sessions, the overview, the data map, the
 *       policy, identities and metrics;
 *   <li>administrator: all of that, and changing things: ending sessions, service tokens.
 * </ul>
 */
public enum Roles {
  USER("users"),
  APPROVER("approvers"),
  AUDITOR("auditors"),
  ADMINISTRATOR("admins");

  private final String group;

  Roles(String group) {
    this.group = group;
  }

  /** The group that grants this role ({@code users} for the role everyone has). */
  public String group() {
    return group;
  }

  /** The role's name as the API shows it. */
  public String label() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }

  /** The roles of an identity in {@code groups}. */
  public static Set<Roles> of(Set<String> groups) {
    EnumSet<Roles> roles = EnumSet.of(USER);
    if (groups.contains(ADMINISTRATOR.group)) {
      return EnumSet.allOf(Roles.class);
    }
    if (groups.contains(APPROVER.group)) {
      roles.add(APPROVER);
    }
    if (groups.contains(AUDITOR.group)) {
      roles.add(AUDITOR);
    }
    return roles;
  }

  public static Set<Roles> of(Identity identity) {
    return of(identity.groups());
  }

  /** Whether {@code identity} holds {@code role}. */
  public static boolean has(Identity identity, Roles role) {
    return of(identity).contains(role);
  }

  /** The labels of {@code groups}' roles, in order of power. */
  public static List<String> labels(Set<String> groups) {
    return of(groups).stream().map(Roles::label).toList();
  }

  /**
   * Throws the API's 403 unless {@code user} holds one of {@code roles}; {@code what} says what was
   * asked for ("read the data map").
   */
  static void require(Identity user, String what, Roles... roles) {
    Set<Roles> held = of(user);
    for (Roles r : roles) {
      if (held.contains(r)) {
        return;
      }
    }
    StringBuilder needed = new StringBuilder();
    for (int i = 0; i < roles.length; i++) {
      if (i > 0) {
        needed.append(i == roles.length - 1 ? " or " : ", ");
      }
      needed.append(roles[i].group());
    }
    throw new ApiServer.ApiError(
        403, "user " + user.name() + " may not " + what + ": that needs the group " + needed);
  }
}
