package dev.warden.server.api;

import io.javalin.config.RoutesConfig;

/**
 * Endpoints of the REST API that a part of Warden serves beside the API's own (live sessions,
 * metrics, the data map, the policy, ...), registered when the API starts ({@link
 * ApiDependencies#withRoutes}). Handlers authenticate each request with the authenticator given,
 * check its {@link Roles}, answer errors by throwing {@link ApiServer.ApiError} (the API writes it
 * as {@code {"error": ...}} with its status), and record what they change with {@link
 * ApiRequests#recordDone}. Route groups live in this package.
 */
public interface RouteGroup {
  /**
   * Registers the group's endpoints on {@code routes}; {@code authenticator} tells who a request
   * comes from (HTTP Basic or the console's session, with its CSRF token on changes) or throws the
   * API's 401.
   */
  void register(RoutesConfig routes, RequestAuthenticator authenticator);
}
