package dev.warden.core.identity;

import java.util.Objects;
import java.util.Optional;

/**
 * Someone who can log in with SCRAM-SHA-256: a local user, or a service token whose secret is the
 * SCRAM password.
 *
 * @param identity the identity a successful login yields
 * @param credential the stored SCRAM verifier (never the secret itself)
 * @param refusal when present, a correct proof is still refused for this reason (a revoked or
 *     expired service token); a wrong proof is reported as a wrong password either way
 */
public record ScramAccount(
    Identity identity, ScramCredential credential, Optional<AuthenticationFailure.Reason> refusal) {
  public ScramAccount {
    Objects.requireNonNull(identity, "identity");
    Objects.requireNonNull(credential, "credential");
    Objects.requireNonNull(refusal, "refusal");
  }

  /** A local user's account. */
  public static ScramAccount of(LocalUser user) {
    return new ScramAccount(
        new Identity(user.name(), user.groups(), AuthMethod.SCRAM_SHA_256),
        user.credential(),
        Optional.empty());
  }
}
