package dev.warden.server.cli;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import dev.warden.core.identity.ScramCredential;
import dev.warden.core.identity.ScramCredentials;
import dev.warden.core.identity.Secret;
import dev.warden.core.identity.ServiceToken;
import dev.warden.core.identity.ServiceTokenStore;
import dev.warden.core.identity.ServiceTokens;
import dev.warden.store.embedded.EmbeddedStore;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code warden tokens create|list|revoke}: service tokens for scripts, CI jobs and agents. A token
 * logs in as user = its name and password = the token string. It is shown once, at creation; the
 * store keeps only its SCRAM verifier.
 */
@Command(
    name = "tokens",
    description =
        "Manage service tokens: passwords for scripts, CI jobs and agents, shown once, revocable.")
final class TokensCommand implements Callable<Integer> {
  /** How long a token lives unless {@code --expires} says otherwise. */
  static final Duration DEFAULT_LIFETIME = Duration.ofDays(90);

  private static final DateTimeFormatter TIME =
      DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm 'UTC'").withZone(ZoneOffset.UTC);
  private static final Pattern RELATIVE = Pattern.compile("([1-9][0-9]{0,5})([dh])");

  @Override
  public Integer call() {
    throw new UsageException("missing subcommand: use tokens create, tokens list or tokens revoke");
  }

  @Command(
      name = "create",
      description =
          "Create a service token and print it once: it cannot be shown again. The token alone"
              + " goes to standard output, so TOKEN=$(warden tokens create ...) captures it; the"
              + " rest goes to standard error.")
  static final class Create implements Callable<Integer> {
    private final Terminal terminal;
    private final Clock clock;
    private final SecureRandom random;

    @Option(
        names = "--name",
        required = true,
        paramLabel = "NAME",
        description = "The user name clients log in with; no local user may have it.")
    String name;

    @Option(
        names = "--groups",
        split = ",",
        paramLabel = "GROUP",
        description = "Comma-separated groups policy sees, e.g. --groups ci,deploy.")
    List<String> groups = List.of();

    @Option(
        names = "--expires",
        paramLabel = "WHEN",
        description =
            "When it stops working: a lifetime (90d, 12h), a time (2026-12-31T00:00:00Z), a date"
                + " (2026-12-31, midnight UTC) or never. Default: ${DEFAULT-VALUE}.",
        defaultValue = "90d")
    String expires = "90d";

    @Option(
        names = "--on-behalf-of",
        paramLabel = "PERSON",
        description = "The person the token acts for (an agent working for alice@corp.example).")
    String onBehalfOf;

    @Option(
        names = "--description",
        paramLabel = "TEXT",
        description = "What the token is for, shown by tokens list.")
    String description = "";

    @CommandLine.Mixin UsersCommand.DataDirOption data = new UsersCommand.DataDirOption();

    Create(Terminal terminal, Clock clock, SecureRandom random) {
      this.terminal = terminal;
      this.clock = clock;
      this.random = random;
    }

    @Override
    public Integer call() {
      UsersCommand.checkName(name, "token name");
      Set<String> groupSet = new LinkedHashSet<>();
      for (String group : groups) {
        String trimmed = group.strip();
        if (!trimmed.isEmpty()) {
          UsersCommand.checkName(trimmed, "group name");
          groupSet.add(trimmed);
        }
      }
      Optional<String> person = Optional.ofNullable(onBehalfOf).map(String::strip);
      person.ifPresent(p -> UsersCommand.checkName(p, "--on-behalf-of name"));
      Instant now = clock.instant();
      Optional<Instant> expiry = parseExpiry(expires, now);
      Secret token = ServiceTokens.generate(random);
      ScramCredential credential =
          ScramCredentials.derive(token, random, ScramCredentials.DEFAULT_ITERATIONS);
      ServiceToken record;
      try {
        record =
            ServiceToken.issue(
                name,
                groupSet,
                person,
                now,
                expiry,
                EmbeddedStore.osActor(),
                credential,
                description.strip());
      } catch (IllegalArgumentException e) {
        throw new UsageException(e.getMessage());
      }
      Path dataDir = terminal.resolve(data.dataDir);
      try (EmbeddedStore store = open(dataDir)) {
        store.serviceTokens().create(record, ServiceTokens.notALocalUser(store.users()));
      } catch (ServiceTokenStore.NameTakenException e) {
        throw new CommandFailure("cannot create the token: " + e.getMessage());
      }
      terminal
          .err()
          .println(
              "Created service token "
                  + name
                  + " ("
                  + describe(record)
                  + ") in "
                  + dataDir
                  + ". This is the only time it is shown; store it in a secret manager now:");
      terminal.out().println(token.reveal());
      terminal
          .err()
          .println(
              "Log in with the token as the password, e.g.: psql \"host=HOST port=PORT"
                  + " dbname=DATABASE user="
                  + name
                  + " password=$WARDEN_TOKEN\"");
      return Main.OK;
    }

