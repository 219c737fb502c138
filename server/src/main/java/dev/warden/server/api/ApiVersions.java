package dev.warden.server.api;

import jakarta.servlet.DispatcherType;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import java.io.IOException;
import java.util.EnumSet;
import org.eclipse.jetty.ee10.servlet.FilterHolder;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;

/**
 * The REST API's versions. Version {@value #CURRENT} is the current one: every endpoint is served
 * under {@code /api/v1/...} and, as the current version, under {@code /api/...}. A later version
 * that changes an answer incompatibly will be served under its own prefix while {@code /api/v1/}
 * keeps answering as it does; {@code /api/} follows the current version. Every answer says which
 * version produced it in the {@code Warden-API-Version} header.
 *
 * <p>A request under {@code /api/v1/} is forwarded inside the server to the same path under {@code
 * /api/}, so both reach the same handler with the same authentication, CSRF checks and audit
 * records.
 */
final class ApiVersions {
  /** The current version. */
  static final int CURRENT = 1;

  /** The prefix of the current version's paths. */
  static final String PREFIX = "/api/v" + CURRENT + "/";

  /** The header every answer carries. */
  static final String HEADER = "Warden-API-Version";

  private ApiVersions() {}

  /** Installs the forwarding on the API's servlet context. */
  static void install(ServletContextHandler context) {
    FilterHolder holder = new FilterHolder(new Forward());
    holder.setAsyncSupported(true);
    context.addFilter(holder, "/api/v" + CURRENT + "/*", EnumSet.of(DispatcherType.REQUEST));
  }

  /** The path a versioned path stands for, or null when it is not one. */
  static String unversioned(String path) {
    return path.startsWith(PREFIX) ? "/api/" + path.substring(PREFIX.length()) : null;
  }

  private static final class Forward implements Filter {
    @Override
    public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain)
        throws IOException, ServletException {
      HttpServletRequest http = (HttpServletRequest) request;
      String path = http.getRequestURI().substring(http.getContextPath().length());
      String target = unversioned(path);
      if (target == null) {
        chain.doFilter(request, response);
        return;
      }
      String query = http.getQueryString();
      request
          .getRequestDispatcher(query == null ? target : target + "?" + query)
          .forward(request, response);
    }
  }
}
