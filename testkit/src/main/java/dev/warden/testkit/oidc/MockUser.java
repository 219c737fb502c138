package dev.warden.testkit.oidc;

import java.util.List;
import java.util.Objects;

/**
 * A person known to the {@link MockIdentityProvider}; tokens it issues for the subject carry these
 * claims.
 *
 * @param subject the {@code sub} claim
 * @param email the {@code email} claim (always {@code email_verified: true}), or null for none
 * @param preferredUsername the {@code preferred_username} claim, or null for none
 * @param groups the {@code groups} claim
 */
public record MockUser(
    String subject, String email, String preferredUsername, List<String> groups) {
  public MockUser {
    Objects.requireNonNull(subject, "subject");
    groups = List.copyOf(groups);
  }
}