    private static String describe(ServiceToken t) {
      List<String> parts = new ArrayList<>();
      parts.add(
          t.groups().isEmpty()
              ? "no groups"
              : "groups " + String.join(", ", new TreeSet<>(t.groups())));
      t.onBehalfOf().ifPresent(p -> parts.add("on behalf of " + p));
      parts.add(t.expires().map(e -> "expires " + TIME.format(e)).orElse("never expires"));
      return String.join("; ", parts);
    }
  }

  /**
   * Parses {@code --expires}: {@code never}, a lifetime in days or hours ({@code 90d}, {@code
   * 12h}), an ISO-8601 instant, or a date (midnight UTC). It must lie in the future.
   */
  static Optional<Instant> parseExpiry(String text, Instant now) {
    String t = text.strip();
    if (t.equalsIgnoreCase("never")) {
      return Optional.empty();
    }
    Instant at;
    Matcher m = RELATIVE.matcher(t.toLowerCase(Locale.ROOT));
    if (m.matches()) {
      long n = Long.parseLong(m.group(1));
      at = now.plus(m.group(2).equals("d") ? Duration.ofDays(n) : Duration.ofHours(n));
    } else {
      try {
        at = Instant.parse(t);
      } catch (DateTimeParseException notInstant) {
        try {
          at = LocalDate.parse(t).atStartOfDay(ZoneOffset.UTC).toInstant();
        } catch (DateTimeParseException notDate) {
          throw new UsageException(
              "invalid --expires '"
                  + printable(t)
                  + "': use a lifetime such as 90d or 12h, a time such as"
                  + " 2026-12-31T00:00:00Z, a date such as 2026-12-31, or never");
        }
      }
    }
    if (!at.isAfter(now)) {
      throw new UsageException(
          "invalid --expires '" + printable(t) + "': " + at + " is not in the future");
    }
    return Optional.of(at);
  }

