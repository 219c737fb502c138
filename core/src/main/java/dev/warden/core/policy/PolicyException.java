package dev.warden.core.policy;

import java.util.List;
import java.util.stream.Collectors;

/**
 * A policy Warden refuses to use: every problem found, each with where it was written. A policy
 * that fails to load never replaces the one in force.
 */
public final class PolicyException extends Exception {
  private static final long serialVersionUID = 1L;

  private final transient List<Problem> problems;

  /**
   * One thing wrong with a policy.
   *
   * @param origin where, as {@code file:line:column}, or empty when it has no position
   * @param reason what is wrong
   */
  public record Problem(String origin, String reason) {
    @Override
    public String toString() {
      return origin.isEmpty() ? reason : origin + ": " + reason;
    }
  }

  public PolicyException(List<Problem> problems) {
    super(problems.stream().map(Problem::toString).collect(Collectors.joining("\n")));
    if (problems.isEmpty()) {
      throw new IllegalArgumentException("a policy error needs at least one problem");
    }
    this.problems = List.copyOf(problems);
  }

  public PolicyException(String origin, String reason) {
    this(List.of(new Problem(origin, reason)));
  }

  public List<Problem> problems() {
    return problems;
  }
}
