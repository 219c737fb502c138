package dev.warden.protocol.postgres;

import io.netty.buffer.ByteBuf;
import java.util.List;

/**
 * AuthenticationSASL (B): SASL authentication is required.
 *
 * @param mechanisms the mechanisms the server offers, in its order of preference (e.g. {@code
 *     SCRAM-SHA-256-PLUS}, {@code SCRAM-SHA-256})
 */
public record AuthenticationSASL(List<String> mechanisms) implements BackendMessage {
  /** Checks the names (non-empty: an empty name ends the list on the wire) and copies them. */
  public AuthenticationSASL {
    mechanisms = List.copyOf(mechanisms);
    for (String mechanism : mechanisms) {
      Values.nonEmptyText(mechanism, "mechanism");
    }
  }

  @Override
  public void encode(ByteBuf out) {
    int lengthIndex = MessageWriter.begin(out, AuthenticationOk.TYPE);
    out.writeInt(Authentication.SASL);
    for (String mechanism : mechanisms) {
      MessageWriter.writeCString(out, mechanism);
    }
    out.writeByte(0);
    MessageWriter.end(out, lengthIndex);
  }
}
