package dev.warden.server.cli;

import dev.warden.core.environment.JustInTime;
import dev.warden.server.audit.AuditJson;
import java.io.PrintStream;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code warden access request|list|cancel}: just-in-time access windows, asked for, followed and
 * withdrawn through the running server's REST API as {@code warden approvals} talks to it (the same
 * client, the same password handling); reviewers approve them with {@code warden approvals}.
 */
@Command(
    name = "access",
    description = "Ask for, list and cancel just-in-time access windows.",
    synopsisSubcommandLabel = "(request | list | cancel)")
final class AccessCommand implements Callable<Integer> {

  /** How often {@code request --wait} asks whether the request was decided. */
  static final Duration WAIT_POLL = Duration.ofSeconds(1);

  @Override
  public Integer call() {
    throw new UsageException(
        "missing subcommand: use access request, access list or access cancel ID");
  }

  /** The command with its subcommands, as {@code Main} registers it. */
  static CommandLine command(Terminal terminal) {
    return new CommandLine(new AccessCommand())
        .addSubcommand(new Request(terminal))
        .addSubcommand(new ListWindows(terminal))
        .addSubcommand(new Cancel(terminal));
  }

  @Command(
      name = "request",
      description =
          "Ask to work as an elevated role in an environment for a while. Once approved, new"
              + " sessions log in as that role until the window ends; sessions already open keep"
              + " their role (reconnect to use the window).")
  static final class Request implements Callable<Integer> {
    private final Terminal terminal;

    @Option(names = "--env", required = true, paramLabel = "ENV", description = "The environment.")
    String env;

    @Option(
        names = "--role",
        required = true,
        paramLabel = "ROLE",
        description = "The name of the environment's role mapping, e.g. writer.")
    String role;

    @Option(
        names = "--for",
        required = true,
        paramLabel = "DURATION",
        description = "How long, from approval: e.g. 30m, 1h, 1h30m (at most the role's max).")
    String length;

    @Option(
        names = "--reason",
        required = true,
        paramLabel = "TEXT",
        description = "Why; shown to reviewers and kept in the audit trail.")
    String reason;

    @Option(
        names = "--wait",
        description = "Wait until the request is approved, denied or expires, then say which.")
    boolean await;

    @Option(names = "--json", description = "The request as JSON.")
    boolean json;

    @CommandLine.Mixin AuditCommand.ClientOptions options = new AuditCommand.ClientOptions();

    Request(Terminal terminal) {
      this.terminal = terminal;
    }

    @Override
    public Integer call() {
      try {
        JustInTime.parseDuration(length);
      } catch (IllegalArgumentException e) {
        throw new UsageException("--for: " + e.getMessage());
      }
      if (reason.isBlank()) {
        throw new UsageException("--reason must say why, e.g. --reason \"INC-42: fix orders\"");
      }
      Map<String, Object> body = new LinkedHashMap<>();
      body.put("env", env);
      body.put("role", role);
      body.put("for", length.strip());
      body.put("reason", reason);
      ApprovalsCommand.Client client = ApprovalsCommand.client(terminal, options);
      Map<String, Object> r = client.post("/api/access", body);
      PrintStream out = terminal.out();
      String id = ApprovalsCommand.field(r, "id");
      if (json && !await) {
        out.println(new AuditJson().write(r));
        return Main.OK;
      }
      if (!json) {
        out.println(
            "requested "
                + id
                + ": role "
                + access(r, "role")
                + " in "
                + ApprovalsCommand.field(r, "environment")
                + " for "
                + access(r, "duration")
                + "; it needs "
                + summary(r)
                + " (warden approvals approve "
                + id
                + ")");
      }
      if (!await) {
        return Main.OK;
      }
      while ("pending".equals(ApprovalsCommand.field(r, "status"))) {
        try {
          Thread.sleep(WAIT_POLL);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new CommandFailure("interrupted while waiting for " + id, e);
        }
        r = client.get("/api/approvals/" + id);
      }
      if (json) {
        out.println(new AuditJson().write(r));
      }
      String status = ApprovalsCommand.field(r, "status");
      if (status.equals("approved")) {
        if (!json) {
          out.println(
              "approved "
                  + id
                  + ": new sessions in "
                  + ApprovalsCommand.field(r, "environment")
                  + " log in as "
                  + access(r, "role")
                  + " until "
                  + ApprovalsCommand.time(access(r, "window_end"))
                  + "; sessions already open keep their role (reconnect)");
        }
        return Main.OK;
      }
      throw new CommandFailure(id + " was not approved: " + decided(r));
    }
  }

  @Command(
      name = "list",
      description =
          "List your access requests and windows, newest first: pending, open (with the time left)"
              + " and ended.")
  static final class ListWindows implements Callable<Integer> {
    private final Terminal terminal;

    @Option(
        names = "--status",
        paramLabel = "STATUS",
        description =
            "all (default), or pending, approved (open), denied, expired, used (ended), cancelled,"
                + " several separated by commas.",
        defaultValue = "all")
    String status = "all";

    @Option(
        names = {"-n", "--limit"},
        paramLabel = "N",
        description = "At most this many (1 to 1000, default ${DEFAULT-VALUE}).",
        defaultValue = "50")
    int limit = 50;

