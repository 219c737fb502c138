package dev.warden.core.environment;

import java.time.Instant;
import java.util.Optional;

/**
 * The open access windows, as the proxy asks at login and while an elevated session lasts. The
 * server keeps them in memory, so both questions are answered without blocking: they may be asked
 * on an event loop.
 */
public interface AccessWindows {
  /**
   * The window of {@code identity} in {@code environment} open at {@code at}; of several, the one
   * that ends last.
   */
  Optional<AccessWindow> openFor(String identity, String environment, Instant at);

  /**
   * Whether the window opened by request {@code id} is still open at {@code at}: false once it
   * ended, including when it was withdrawn early.
   */
  boolean isOpen(String id, Instant at);

  /** No windows: every session logs in as its normal role. */
  AccessWindows NONE =
      new AccessWindows() {
        @Override
        public Optional<AccessWindow> openFor(String identity, String environment, Instant at) {
          return Optional.empty();
        }

        @Override
        public boolean isOpen(String id, Instant at) {
          return false;
        }
      };
}
