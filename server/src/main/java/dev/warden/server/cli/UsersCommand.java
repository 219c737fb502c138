package dev.warden.server.cli;

import dev.warden.core.identity.LocalUser;
import dev.warden.core.identity.ScramCredential;
import dev.warden.core.identity.ScramCredentials;
import dev.warden.core.identity.Secret;
import dev.warden.core.identity.UserNames;
import dev.warden.server.config.WardenConfig;
import dev.warden.store.embedded.EmbeddedStore;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code warden users add|list|remove}: the local users of the embedded store. */
@Command(
    name = "users",
    description = "Manage the local users that clients log in as (SCRAM-SHA-256 passwords).")
final class UsersCommand implements Callable<Integer> {
  /** The longest password accepted; longer input is a mistake, such as a piped file. */
  static final int MAX_PASSWORD_BYTES = 1024;

  @Override
  public Integer call() {
    throw new UsageException("missing subcommand: use users add, users list or users remove");
  }

  /** The data directory option shared by the subcommands. */
  static final class DataDirOption {
    @Option(
        names = "--data-dir",
        paramLabel = "DIR",
        description = "Warden's data directory (default: ${DEFAULT-VALUE}).",
        defaultValue = "warden-data")
    Path dataDir = WardenConfig.DEFAULT_DATA_DIR;
  }

  @Command(
      name = "add",
      description =
          "Add a user, or update the password and groups of an existing one. The password is"
              + " read from the terminal (asked twice), or as one line from standard input.")
  static final class Add implements Callable<Integer> {
    private final Terminal terminal;

    @Parameters(paramLabel = "NAME", description = "The user name clients log in with.")
    String name;

    @Option(
        names = "--groups",
        split = ",",
        paramLabel = "GROUP",
        description = "Comma-separated groups, e.g. --groups admins,approvers.")
    List<String> groups = List.of();

    @CommandLine.Mixin DataDirOption data = new DataDirOption();

    Add(Terminal terminal) {
      this.terminal = terminal;
    }

    @Override
    public Integer call() {
      checkName(name, "user name");
      Set<String> groupSet = new LinkedHashSet<>();
      for (String group : groups) {
        String trimmed = group.strip();
        if (!trimmed.isEmpty()) {
          checkName(trimmed, "group name");
          groupSet.add(trimmed);
        }
      }
      Secret password = readPassword();
      Path dataDir = terminal.resolve(data.dataDir);
      ScramCredential credential;
      try {
        credential =
            ScramCredentials.derive(
                password, new SecureRandom(), ScramCredentials.DEFAULT_ITERATIONS);
      } catch (IllegalArgumentException e) {
        throw new CommandFailure("the password cannot be used: " + e.getMessage(), e);
      }
      try (EmbeddedStore store = open(dataDir)) {
        if (store.serviceTokens().find(name).isPresent()) {
          throw new CommandFailure(
              "a service token is named "
                  + name
                  + "; users and service tokens log in by name, so choose another name");
        }
        Optional<LocalUser> existing = store.users().find(name);
        LocalUser user =
            new LocalUser(
                name,
                groupSet,
                credential,
                existing.map(LocalUser::created).orElseGet(() -> Clock.systemUTC().instant()));
        boolean created = store.users().put(user);
        String groupText =
            groupSet.isEmpty() ? "no groups" : "groups " + String.join(", ", groupSet);
        terminal
            .out()
            .println(
                (created ? "Created user " : "Updated the password and groups of user ")
                    + name
                    + " ("
                    + groupText
                    + ") in "
                    + dataDir);
      }
      return Main.OK;
    }

    private Secret readPassword() {
      if (terminal.passwordPrompt().isPresent()) {
        Terminal.PasswordPrompt prompt = terminal.passwordPrompt().orElseThrow();
        char[] first = prompt.read("Password for " + name + ": ");
        char[] second = first == null ? null : prompt.read("Repeat the password: ");
        try {
          if (first == null || second == null) {
            throw new CommandFailure("no password entered");
          }
          if (!Arrays.equals(first, second)) {
            throw new CommandFailure("the two passwords differ; nothing was changed");
          }
          return toSecret(first);
        } finally {
          if (first != null) {
            Arrays.fill(first, '\0');
          }
          if (second != null) {
            Arrays.fill(second, '\0');
          }
        }
      }
      return readLine(terminal.in());
    }

    private static Secret toSecret(char[] password) {
      if (password.length == 0) {
        throw new CommandFailure("the password must not be empty");
      }
      ByteBuffer encoded = StandardCharsets.UTF_8.encode(CharBuffer.wrap(password));
      byte[] bytes = new byte[encoded.remaining()];
      encoded.get(bytes);
      try {
        return Secret.ofBytes(bytes);
      } finally {
        Arrays.fill(bytes, (byte) 0);
      }
    }

