package dev.warden.server.policy;

import dev.warden.core.policy.Policy;
import dev.warden.core.policy.PolicyException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The policy in force, reloaded when its file changes. The file is read every poll interval (a
 * policy file is a few kilobytes) and compiled when its text differs from the last one read; a
 * policy that compiles replaces the one in force in a single atomic step, so each statement sees
 * one policy or the other, never a mix. One that does not compile is logged with every problem and
 * the last good policy stays.
 */
public final class PolicyReloader implements Supplier<Policy>, AutoCloseable {
  /** How often the file is checked unless told otherwise. */
  public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(2);

  private static final Logger LOG = LoggerFactory.getLogger(PolicyReloader.class);

  private final Path file;
  private volatile Policy current;
  private String lastText;
  private ScheduledExecutorService poller;
  private volatile Consumer<Outcome> listener = outcome -> {};

  /** What a check of the file found. */
  public sealed interface Outcome {
    /** The text is what was read last time. */
    record Unchanged() implements Outcome {}

    /** A new policy is in force. */
    record Reloaded(Policy policy) implements Outcome {}

    /** The file changed but could not be used; the last good policy stays. */
    record Rejected(PolicyException problem) implements Outcome {}
  }

  private PolicyReloader(Path file, String text, Policy policy) {
    this.file = file;
    this.lastText = text;
    this.current = policy;
  }

  /**
   * Loads {@code file} (it must be valid: Warden does not start on a bad policy) without starting
   * to watch it; {@link #start} or {@link #checkNow} do that.
   */
  public static PolicyReloader load(Path file) throws PolicyException {
    String text = PolicyFile.read(file);
    return new PolicyReloader(file, text, PolicyFile.parse(file.toString(), text));
  }

  /** Loads {@code file} and checks it for changes every {@code interval}. */
  public static PolicyReloader watch(Path file, Duration interval) throws PolicyException {
    PolicyReloader reloader = load(file);
    reloader.start(interval);
    return reloader;
  }

  /** Starts checking the file every {@code interval} on a daemon thread of its own. */
  public synchronized void start(Duration interval) {
    if (poller != null) {
      throw new IllegalStateException("already watching " + file);
    }
    poller =
        Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().daemon().name("warden-policy-reload").factory());
    long millis = Math.max(1, interval.toMillis());
    poller.scheduleWithFixedDelay(this::poll, millis, millis, TimeUnit.MILLISECONDS);
  }

  @Override
  public Policy get() {
    return current;
  }

  /**
   * Tells {@code listener} of every reload and every rejected change (not of unchanged checks), on
   * the thread that checked; the audit trail records them.
   */
  public void onChange(Consumer<Outcome> listener) {
    this.listener = Objects.requireNonNull(listener, "listener");
  }

  /** The file being watched. */
  public Path file() {
    return file;
  }

  /** Reads the file now and applies it if it changed and is valid. */
  public synchronized Outcome checkNow() {
    String text;
    try {
      text = PolicyFile.read(file);
    } catch (PolicyException e) {
      // A file that vanished for a moment (an editor saving by rename) is tried again next time.
      Outcome.Rejected rejected = new Outcome.Rejected(e);
      if (lastText != null) {
        LOG.warn("{}; keeping the policy in force ({})", e.getMessage(), current);
        lastText = null;
        listener.accept(rejected);
      }
      return rejected;
    }
    if (text.equals(lastText)) {
      return new Outcome.Unchanged();
    }
    lastText = text;
    try {
      Policy policy = PolicyFile.parse(file.toString(), text);
      current = policy;
      LOG.info(
          "reloaded policy {}: {} rules, version {}",
          file,
          policy.rules().size(),
          Long.toHexString(policy.version()));
      Outcome.Reloaded reloaded = new Outcome.Reloaded(policy);
      listener.accept(reloaded);
      return reloaded;
    } catch (PolicyException e) {
      LOG.warn(
          "policy {} was not reloaded, the last good one stays in force (version {}):\n{}",
          file,
          Long.toHexString(current.version()),
          e.getMessage());
      Outcome.Rejected rejected = new Outcome.Rejected(e);
      listener.accept(rejected);
      return rejected;
    }
  }

  private void poll() {
    try {
      checkNow();
    } catch (RuntimeException e) {
      LOG.error("checking policy file {} failed; the policy in force stays", file, e);
    }
  }

  @Override
  public synchronized void close() {
    if (poller != null) {
      poller.shutdownNow();
      poller = null;
    }
  }

  /** A policy that never changes, such as the built-in default. */
  public static Supplier<Policy> fixed(Policy policy) {
    Objects.requireNonNull(policy, "policy");
    return () -> policy;
  }
}
