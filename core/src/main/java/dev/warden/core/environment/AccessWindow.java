package dev.warden.core.environment;

import java.time.Instant;
import java.util.Objects;

/**
 * An approved, time-boxed elevation: from {@code start} until {@code end}, {@code identity}'s new
 * sessions in {@code environment} log in as the role mapping named {@code role}.
 *
 * @param id the access request that opened it ({@code apr_...})
 * @param identity who may use it
 * @param environment where
 * @param role the name of the role mapping sessions log in as
 * @param start when it opened (its approval)
 * @param end when it ends, or ended (earlier when withdrawn)
 */
public record AccessWindow(
    String id, String identity, String environment, String role, Instant start, Instant end) {
  public AccessWindow {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(identity, "identity");
    Objects.requireNonNull(environment, "environment");
    Objects.requireNonNull(role, "role");
    Objects.requireNonNull(start, "start");
    Objects.requireNonNull(end, "end");
  }

  /** True from {@code start} (inclusive) until {@code end} (exclusive). */
  public boolean openAt(Instant at) {
    return !at.isBefore(start) && at.isBefore(end);
  }
}
