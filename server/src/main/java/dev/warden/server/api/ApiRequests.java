package dev.warden.server.api;

import dev.warden.core.audit.AuditEvent;
import dev.warden.core.audit.AuditTrail;
import dev.warden.core.audit.Durability;
import dev.warden.core.identity.Identity;
import dev.warden.server.audit.AuditJson;
import io.javalin.http.Context;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** What the API's routes share: reading a JSON object body, and recording a change they made. */
final class ApiRequests {
  private static final Logger LOG = LoggerFactory.getLogger(ApiRequests.class);

  /** How long a change waits for its audit record to be durable. */
  static final long RECORD_TIMEOUT_SECONDS = 5;

  private ApiRequests() {}

  /**
   * The request's body as a JSON object (empty for no body), refusing anything else, and any field
   * not in {@code fields} with a message naming {@code fieldsInWords}.
   */
  static Map<String, Object> body(
      Context ctx, AuditJson json, Set<String> fields, String fieldsInWords) {
    String text = ctx.body();
    if (text.isBlank()) {
      return Map.of();
    }
    Object parsed;
    try {
      parsed = json.read(text);
    } catch (IllegalArgumentException e) {
      throw new ApiServer.ApiError(400, "the body is not valid JSON: " + shorten(e.getMessage()));
    }
    if (!(parsed instanceof Map<?, ?> map)) {
      throw new ApiServer.ApiError(400, "the body must be a JSON object");
    }
    Map<String, Object> body = new LinkedHashMap<>();
    for (Map.Entry<?, ?> e : map.entrySet()) {
      String key = String.valueOf(e.getKey());
      if (!fields.contains(key)) {
        throw new ApiServer.ApiError(
            400, "unknown field '" + shorten(key) + "'; the fields are " + fieldsInWords);
      }
      body.put(key, e.getValue());
    }
    return body;
  }

  /**
   * Records a change that was made and waits until the record is durable. The change is already
   * stored, so a failure here is logged rather than answered as if nothing happened.
   */
  static void recordDone(
      AuditTrail trail,
      Clock clock,
      String name,
      Identity user,
      Context ctx,
      Map<String, String> facts,
      boolean success)
      throws InterruptedException {
    Map<String, String> details = new LinkedHashMap<>(facts);
    details.put("via", "api");
    details.put("source", ctx.ip());
    AuditEvent event =
        new AuditEvent(clock.instant(), name, success, user.name(), Optional.empty(), details);
    try {
      trail.append(event, Durability.IMMEDIATE).get(RECORD_TIMEOUT_SECONDS, TimeUnit.SECONDS);
    } catch (ExecutionException | TimeoutException | RuntimeException e) {
      LOG.error(
          "REST API: {} of {} by {} was made but could not be recorded in the audit trail: {}",
          name,
          facts.get("request"),
          user.name(),
          e.toString());
    }
  }

  static String shorten(String text) {
    return text.length() <= 80 ? text : text.substring(0, 77) + "...";
  }
}