    /** One line of UTF-8 from standard input, without its line break. */
    static Secret readLine(InputStream in) {
      ByteArrayOutputStream line = new ByteArrayOutputStream();
      try {
        int b;
        while ((b = in.read()) != -1 && b != '\n') {
          if (line.size() >= MAX_PASSWORD_BYTES) {
            throw new CommandFailure(
                "the password on standard input is longer than " + MAX_PASSWORD_BYTES + " bytes");
          }
          line.write(b);
        }
      } catch (IOException e) {
        throw new CommandFailure("cannot read the password from standard input: " + e, e);
      }
      byte[] bytes = line.toByteArray();
      int length = bytes.length;
      if (length > 0 && bytes[length - 1] == '\r') {
        length--;
      }
      try {
        if (length == 0) {
          throw new CommandFailure(
              "no password on standard input: pipe it in, e.g. echo \"$PASSWORD\" | warden users"
                  + " add NAME, or run in a terminal to be asked for it");
        }
        byte[] password = Arrays.copyOf(bytes, length);
        try {
          StandardCharsets.UTF_8
              .newDecoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT)
              .decode(ByteBuffer.wrap(password));
          return Secret.ofBytes(password);
        } catch (CharacterCodingException e) {
          throw new CommandFailure("the password on standard input is not valid UTF-8");
        } finally {
          Arrays.fill(password, (byte) 0);
        }
      } finally {
        Arrays.fill(bytes, (byte) 0);
      }
    }
  }

  @Command(name = "list", description = "List the local users with their groups.")
  static final class ListUsers implements Callable<Integer> {
    private static final DateTimeFormatter CREATED =
        DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm 'UTC'").withZone(ZoneOffset.UTC);

    private final Terminal terminal;

    @CommandLine.Mixin DataDirOption data = new DataDirOption();

    ListUsers(Terminal terminal) {
      this.terminal = terminal;
    }

    @Override
    public Integer call() {
      Path dataDir = terminal.resolve(data.dataDir);
      if (!Files.isDirectory(dataDir)) {
        terminal.out().println("No users: the data directory " + dataDir + " does not exist yet.");
        terminal.out().println("Add one with: warden users add NAME --data-dir " + data.dataDir);
        return Main.OK;
      }
      List<LocalUser> users;
      try (EmbeddedStore store = open(dataDir)) {
        users = store.users().list();
      }
      if (users.isEmpty()) {
        terminal.out().println("No users in " + dataDir + ". Add one with: warden users add NAME");
        return Main.OK;
      }
      int nameWidth = Math.max(4, users.stream().mapToInt(u -> u.name().length()).max().orElse(4));
      int groupWidth =
          Math.max(6, users.stream().mapToInt(u -> groups(u).length()).max().orElse(6));
      String format = "%-" + nameWidth + "s  %-" + groupWidth + "s  %s%n";
      terminal.out().printf(format, "NAME", "GROUPS", "CREATED");
      for (LocalUser user : users) {
        terminal.out().printf(format, user.name(), groups(user), CREATED.format(user.created()));
      }
      return Main.OK;
    }

    private static String groups(LocalUser user) {
      return user.groups().isEmpty() ? "-" : String.join(",", new TreeSet<>(user.groups()));
    }
  }

  @Command(name = "remove", description = "Remove a local user.")
  static final class Remove implements Callable<Integer> {
    private final Terminal terminal;

    @Parameters(paramLabel = "NAME", description = "The user to remove.")
    String name;

    @CommandLine.Mixin DataDirOption data = new DataDirOption();

    Remove(Terminal terminal) {
      this.terminal = terminal;
    }

    @Override
    public Integer call() {
      Path dataDir = terminal.resolve(data.dataDir);
      if (!Files.isDirectory(dataDir)) {
        throw new CommandFailure(
            "no user named '" + name + "': the data directory " + dataDir + " does not exist");
      }
      try (EmbeddedStore store = open(dataDir)) {
        if (!store.users().remove(name)) {
          throw new CommandFailure("no user named '" + name + "' in " + dataDir);
        }
      }
      terminal.out().println("Removed user " + name + " from " + dataDir);
      return Main.OK;
    }
  }

  static void checkName(String name, String what) {
    try {
      UserNames.requireValid(name, what);
    } catch (IllegalArgumentException e) {
      throw new UsageException("invalid " + what + ": " + e.getMessage());
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
