package dev.warden.protocol.postgres;

import io.netty.buffer.ByteBuf;
import java.util.Arrays;

/**
 * AuthenticationSASLContinue (B)
 *
 * @param data a SASL challenge (for SCRAM-SHA-256, the server-first-message).:the challenge; never
 *     printed
 */
public record AuthenticationSASLContinue(byte[] data) implements BackendMessage {
  /** Copies the data. */
  public AuthenticationSASLContinue {
    data = Values.bytes(data, "data");
  }

  /** A copy of the data. */
  @Override
  public byte[] data() {
    return data.clone();
  }

  @Override
  public void encode(ByteBuf out) {
    Authentication.writeWithData(out, Authentication.SASL_CONTINUE, data);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof AuthenticationSASLContinue other && Values.equalSecrets(data, other.data);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(data);
  }

  @Override
  public String toString() {
    return "AuthenticationSASLContinue[data=<redacted>]";
  }
}
