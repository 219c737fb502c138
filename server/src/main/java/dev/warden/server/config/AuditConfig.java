package dev.warden.server.config;

import dev.warden.core.environment.TlsMode;
import dev.warden.core.environment.Upstream;
import dev.warden.core.identity.Secret;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The {@code audit:} section of the configuration: how durable records must be before statements go
 * ahead, where checkpoints are copied, which store holds the trail, and where it is exported. Its
 * {@code toString} is safe to log: passwords and webhook secrets are {@link Secret}s.
 *
 * @param strict every statement waits until its intent record is durable, reads included
 * @param boundedWindow how soon the records of plain reads become durable when not strict
 * @param witness a directory the signed checkpoints are also appended to, ideally owned by another
 *     user or mounted from another host, so that rewriting the log is detectable
 * @param store the embedded log under the data directory, or a shared PostgreSQL database
 * @param instance this instance's log id; empty means the one generated and kept with the log
 * @param exports the SIEM sinks the trail is delivered to, at least once each
 * @param recordParameters whether bind parameter values are recorded with their statements ({@code
 *     parameters: recorded}); by default they are left out, since they may hold personal data or
 *     secrets that statement redaction cannot see
 */
public record AuditConfig(
    boolean strict,
    Duration boundedWindow,
    Optional<Path> witness,
    Store store,
    Optional<String> instance,
    List<Export> exports,
    boolean recordParameters) {
  /**
   * What an instance (log) id may be: a letter or digit, then letters, digits, '.', '_' or '-', at
   * most 63 in all, whether configured or generated and kept in the data directory.
   */
  public static final Pattern INSTANCE_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,62}");

  /** The bounded window when none is configured. */
  public static final Duration DEFAULT_BOUNDED_WINDOW = Duration.ofMillis(20);

  /** The longest bounded window accepted: beyond it "durable soon" stops meaning anything. */
  public static final Duration MAX_BOUNDED_WINDOW = Duration.ofSeconds(10);

  public AuditConfig {
    Objects.requireNonNull(boundedWindow, "boundedWindow");
    if (!boundedWindow.isPositive() || boundedWindow.compareTo(MAX_BOUNDED_WINDOW) > 0) {
      throw new IllegalArgumentException(
          "the bounded window must be positive and at most "
              + MAX_BOUNDED_WINDOW.toSeconds()
              + "s");
    }
    Objects.requireNonNull(witness, "witness");
    Objects.requireNonNull(store, "store");
    Objects.requireNonNull(instance, "instance");
    exports = List.copyOf(exports);
  }

  /** Not strict, a 20 ms window, no witness, the embedded store, a generated id, no exports. */
  public static AuditConfig defaults() {
    return new AuditConfig(
        false,
        DEFAULT_BOUNDED_WINDOW,
        Optional.empty(),
        new Store.Embedded(),
        Optional.empty(),
        List.of(),
        false);
  }

  /** Where the trail is kept. */
  public sealed interface Store {
    /** The hash-chained log under the data directory ({@code store: embedded}). */
    record Embedded() implements Store {}

    /**
     * A PostgreSQL database shared by several Warden instances ({@code store:
     * postgresql://USER@HOST:PORT/DB}).
     *
     * @param connection where and as whom; the password comes from the environment or a file, never
     *     from the configuration file itself
     */
    record Postgres(Upstream connection) implements Store {
      public Postgres {
        Objects.requireNonNull(connection, "connection");
      }

      /** The pgjdbc URL, without credentials (pass user and password as properties). */
      public String jdbcUrl() {
        String host =
            connection.host().indexOf(':') >= 0 ? "[" + connection.host() + "]" : connection.host();
        StringBuilder url =
            new StringBuilder("jdbc:postgresql://")
                .append(host)
                .append(':')
                .append(connection.port());
        url.append('/').append(encode(connection.database().orElse(connection.user())));
        url.append("?sslmode=").append(sslMode(connection.tls()));
        connection
            .caFile()
            .ifPresent(ca -> url.append("&sslrootcert=").append(encode(ca.toString())));
        return url.toString();
      }

      private static String encode(String component) {
        return URLEncoder.encode(component, StandardCharsets.UTF_8);
      }

      private static String sslMode(TlsMode mode) {
        return mode.name().toLowerCase(Locale.ROOT).replace('_', '-');
      }
    }
  }

  /** A SIEM sink the trail is exported to. */
  public sealed interface Export {
    /** A short stable name for this sink, used for its cursor file and in messages. */
    String name();

    /**
     * JSON lines, one record per line, appended to a file or written to standard output.
     *
     * @param file the file, or empty for standard output ({@code jsonl: "-"})
     */
    record JsonLines(Optional<Path> file) implements Export {
      public JsonLines {
        Objects.requireNonNull(file, "file");
      }

      @Override
      public String name() {
        return "jsonl " + file.map(Path::toString).orElse("stdout");
      }
    }

    /**
     * Batches POSTed as a JSON array.
     *
     * @param url an https URL (http only to this machine)
     * @param secret the HMAC-SHA-256 key of the {@code X-Warden-Signature} header, if any
     */
    record Webhook(URI url, Optional<Secret> secret) implements Export {
      public Webhook {
        Objects.requireNonNull(url, "url");
        Objects.requireNonNull(secret, "secret");
      }

      /** The URL without its query, which may carry a token, for messages and cursor names. */
      @Override
      public String name() {
        return "webhook "
            + url.getScheme()
            + "://"
            + url.getHost()
            + (url.getPort() < 0 ? "" : ":" + url.getPort())
            + (url.getRawPath() == null ? "" : url.getRawPath());
      }
    }
  }
}