  private static String printable(String text) {
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < Math.min(text.length(), 40); i++) {
      char c = text.charAt(i);
      out.append(c >= 0x20 && c < 0x7f ? c : '?');
    }
    return out.toString();
  }

  @Command(
      name = "list",
      description =
          "List the service tokens (never the tokens themselves) with their groups, owner,"
              + " expiry, last use and revocation.")
  static final class ListTokens implements Callable<Integer> {
    private final Terminal terminal;
    private final Clock clock;

    @Option(names = "--json", description = "Print a JSON document instead of a table.")
    boolean json;

    @CommandLine.Mixin UsersCommand.DataDirOption data = new UsersCommand.DataDirOption();

    ListTokens(Terminal terminal, Clock clock) {
      this.terminal = terminal;
      this.clock = clock;
    }

    @Override
    public Integer call() {
      Path dataDir = terminal.resolve(data.dataDir);
      List<ServiceToken> tokens = List.of();
      if (Files.isDirectory(dataDir)) {
        try (EmbeddedStore store = open(dataDir)) {
          tokens = store.serviceTokens().list();
        }
      }
      Instant now = clock.instant();
      if (json) {
        terminal.out().println(json(tokens, now));
        return Main.OK;
      }
      if (tokens.isEmpty()) {
        terminal
            .out()
            .println(
                "No service tokens in "
                    + dataDir
                    + ". Create one with: warden tokens create --name NAME --groups GROUP");
        return Main.OK;
      }
      List<String[]> rows = new ArrayList<>();
      rows.add(
          new String[] {
            "NAME", "STATUS", "GROUPS", "ON BEHALF OF", "CREATED", "EXPIRES", "LAST USED", "REVOKED"
          });
      for (ServiceToken t : tokens) {
        rows.add(
            new String[] {
              t.name(),
              t.statusAt(now),
              t.groups().isEmpty() ? "-" : String.join(",", new TreeSet<>(t.groups())),
              t.onBehalfOf().orElse("-"),
              TIME.format(t.created()),
              t.expires().map(TIME::format).orElse("never"),
              t.lastUsed().map(TIME::format).orElse("never"),
              t.revoked().map(TIME::format).orElse("-")
            });
      }
      int[] widths = new int[rows.getFirst().length];
      for (String[] row : rows) {
        for (int i = 0; i < row.length; i++) {
          widths[i] = Math.max(widths[i], row[i].length());
        }
      }
      for (String[] row : rows) {
        StringBuilder line = new StringBuilder();
        for (int i = 0; i < row.length; i++) {
          line.append(
              i == row.length - 1 ? row[i] : String.format("%-" + widths[i] + "s  ", row[i]));
        }
        terminal.out().println(line.toString().stripTrailing());
      }
      return Main.OK;
    }

    private static String json(List<ServiceToken> tokens, Instant now) {
      StringWriter text = new StringWriter();
      try (JsonGenerator g = new JsonFactory().createGenerator(text)) {
        g.useDefaultPrettyPrinter();
        g.writeStartObject();
        g.writeArrayFieldStart("tokens");
        for (ServiceToken t : tokens) {
          g.writeStartObject();
          g.writeStringField("name", t.name());
          g.writeStringField("status", t.statusAt(now));
          g.writeArrayFieldStart("groups");
          for (String group : new TreeSet<>(t.groups())) {
            g.writeString(group);
          }
          g.writeEndArray();
          g.writeStringField("on_behalf_of", t.onBehalfOf().orElse(null));
          g.writeStringField("created", t.created().toString());
          g.writeStringField("created_by", t.createdBy());
          g.writeStringField("expires", t.expires().map(Instant::toString).orElse(null));
          g.writeStringField("last_used", t.lastUsed().map(Instant::toString).orElse(null));
          g.writeStringField("revoked", t.revoked().map(Instant::toString).orElse(null));
          g.writeStringField("description", t.description());
          g.writeEndObject();
        }
        g.writeEndArray();
        g.writeEndObject();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      return text.toString();
    }
  }

  @Command(
      name = "revoke",
      description =
          "Revoke a service token: new logins with it fail at once, even while Warden runs."
              + " Sessions already open are not ended.")
  static final class Revoke implements Callable<Integer> {
    private final Terminal terminal;
    private final Clock clock;

    @Parameters(paramLabel = "NAME", description = "The token to revoke.")
    String name;

    @CommandLine.Mixin UsersCommand.DataDirOption data = new UsersCommand.DataDirOption();

    Revoke(Terminal terminal, Clock clock) {
      this.terminal = terminal;
      this.clock = clock;
    }

    @Override
    public Integer call() {
      UsersCommand.checkName(name, "token name");
      Path dataDir = terminal.resolve(data.dataDir);
      if (!Files.isDirectory(dataDir)) {
        throw new CommandFailure(
            "no service token named '"
                + name
                + "': the data directory "
                + dataDir
                + " does not exist");
      }
      try (EmbeddedStore store = open(dataDir)) {
        Instant now = clock.instant();
        if (!store.serviceTokens().revoke(name, now)) {
          Optional<ServiceToken> existing = store.serviceTokens().find(name);
          if (existing.isEmpty()) {
            throw new CommandFailure("no service token named '" + name + "' in " + dataDir);
          }
          terminal
              .out()
              .println(
                  "Service token "
                      + name
                      + " was already revoked at "
                      + TIME.format(existing.get().revoked().orElseThrow()));
          return Main.OK;
        }
        terminal
            .out()
            .println(
                "Revoked service token "
                    + name
                    + " in "
                    + dataDir
                    + " at "
                    + TIME.format(now)
                    + "; new logins with it fail from now on");
      }
      return Main.OK;
    }
  }

  private static EmbeddedStore open(Path dataDir) {
    try {
      return EmbeddedStore.open(dataDir);
    } catch (RuntimeException e) {
      throw new CommandFailure("cannot open the store in " + dataDir + ": " + e.getMessage(), e);
    }
  }
}
