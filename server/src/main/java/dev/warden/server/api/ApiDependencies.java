package dev.warden.server.api;

import dev.warden.core.approval.Approvals;
import dev.warden.core.audit.AuditTrail;
import dev.warden.core.audit.search.AuditSearch;
import dev.warden.core.environment.Environment;
import dev.warden.core.environment.Environments;
import dev.warden.core.identity.AuthThrottle;
import dev.warden.core.identity.Identity;
import dev.warden.core.identity.ScramAccounts;
import dev.warden.core.identity.TokenVerifier;
import dev.warden.core.identity.UserDirectory;
import dev.warden.server.audit.AuditFeed;
import java.time.Clock;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * What the REST API works with, built by the composition root.
 *
 * @param users the local users API clients authenticate as (HTTP Basic against their SCRAM
 *     verifiers) with their groups
 * @param search the audit trail's search
 * @param trail where the API records what it does: searches, tails, failed logins
 * @param feed the trail's durable batches, for the live tail
 * @param throttle backoff on failed logins per (user, source address); pass the proxy's, so that
 *     guesses through either door slow each other down
 * @param clock the time of recorded events and of relative search bounds
 * @param approvals the approval service, for the {@code /api/approvals} endpoints; without it they
 *     answer 404
 * @param access the environments and the admission check for the {@code /api/access} endpoints
 *     (access windows); without it they answer 404
 * @param accounts whom HTTP Basic accepts with a password or service token: {@code users} unless
 *     {@link #withLogins} says otherwise
 * @param tokens the identity provider's token verifier, for a token given as the password; {@link
 *     TokenVerifier#NONE} for none
 */
public record ApiDependencies(
    UserDirectory users,
    AuditSearch search,
    AuditTrail trail,
    AuditFeed feed,
    AuthThrottle throttle,
    Clock clock,
    Optional<Approvals> approvals,
    Optional<Access> access,
    ScramAccounts accounts,
    TokenVerifier tokens,
    List<RouteGroup> routeGroups) {
  /**
   * What the access endpoints need besides the approval service.
   *
   * @param environments the configured environments and their role mappings
   * @param admission whether policy admits an identity to an environment at all: an access request
   *     whose role names no {@code requestable-by} groups is open to anyone admitted
   */
  public record Access(Environments environments, Admission admission) {
    public Access {
      Objects.requireNonNull(environments, "environments");
      Objects.requireNonNull(admission, "admission");
    }
  }

  /** Whether policy lets {@code identity}, asking from {@code source}, use {@code environment}. */
  @FunctionalInterface
  public interface Admission {
    boolean admits(Identity identity, Environment environment, String source);
  }

  public ApiDependencies {
    Objects.requireNonNull(users, "users");
    Objects.requireNonNull(search, "search");
    Objects.requireNonNull(trail, "trail");
    Objects.requireNonNull(feed, "feed");
    Objects.requireNonNull(throttle, "throttle");
    Objects.requireNonNull(clock, "clock");
    Objects.requireNonNull(approvals, "approvals");
    Objects.requireNonNull(access, "access");
    Objects.requireNonNull(accounts, "accounts");
    Objects.requireNonNull(tokens, "tokens");
    routeGroups = List.copyOf(routeGroups);
  }

  /** Without approvals. */
  public ApiDependencies(
      UserDirectory users,
      AuditSearch search,
      AuditTrail trail,
      AuditFeed feed,
      AuthThrottle throttle,
      Clock clock) {
    this(
        users,
        search,
        trail,
        feed,
        throttle,
        clock,
        Optional.empty(),
        Optional.empty(),
        ScramAccounts.of(users),
        TokenVerifier.NONE,
        List.of());
  }

  /** The same, with the approval endpoints served by {@code approvals}. */
  public ApiDependencies withApprovals(Approvals approvals) {
    return new ApiDependencies(
        users,
        search,
        trail,
        feed,
        throttle,
        clock,
        Optional.of(approvals),
        access,
        accounts,
        tokens,
        routeGroups);
  }

  /**
   * The same, with the access-window endpoints ({@code /api/access}) served for {@code
   * environments}, requests checked against policy's {@code admission}; needs {@link
   * #withApprovals}.
   */
  public ApiDependencies withAccess(Environments environments, Admission admission) {
    return new ApiDependencies(
        users,
        search,
        trail,
        feed,
        throttle,
        clock,
        approvals,
        Optional.of(new Access(environments, admission)),
        accounts,
        tokens,
        routeGroups);
  }

  /**
   * The same, with API clients authenticated as {@code accounts} (local users and service tokens)
   * and, with a configured identity provider, by its tokens.
   */
  public ApiDependencies withLogins(ScramAccounts accounts, TokenVerifier tokens) {
    return new ApiDependencies(
        users,
        search,
        trail,
        feed,
        throttle,
        clock,
        approvals,
        access,
        accounts,
        tokens,
        routeGroups);
  }

  /** The same, with the endpoints of {@code group} served too. */
  public ApiDependencies withRoutes(RouteGroup group) {
    List<RouteGroup> groups = new java.util.ArrayList<>(routeGroups);
    groups.add(Objects.requireNonNull(group, "group"));
    return new ApiDependencies(
        users, search, trail, feed, throttle, clock, approvals, access, accounts, tokens, groups);
  }
}
