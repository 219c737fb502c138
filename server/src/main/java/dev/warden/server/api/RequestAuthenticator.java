package dev.warden.server.api;

import dev.warden.core.identity.Identity;
import io.javalin.http.Context;

/**
 * Tells who a REST API request comes from, or throws the API's 401 (or 403 for a bad CSRF token).
 */
@FunctionalInterface
public interface RequestAuthenticator {
  Identity authenticate(Context ctx) throws InterruptedException;
}
