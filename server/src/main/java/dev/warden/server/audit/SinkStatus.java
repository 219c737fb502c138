package dev.warden.server.audit;

import java.util.Objects;
import java.util.Optional;

/**
 * Where one sink stands, for health checks and operators.
 *
 * @param name the sink, as configured
 * @param logId the log it exports
 * @param delivered the last sequence number it acknowledged (0 before the first)
 * @param failures consecutive failed attempts since the last success
 * @param lastError the last failure's message while it keeps failing
 */
public record SinkStatus(
    String name, String logId, long delivered, int failures, Optional<String> lastError) {
  public SinkStatus {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(logId, "logId");
    Objects.requireNonNull(lastError, "lastError");
  }
}
