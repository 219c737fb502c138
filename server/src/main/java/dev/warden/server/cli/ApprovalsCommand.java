package dev.warden.server.cli;

import dev.warden.core.identity.Secret;
import dev.warden.server.audit.AuditJson;
import dev.warden.server.config.WardenConfig;
import java.io.IOException;
import java.io.PrintStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code warden approvals list|show|approve|deny|cancel}: reviewers (and requesters) act on
 * approval requests through the running server's REST API, as a Warden user whose password comes
 * from {@code $WARDEN_PASSWORD}, the terminal or one line of standard input, never from a flag. The
 * server decides who may do what; this command shows its answers, for people or as {@code --json}.
 */
@Command(
    name = "approvals",
    description = "List, show, approve, deny and cancel approval requests.",
    synopsisSubcommandLabel = "(list | show | approve | deny | cancel)")
final class ApprovalsCommand implements Callable<Integer> {
  /** The longest statement shown on a line of {@code list}. */
  static final int STATEMENT_WIDTH = 60;

  private static final Pattern ID = Pattern.compile("apr_[a-z2-7]{1,64}");
  private static final Pattern WHITESPACE = Pattern.compile("[ \\t\\r\\n]+");

  @Override
  public Integer call() {
    throw new UsageException(
        "missing subcommand: use approvals list, approvals show ID, approvals approve ID,"
            + " approvals deny ID or approvals cancel ID");
  }

  /** The command with its subcommands, as {@code Main} registers it. */
  static CommandLine command(Terminal terminal) {
    return new CommandLine(new ApprovalsCommand())
        .addSubcommand(new ListRequests(terminal))
        .addSubcommand(new Show(terminal))
        .addSubcommand(new Approve(terminal))
        .addSubcommand(new Deny(terminal))
        .addSubcommand(new Cancel(terminal));
  }

  @Command(
      name = "list",
      description =
          "List approval requests, newest first: pending ones unless --status says otherwise."
              + " Members of approvers or admins see all; others see their own and those they"
              + " may review.")
  static final class ListRequests implements Callable<Integer> {
    private final Terminal terminal;

    @Option(
        names = "--status",
        paramLabel = "STATUS",
        description =
            "pending (default), approved, denied, expired, used, cancelled, several separated by"
                + " commas, or all.",
        defaultValue = "pending")
    String status = "pending";

    @Option(names = "--env", paramLabel = "ENV", description = "Only this environment's.")
    Optional<String> env = Optional.empty();

    @Option(names = "--requester", paramLabel = "NAME", description = "Only this identity's.")
    Optional<String> requester = Optional.empty();

    @Option(
        names = "--break-glass",
        description =
            "Only requests a reviewer approved as break-glass, for review after the fact (with"
                + " any status unless --status is given).")
    boolean breakGlass;

    @Option(
        names = {"-n", "--limit"},
        paramLabel = "N",
        description = "At most this many (1 to 1000, default ${DEFAULT-VALUE}).",
        defaultValue = "50")
    int limit = 50;

    @Option(names = "--json", description = "One JSON object per line instead of a table.")
    boolean json;

    @CommandLine.Mixin AuditCommand.ClientOptions options = new AuditCommand.ClientOptions();

    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    ListRequests(Terminal terminal) {
      this.terminal = terminal;
    }

