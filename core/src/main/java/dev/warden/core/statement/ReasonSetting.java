package dev.warden.core.statement;

import java.util.Objects;
import java.util.Optional;

/**
 * What a statement does to the reason the session gives for its statements, the setting {@code
 * warden.reason}: sets it ({@code SET warden.reason = 'INC-1'}) or forgets it ({@code RESET
 * warden.reason}, {@code SET warden.reason TO DEFAULT}, {@code RESET ALL}, {@code DISCARD ALL}).
 *
 * @param value the reason set, exactly as the database will hold it; empty when the statement
 *     resets it
 * @param local {@code SET LOCAL}: for the current transaction only
 */
public record ReasonSetting(Optional<String> value, boolean local) {
  /** A reset of the reason for the session. */
  public static final ReasonSetting RESET = new ReasonSetting(Optional.empty(), false);

  public ReasonSetting {
    Objects.requireNonNull(value, "value");
  }

  /** Sets the reason to {@code value} for the session. */
  public static ReasonSetting of(String value) {
    return new ReasonSetting(Optional.of(value), false);
  }

  /** Never the value: it is the person's text and may hold anything. */
  @Override
  public String toString() {
    return value.isEmpty()
        ? (local ? "ReasonSetting[reset, local]" : "ReasonSetting[reset]")
        : "ReasonSetting[" + value.get().length() + " characters" + (local ? ", local]" : "]");
  }
}
