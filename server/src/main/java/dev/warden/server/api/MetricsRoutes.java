package dev.warden.server.api;

import dev.warden.core.approval.ApprovalRequest;
import dev.warden.core.approval.ApprovalStore;
import dev.warden.core.approval.Approvals;
import dev.warden.core.audit.AuditTrail;
import dev.warden.core.environment.Environment;
import dev.warden.core.environment.Environments;
import dev.warden.core.identity.Identity;
import dev.warden.core.session.EnvironmentCounters;
import dev.warden.core.session.SessionRegistry;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryUsage;
import java.lang.management.OperatingSystemMXBean;
import java.lang.management.RuntimeMXBean;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * {@code GET /metrics}: Warden's metrics in Prometheus' text exposition format (version 0.0.4), for
 * auditors, administrators and the group {@code monitoring} (a scraper's service token or user).
 * Prometheus authenticates with HTTP Basic ({@code basic_auth} in its scrape configuration); a
 * request without credentials gets 401 with {@code WWW-Authenticate}.
 *
 * <p>Every metric is read when scraped, from counters the proxy keeps anyway ({@link
 * SessionRegistry}) and the JVM's own beans: a scrape costs the statement path nothing. Scrapes are
 * not recorded in the audit trail (they change nothing and come every few seconds); no statement
 * text, value or secret is ever a label.
 */
public final class MetricsRoutes implements RouteGroup {
  /** The group whose members may read the metrics besides auditors and administrators. */
  public static final String MONITORING = "monitoring";

  static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

  /** Pending approval requests are counted up to this many (the store's largest list). */
  static final int MAX_PENDING_COUNTED = 1000;

  private final SessionRegistry sessions;
  private final Environments environments;
  private final AuditTrail trail;
  private final Optional<Approvals> approvals;
  private RequestAuthenticator authenticator;

  private MetricsRoutes(
      SessionRegistry sessions,
      Environments environments,
      AuditTrail trail,
      Optional<Approvals> approvals) {
    this.sessions = Objects.requireNonNull(sessions, "sessions");
    this.environments = Objects.requireNonNull(environments, "environments");
    this.trail = Objects.requireNonNull(trail, "trail");
    this.approvals = Objects.requireNonNull(approvals, "approvals");
  }

  /**
   * The metrics of {@code sessions} (live sessions and their environments' counters), every
   * configured environment shown even before its first login, the availability of {@code trail},
   * and the approval requests waiting in {@code approvals} when there are approvals.
   */
  public static MetricsRoutes of(
      SessionRegistry sessions,
      Environments environments,
      AuditTrail trail,
      Optional<Approvals> approvals) {
    return new MetricsRoutes(sessions, environments, trail, approvals);
  }

  @Override
  public void register(RoutesConfig routes, RequestAuthenticator authenticator) {
    this.authenticator = Objects.requireNonNull(authenticator, "authenticator");
    routes.get("/metrics", this::metrics);
  }

  private void metrics(Context ctx) throws InterruptedException {
    Identity user = authenticator.authenticate(ctx);
    if (!Roles.has(user, Roles.AUDITOR) && !user.groups().contains(MONITORING)) {
      throw new ApiServer.ApiError(
          403,
          "user "
              + user.name()
              + " may not read the metrics: that needs the group "
              + MONITORING
              + ", "
              + Roles.AUDITOR.group()
              + " or "
              + Roles.ADMINISTRATOR.group());
    }
    ctx.status(200).contentType(CONTENT_TYPE).result(render());
  }

  /** The exposition text, as scraped now. */
  String render() {
    Exposition out = new Exposition();
    Map<String, EnvironmentCounters> counters = new TreeMap<>();
    for (Environment e : environments.all()) {
      counters.put(e.name(), sessions.counters(e.name()));
    }
    for (EnvironmentCounters c : sessions.counters()) {
      counters.putIfAbsent(c.environment(), c);
    }
    Map<String, Integer> live = sessions.sizeByEnvironment();
    TreeSet<String> names = new TreeSet<>(counters.keySet());
    names.addAll(live.keySet());
    names.remove(""); // logins that named no environment have no sessions

    out.family("warden_sessions", "gauge", "Sessions connected through Warden now.");
    for (String env : names) {
      out.sample("warden_sessions", List.of("environment", env), live.getOrDefault(env, 0));
    }
    out.family(
        "warden_connections_total",
        "counter",
        "Logins through the PostgreSQL listener: accepted (the session began), refused (failed"
            + " authentication, not admitted by policy, no role, unknown database) or failed (the"
            + " database could not be reached or the session recorded).");
    for (EnvironmentCounters c : counters.values()) {
      connections(out, c, "accepted", c.connectionsAccepted());
      connections(out, c, "refused", c.connectionsRefused());
      connections(out, c, "failed", c.connectionsFailed());
    }
    out.family(
        "warden_statements_total",
        "counter",
        "Statements recorded, by the verdict their audit record carries.");
    for (EnvironmentCounters c : counters.values()) {
      statements(out, c, "allowed", c.statementsAllowed());
      statements(out, c, "denied", c.statementsDenied());
      statements(out, c, "observed", c.statementsObserved());
    }
    out.family(
        "warden_masked_values_total", "counter", "Values masked in results sent to clients.");
    for (EnvironmentCounters c : counters.values()) {
      out.sample(
          "warden_masked_values_total", List.of("environment", c.environment()), c.maskedValues());
    }
    out.family(
        "warden_audit_available",
        "gauge",
        "1 while the audit trail takes records, 0 while it refuses them (and Warden refuses"
            + " statements).");
    out.sample("warden_audit_available", List.of(), trail.unavailable().isEmpty() ? 1 : 0);
    if (approvals.isPresent()) {
      out.family(
          "warden_approvals_pending",
          "gauge",
          "Approval requests waiting for a decision (counted up to " + MAX_PENDING_COUNTED + ").");
      List<ApprovalRequest> pending =
          approvals
              .get()
              .list(
                  new ApprovalStore.Filter(
                      List.of(ApprovalRequest.Status.PENDING),
                      Optional.empty(),
                      Optional.empty(),
                      Optional.empty(),
                      MAX_PENDING_COUNTED));
      out.sample("warden_approvals_pending", List.of(), pending.size());
    }
    process(out);
    return out.toString();
  }

  private static void connections(Exposition out, EnvironmentCounters c, String result, long n) {
    out.sample(
        "warden_connections_total", List.of("environment", c.environment(), "result", result), n);
  }

  private static void statements(Exposition out, EnvironmentCounters c, String verdict, long n) {
    out.sample(
        "warden_statements_total", List.of("environment", c.environment(), "verdict", verdict), n);
  }

  /** The process and JVM basics, under the names Prometheus' own Java client uses. */
  private static void process(Exposition out) {
    RuntimeMXBean runtime = ManagementFactory.getRuntimeMXBean();
    out.family("process_start_time_seconds", "gauge", "When the process started, in Unix time.");
    out.sample("process_start_time_seconds", List.of(), runtime.getStartTime() / 1000.0);
    out.family("process_uptime_seconds", "gauge", "How long the process has been running.");
    out.sample("process_uptime_seconds", List.of(), runtime.getUptime() / 1000.0);
    OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
    if (os instanceof com.sun.management.OperatingSystemMXBean sun) {
      long cpu = sun.getProcessCpuTime();
      if (cpu >= 0) {
        out.family("process_cpu_seconds_total", "counter", "CPU time the process has used.");
        out.sample("process_cpu_seconds_total", List.of(), cpu / 1e9);
      }
    }
    if (os instanceof com.sun.management.UnixOperatingSystemMXBean unix) {
      out.family("process_open_fds", "gauge", "File descriptors the process has open.");
      out.sample("process_open_fds", List.of(), unix.getOpenFileDescriptorCount());
      out.family("process_max_fds", "gauge", "The most file descriptors the process may open.");
      out.sample("process_max_fds", List.of(), unix.getMaxFileDescriptorCount());
    }
    MemoryUsage heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
    MemoryUsage nonHeap = ManagementFactory.getMemoryMXBean().getNonHeapMemoryUsage();
    out.family("jvm_memory_used_bytes", "gauge", "Memory the JVM uses, by area.");
    out.sample("jvm_memory_used_bytes", List.of("area", "heap"), heap.getUsed());
    out.sample("jvm_memory_used_bytes", List.of("area", "nonheap"), nonHeap.getUsed());
    out.family("jvm_memory_committed_bytes", "gauge", "Memory the JVM has reserved, by area.");
    out.sample("jvm_memory_committed_bytes", List.of("area", "heap"), heap.getCommitted());
    out.sample("jvm_memory_committed_bytes", List.of("area", "nonheap"), nonHeap.getCommitted());
    if (heap.getMax() >= 0) {
      out.family("jvm_memory_max_bytes", "gauge", "The most memory the JVM may use, by area.");
      out.sample("jvm_memory_max_bytes", List.of("area", "heap"), heap.getMax());
    }
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    out.family("jvm_threads_current", "gauge", "Live platform threads.");
    out.sample("jvm_threads_current", List.of(), threads.getThreadCount());
    out.family("jvm_threads_daemon", "gauge", "Live daemon threads.");
    out.sample("jvm_threads_daemon", List.of(), threads.getDaemonThreadCount());
    out.family("jvm_threads_peak", "gauge", "The most live platform threads since start.");
    out.sample("jvm_threads_peak", List.of(), threads.getPeakThreadCount());
  }

  /** Text in the exposition format, family by family. */
  static final class Exposition {
    private final StringBuilder text = new StringBuilder(4096);
    private final List<String> families = new ArrayList<>();

    /** Starts a metric family: its HELP and TYPE lines. */
    void family(String name, String type, String help) {
      if (families.contains(name)) {
        throw new IllegalStateException("metric family " + name + " written twice");
      }
      families.add(name);
      text.append("# HELP ").append(name).append(' ').append(escapeHelp(help)).append('\n');
      text.append("# TYPE ").append(name).append(' ').append(type).append('\n');
    }

    /** One sample; {@code labels} alternates names and values. */
    void sample(String name, List<String> labels, double value) {
      text.append(name);
      if (!labels.isEmpty()) {
        text.append('{');
        for (int i = 0; i < labels.size(); i += 2) {
          if (i > 0) {
            text.append(',');
          }
          text.append(labels.get(i)).append("=\"").append(escapeLabel(labels.get(i + 1)));
          text.append('"');
        }
        text.append('}');
      }
      text.append(' ').append(number(value)).append('\n');
    }

    @Override
    public String toString() {
      return text.toString();
    }

    /** A label value as the format writes it: backslash, double quote and line feed escaped. */
    static String escapeLabel(String value) {
      StringBuilder out = new StringBuilder(value.length() + 8);
      for (int i = 0; i < value.length(); i++) {
        char c = value.charAt(i);
        switch (c) {
          case '\\' -> out.append("\\\\");
          case '"' -> out.append("\\\"");
          case '\n' -> out.append("\\n");
          default -> out.append(c);
        }
      }
      return out.toString();
    }

    /** HELP text as the format writes it: backslash and line feed escaped. */
    static String escapeHelp(String value) {
      return value.replace("\\", "\\\\").replace("\n", "\\n");
    }

    /** Whole numbers without a fraction; others in Java's shortest form. */
    static String number(double value) {
      if (value == Math.rint(value) && Math.abs(value) < 1e15) {
        return Long.toString((long) value);
      }
      return String.format(Locale.ROOT, "%s", value);
    }
  }
}