    @Override
    public Integer call() {
      if (limit < 1 || limit > 1000) {
        throw new UsageException("--limit must be from 1 to 1000, not " + limit);
      }
      if (!status.matches("[A-Za-z]+(,[A-Za-z]+)*")) {
        throw new UsageException(
            "--status takes pending, approved, denied, expired, used, cancelled (comma-separated)"
                + " or all");
      }
      // Break-glass approvals are looked back on once used, so they are listed whatever their
      // status unless one is asked for.
      String statuses = breakGlass && !statusGiven() ? "all" : status.toLowerCase(Locale.ROOT);
      StringBuilder query =
          new StringBuilder("/api/approvals?status=")
              .append(encode(statuses))
              .append("&limit=")
              .append(limit);
      if (breakGlass) {
        query.append("&break_glass=true");
      }
      env.ifPresent(e -> query.append("&env=").append(encode(e)));
      requester.ifPresent(r -> query.append("&requester=").append(encode(r)));
      Client client = client(terminal, options);
      Object requests = client.get(query.toString()).get("requests");
      List<Map<String, Object>> list = new ArrayList<>();
      if (requests instanceof List<?> items) {
        for (Object item : items) {
          if (item instanceof Map<?, ?> m) {
            list.add(object(m));
          }
        }
      }
      PrintStream out = terminal.out();
      if (json) {
        AuditJson writer = new AuditJson();
        for (Map<String, Object> r : list) {
          out.println(writer.write(r));
        }
        return Main.OK;
      }
      if (list.isEmpty()) {
        out.println(
            "No "
                + (statuses.equals("all") ? "" : statuses + " ")
                + (breakGlass ? "break-glass " : "")
                + "approval requests.");
        return Main.OK;
      }
      out.println(
          String.format(
              Locale.ROOT,
              "%-17s  %-9s  %-14s  %-12s  %-20s  %-16s  %s",
              "ID",
              "STATUS",
              "REQUESTER",
              "ENV",
              "CREATED",
              "RULE",
              "STATEMENT"));
      for (Map<String, Object> r : list) {
        out.println(
            String.format(
                Locale.ROOT,
                "%-17s  %-9s  %-14s  %-12s  %-20s  %-16s  %s",
                field(r, "id"),
                // Marked for review after the fact.
                field(r, "status") + (Boolean.TRUE.equals(r.get("break_glass")) ? "*" : ""),
                field(r, "requester"),
                field(r, "environment"),
                time(field(r, "created")),
                field(r, "rule"),
                shortened(what(r))));
      }
      if (list.stream().anyMatch(r -> Boolean.TRUE.equals(r.get("break_glass")))) {
        out.println("* approved as break-glass: to be reviewed after the fact");
      }
      return Main.OK;
    }

    private boolean statusGiven() {
      return spec != null
          && spec.commandLine().getParseResult() != null
          && spec.commandLine().getParseResult().hasMatchedOption("--status");
    }
  }

  @Command(name = "show", description = "Show one approval request in full.")
  static final class Show implements Callable<Integer> {
    private final Terminal terminal;

    @Parameters(paramLabel = "ID", description = "The request's id (apr_...).")
    String id;

    @Option(names = "--json", description = "The request as JSON.")
    boolean json;

    @CommandLine.Mixin AuditCommand.ClientOptions options = new AuditCommand.ClientOptions();

    Show(Terminal terminal) {
      this.terminal = terminal;
    }

    @Override
    public Integer call() {
      checkId(id);
      Map<String, Object> r = client(terminal, options).get("/api/approvals/" + id);
      print(terminal.out(), r, json);
      return Main.OK;
    }
  }

  /** Approve and deny: the same request with a different decision. */
  abstract static class Review implements Callable<Integer> {
    private final Terminal terminal;
    private final boolean approve;

    @Parameters(paramLabel = "ID", description = "The request's id (apr_...).")
    String id;

    @Option(
        names = "--comment",
        paramLabel = "TEXT",
        description = "Why; shown to the requester and kept in the audit trail.")
    Optional<String> comment = Optional.empty();

    @Option(names = "--json", description = "The request as it now stands, as JSON.")
    boolean json;

    @CommandLine.Mixin AuditCommand.ClientOptions options = new AuditCommand.ClientOptions();

    Review(Terminal terminal, boolean approve) {
      this.terminal = terminal;
      this.approve = approve;
    }

    boolean breakGlass() {
      return false;
    }

    @Override
    public Integer call() {
      checkId(id);
      if (breakGlass() && comment.map(String::isBlank).orElse(true)) {
        throw new UsageException(
            "--break-glass needs a justification: add --comment \"why this cannot wait\"");
      }
      Map<String, Object> body = new LinkedHashMap<>();
      body.put("comment", comment.orElse(""));
      body.put("break_glass", breakGlass());
      Map<String, Object> r =
          client(terminal, options)
              .post("/api/approvals/" + id + (approve ? "/approve" : "/deny"), body);
      if (json) {
        print(terminal.out(), r, true);
        return Main.OK;
      }
      terminal.out().println(outcome(r));
      return Main.OK;
    }
  }

