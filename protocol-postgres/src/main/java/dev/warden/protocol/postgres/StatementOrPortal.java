package dev.warden.protocol.postgres;

/** The target byte shared by Describe and Close: {@code 'S'} statement or {@code 'P'} portal. */
final class StatementOrPortal {
  static final byte STATEMENT = 'S';
  static final byte PORTAL = 'P';

  private StatementOrPortal() {}

  static void check(byte kind, String message) {
    if (kind != STATEMENT && kind != PORTAL) {
      throw new IllegalArgumentException(message + " kind must be 'S' or 'P', was " + kind);
    }
  }

  static byte read(MessageReader body) {
    byte kind = body.readByte();
    if (kind != STATEMENT && kind != PORTAL) {
      throw body.malformed("target must be 'S' or 'P', was " + kind);
    }
    return kind;
  }
}