    @Option(names = "--json", description = "One JSON object per line instead of a table.")
    boolean json;

    @CommandLine.Mixin AuditCommand.ClientOptions options = new AuditCommand.ClientOptions();

    ListWindows(Terminal terminal) {
      this.terminal = terminal;
    }

    @Override
    public Integer call() {
      if (limit < 1 || limit > 1000) {
        throw new UsageException("--limit must be from 1 to 1000, not " + limit);
      }
      if (!status.matches("[A-Za-z]+(,[A-Za-z]+)*")) {
        throw new UsageException(
            "--status takes all, or pending, approved, denied, expired, used, cancelled"
                + " (comma-separated)");
      }
      Map<String, Object> answer =
          ApprovalsCommand.client(terminal, options)
              .get(
                  "/api/access?status="
                      + URLEncoder.encode(status.toLowerCase(Locale.ROOT), StandardCharsets.UTF_8)
                      + "&limit="
                      + limit);
      List<Map<String, Object>> list = new ArrayList<>();
      if (answer.get("requests") instanceof List<?> items) {
        for (Object item : items) {
          if (item instanceof Map<?, ?> m) {
            list.add(ApprovalsCommand.object(m));
          }
        }
      }
      PrintStream out = terminal.out();
      if (json) {
        AuditJson writer = new AuditJson();
        list.forEach(r -> out.println(writer.write(r)));
        return Main.OK;
      }
      if (list.isEmpty()) {
        out.println("No access requests.");
        return Main.OK;
      }
      String format = "%-17s  %-9s  %-12s  %-12s  %-8s  %s%n";
      out.printf(Locale.ROOT, format, "ID", "STATUS", "ENV", "ROLE", "FOR", "WINDOW");
      for (Map<String, Object> r : list) {
        out.printf(
            Locale.ROOT,
            format,
            ApprovalsCommand.field(r, "id"),
            ApprovalsCommand.field(r, "status"),
            ApprovalsCommand.field(r, "environment"),
            access(r, "role"),
            access(r, "duration"),
            window(r));
      }
      return Main.OK;
    }
  }

  @Command(
      name = "cancel",
      description = "Withdraw a pending access request, or end an open window now.")
  static final class Cancel implements Callable<Integer> {
    private final Terminal terminal;

    @Parameters(paramLabel = "ID", description = "The request's id (apr_...).")
    String id;

    @Option(names = "--json", description = "The request as it now stands, as JSON.")
    boolean json;

    @CommandLine.Mixin AuditCommand.ClientOptions options = new AuditCommand.ClientOptions();

    Cancel(Terminal terminal) {
      this.terminal = terminal;
    }

    @Override
    public Integer call() {
      ApprovalsCommand.checkId(id, "a request id");
      Map<String, Object> r =
          ApprovalsCommand.client(terminal, options)
              .post("/api/access/" + id + "/cancel", Map.of());
      if (json) {
        terminal.out().println(new AuditJson().write(r));
      } else if (r.containsKey("access") && access(r, "window_start").length() > 0) {
        terminal
            .out()
            .println(
                "ended the window "
                    + ApprovalsCommand.field(r, "id")
                    + " for role "
                    + access(r, "role")
                    + "; sessions opened with it end when next idle");
      } else {
        terminal.out().println("cancelled " + ApprovalsCommand.field(r, "id"));
      }
      return Main.OK;
    }
  }

  /** Where a request's window stands, for a person. */
  static String window(Map<String, Object> r) {
    String state = ApprovalsCommand.field(r, "window");
    return switch (state) {
      case "open" ->
          "open, "
              + remaining(r.get("remaining_seconds"))
              + " left (until "
              + ApprovalsCommand.time(access(r, "window_end"))
              + ")";
      case "ended" ->
          access(r, "window_end").isEmpty()
              ? "ended"
              : "ended " + ApprovalsCommand.time(access(r, "window_end"));
      case "pending" -> "waits for " + summary(r);
      default -> "-";
    };
  }

  private static String remaining(Object seconds) {
    long s = seconds instanceof Number n ? n.longValue() : 0;
    return JustInTime.format(Duration.ofSeconds(Math.max(0, s)));
  }

  private static String decided(Map<String, Object> r) {
    String status = ApprovalsCommand.field(r, "status");
    if (status.equals("denied") && r.get("reviews") instanceof List<?> reviews) {
      for (Object o : reviews.reversed()) {
        if (o instanceof Map<?, ?> m && "deny".equals(m.get("decision"))) {
          Map<String, Object> review = ApprovalsCommand.object(m);
          String comment = ApprovalsCommand.field(review, "comment");
          return "denied by "
              + ApprovalsCommand.field(review, "reviewer")
              + (comment.isEmpty() ? "" : ": " + comment);
        }
      }
    }
    return status;
  }

  private static String summary(Map<String, Object> r) {
    return r.get("requirement") instanceof Map<?, ?> q
        ? AuditLines.escape(String.valueOf(q.get("summary")))
        : "approval";
  }

  private static String access(Map<String, Object> r, String key) {
    return r.get("access") instanceof Map<?, ?> a && a.get(key) != null
        ? AuditLines.escape(String.valueOf(a.get(key)))
        : "";
  }
}