  @Command(
      name = "approve",
      description =
          "Approve a request: once enough approvers have, the requester's very same statement"
              + " may run once.")
  static final class Approve extends Review {
    @Option(
        names = "--break-glass",
        description =
            "Approve alone, whatever the number of approvals the rule asks for, if the rule allows"
                + " it; needs --comment with the justification, and is reviewed after the fact.")
    boolean breakGlass;

    Approve(Terminal terminal) {
      super(terminal, true);
    }

    @Override
    boolean breakGlass() {
      return breakGlass;
    }
  }

  @Command(name = "deny", description = "Deny a request; its statement will not run.")
  static final class Deny extends Review {
    Deny(Terminal terminal) {
      super(terminal, false);
    }
  }

  @Command(name = "cancel", description = "Withdraw a request you made.")
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
      checkId(id);
      Map<String, Object> r =
          client(terminal, options).post("/api/approvals/" + id + "/cancel", Map.of());
      if (json) {
        print(terminal.out(), r, true);
      } else {
        terminal.out().println("cancelled " + field(r, "id"));
      }
      return Main.OK;
    }
  }

  /** What a review did, in one line. */
  static String outcome(Map<String, Object> r) {
    String id = field(r, "id");
    String status = field(r, "status");
    String requester = field(r, "requester");
    return switch (status) {
      case "approved" ->
          r.get("access") instanceof Map<?, ?> a
              ? "approved "
                  + id
                  + ": "
                  + requester
                  + "'s new sessions log in as "
                  + field(object(a), "role")
                  + " until "
                  + time(field(r, "expires"))
              : "approved "
                  + id
                  + ": "
                  + requester
                  + " may run the statement once, until "
                  + time(field(r, "expires"));
      case "denied" -> "denied " + id;
      case "pending" ->
          "approval of "
              + id
              + " recorded; "
              + r.getOrDefault("approvals", "?")
              + " so far, it still needs "
              + requirementSummary(r);
      default -> id + " is " + status;
    };
  }

  private static void print(PrintStream out, Map<String, Object> r, boolean json) {
    if (json) {
      out.println(new AuditJson().write(r));
      return;
    }
    List<String[]> rows = new ArrayList<>();
    rows.add(new String[] {"id", field(r, "id")});
    rows.add(
        new String[] {
          "status",
          field(r, "status")
              + (Boolean.TRUE.equals(r.get("break_glass"))
                  ? " (approved as break-glass: to be reviewed after the fact)"
                  : "")
        });
    rows.add(new String[] {"kind", r.containsKey("kind") ? field(r, "kind") : "statement"});
    rows.add(new String[] {"requester", field(r, "requester") + groups(r.get("requester_groups"))});
    rows.add(new String[] {"environment", field(r, "environment")});
    rows.add(new String[] {"database", field(r, "database")});
    rows.add(new String[] {"rule", field(r, "rule")});
    rows.add(new String[] {"why", field(r, "why")});
    if (r.containsKey("reason")) {
      rows.add(new String[] {"reason", field(r, "reason")});
    }
    if (r.get("rows") instanceof Number n) {
      rows.add(new String[] {"rows", n.longValue() + " would change"});
    }
    if (r.get("access") instanceof Map<?, ?> a) {
      Map<String, Object> access = object(a);
      rows.add(new String[] {"role", field(access, "role")});
      rows.add(new String[] {"duration", field(access, "duration") + " from approval"});
      if (access.containsKey("window_start")) {
        rows.add(
            new String[] {
              "window",
              time(field(access, "window_start")) + " to " + time(field(access, "window_end"))
            });
      }
    }
    rows.add(new String[] {"needs", requirementSummary(r)});
    rows.add(new String[] {"created", time(field(r, "created"))});
    rows.add(new String[] {"expires", time(field(r, "expires"))});
    if (r.containsKey("used")) {
      rows.add(new String[] {"used", time(field(r, "used"))});
    }
    for (String[] row : rows) {
      out.printf(Locale.ROOT, "%-12s %s%n", row[0] + ":", row[1]);
    }
    if (!r.containsKey("access")) {
      out.println("statement:");
      for (String line : String.valueOf(r.getOrDefault("statement", "")).split("\r?\n", -1)) {
        out.println("  " + AuditLines.escape(line));
      }
    }
    if (r.get("reviews") instanceof List<?> reviews && !reviews.isEmpty()) {
      out.println("reviews:");
      for (Object o : reviews) {
        if (o instanceof Map<?, ?> m) {
          Map<String, Object> review = object(m);
          String comment = field(review, "comment");
          out.println(
              "  "
                  + time(field(review, "at"))
                  + "  "
                  + (Boolean.TRUE.equals(review.get("break_glass")) ? "break-glass " : "")
                  + (field(review, "decision").equals("approve") ? "approved" : "denied")
                  + " by "
                  + field(review, "reviewer")
                  + (comment.isEmpty() ? "" : ": " + comment));
        }
      }
    }
  }

  /** What a request asks for, on one line: its statement, or the role and duration asked for. */
  private static String what(Map<String, Object> r) {
    if (r.get("access") instanceof Map<?, ?> a) {
      Map<String, Object> access = object(a);
      return "access: role " + field(access, "role") + " for " + field(access, "duration");
    }
    return field(r, "statement");
  }

  private static String requirementSummary(Map<String, Object> r) {
    return r.get("requirement") instanceof Map<?, ?> q
        ? AuditLines.escape(String.valueOf(q.get("summary")))
        : "-";
  }

  private static String groups(Object groups) {
    if (groups instanceof List<?> list && !list.isEmpty()) {
      return " ("
          + AuditLines.escape(String.join(", ", list.stream().map(String::valueOf).toList()))
          + ")";
    }
    return "";
  }

  /** A field as a terminal may show it: escaped, without line breaks. */
  static String field(Map<String, Object> r, String key) {
    Object value = r.get(key);
    return value == null ? "" : AuditLines.escape(String.valueOf(value));
  }

  private static String shortened(String text) {
    String line = WHITESPACE.matcher(text).replaceAll(" ").strip();
    return line.length() <= STATEMENT_WIDTH ? line : line.substring(0, STATEMENT_WIDTH - 3) + "...";
  }

  /** A time to the second: {@code 2026-11-01T12:00:00Z}. */
  static String time(String iso) {
    int dot = iso.indexOf('.');
    return dot > 0 && iso.endsWith("Z") ? iso.substring(0, dot) + "Z" : iso;
  }

  private static void checkId(String id) {
    checkId(id, "an approval request id");
  }

  /** Refuses {@code id} unless it has the shape of a request id, calling it {@code what}. */
  static void checkId(String id, String what) {
    if (!ID.matcher(id).matches()) {
      throw new UsageException(
          "'"
              + AuditLines.escape(id.length() > 80 ? id.substring(0, 77) + "..." : id)
              + "' is not "
              + what
              + "; they look like apr_k3x9q2m7v4ab");
    }
  }

  static Map<String, Object> object(Map<?, ?> map) {
    Map<String, Object> out = new LinkedHashMap<>();
    map.forEach((k, v) -> out.put(String.valueOf(k), v));
    return out;
  }

  private static String encode(String text) {
    return URLEncoder.encode(text, StandardCharsets.UTF_8).replace("+", "%20");
  }

  static Client client(Terminal terminal, AuditCommand.ClientOptions options) {
    URI uri;
    if (options.server.isPresent()) {
      uri = AuditClient.serverUri(options.server.get());
    } else if (options.config.isPresent()) {
      uri =
          AuditClient.serverUri(
              "http://" + AuditCommand.toolConfig(terminal, options.config.get()).console());
    } else {
      uri = AuditClient.serverUri("http://" + WardenConfig.DEFAULT_CONSOLE);
    }
    String name =
        options
            .user
            .or(() -> Optional.ofNullable(terminal.environment().get(AuditCommand.USER_VARIABLE)))
            .filter(n -> !n.isBlank())
            .orElseThrow(
                () ->
                    new UsageException(
                        "name the Warden user to act as with --as NAME (or set "
                            + AuditCommand.USER_VARIABLE
                            + ")"));
    return new Client(uri, name, AuditCommand.password(terminal, name));
  }

  /** The approval endpoints of the REST API, as one Warden user. */
  static final class Client {
    private final URI server;
    private final String authorization;
    private final HttpClient http;
    private final AuditJson json = new AuditJson();

    Client(URI server, String user, Secret password) {
      this.server = Objects.requireNonNull(server, "server");
      byte[] pw = password.bytes();
      byte[] name = (user + ":").getBytes(StandardCharsets.UTF_8);
      byte[] credentials = new byte[name.length + pw.length];
      try {
        System.arraycopy(name, 0, credentials, 0, name.length);
        System.arraycopy(pw, 0, credentials, name.length, pw.length);
        this.authorization = "Basic " + Base64.getEncoder().encodeToString(credentials);
      } finally {
        Arrays.fill(pw, (byte) 0);
        Arrays.fill(credentials, (byte) 0);
      }
      this.http =
          HttpClient.newBuilder()
              .connectTimeout(Duration.ofSeconds(10))
              .followRedirects(HttpClient.Redirect.NEVER)
              .build();
    }

    Map<String, Object> get(String pathAndQuery) {
      return send(request(pathAndQuery).GET().build());
    }

    Map<String, Object> post(String path, Map<String, Object> body) {
      return send(
          request(path)
              .header("Content-Type", "application/json")
              .POST(HttpRequest.BodyPublishers.ofString(json.write(body), StandardCharsets.UTF_8))
              .build());
    }

    private HttpRequest.Builder request(String pathAndQuery) {
      return HttpRequest.newBuilder(URI.create(server + pathAndQuery))
          .timeout(Duration.ofSeconds(30))
          .header("Authorization", authorization)
          .header("User-Agent", "warden-cli");
    }

    private Map<String, Object> send(HttpRequest request) {
      HttpResponse<String> response;
      try {
        response = http.send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
      } catch (ConnectException e) {
        throw new CommandFailure(
            "cannot reach Warden's API at "
                + server
                + ": is warden serve running, and is this its console address? (--server URL)",
            e);
      } catch (IOException e) {
        throw new CommandFailure("the request to " + server + " failed: " + e.getMessage(), e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new CommandFailure("interrupted", e);
      }
      int status = response.statusCode();
      if (status == 200) {
        return body(response.body());
      }
      String message = errorMessage(response.body(), status);
      throw switch (status) {
        case 401 ->
            new CommandFailure(
                "the server refused the login: wrong user name or password (" + message + ")");
        case 404 ->
            message.startsWith("no such endpoint")
                ? new CommandFailure(
                    "this server has no approvals API (is it an older Warden, or are approvals"
                        + " not enabled?)")
                : new CommandFailure(message);
        case 403, 409, 400 -> new CommandFailure(message);
        default -> new CommandFailure(message + " (HTTP " + status + ")");
      };
    }

    private String errorMessage(String text, int status) {
      try {
        if (json.read(text) instanceof Map<?, ?> map && map.get("error") instanceof String s) {
          return AuditLines.escape(s);
        }
      } catch (IllegalArgumentException e) {
        // not JSON
      }
      return "the server answered HTTP " + status;
    }

    private Map<String, Object> body(String text) {
      Object parsed;
      try {
        parsed = json.read(text);
      } catch (IllegalArgumentException e) {
        throw new CommandFailure("the server's answer is not JSON: " + e.getMessage(), e);
      }
      if (!(parsed instanceof Map<?, ?> map)) {
        throw new CommandFailure("the server's answer is not a JSON object");
      }
      return object(map);
    }
  }
}
