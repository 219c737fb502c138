package dev.warden.protocol.postgres;

/**
 * Size limits applied to a length field before anything is allocated for the message it frames.
 *
 * @param maxMessageBytes largest accepted typed message, counting its length field but not its type
 *     byte
 * @param maxStartupBytes largest accepted untyped startup-phase packet, counting its length field
 */
public record Limits(int maxMessageBytes, int maxStartupBytes) {
  /**
   * PostgreSQL's {@code MAX_STARTUP_PACKET_LENGTH} (src/include/libpq/pqcomm.h): the server itself
   * refuses larger startup packets, so a proxy gains nothing by accepting more.
   */
  static final int POSTGRES_MAX_STARTUP_PACKET_LENGTH = 10_000;

  private static final int DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

  /** Checks that each limit can hold at least the smallest message it frames. */
  public Limits {
    if (maxMessageBytes < 4) {
      throw new IllegalArgumentException("maxMessageBytes must be at least 4");
    }
    if (maxStartupBytes < 8) {
      throw new IllegalArgumentException("maxStartupBytes must be at least 8");
    }
  }

  /** 64 MiB per typed message and 10 000 bytes per startup packet. */
  public static Limits defaults() {
    return new Limits(DEFAULT_MAX_MESSAGE_BYTES, POSTGRES_MAX_STARTUP_PACKET_LENGTH);
  }
}
