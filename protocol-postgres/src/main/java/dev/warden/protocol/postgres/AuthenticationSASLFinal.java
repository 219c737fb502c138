package dev.warden.protocol.postgres;

import io.netty.buffer.ByteBuf;
import java.util.Arrays;

/**
 * AuthenticationSASLFinal (B)
 *
 * @param data the SASL outcome (for SCRAM-SHA-256, the server-final-message with the server
 *     signature).:the outcome data; never printed
 */
public record AuthenticationSASLFinal(byte[] data) implements BackendMessage {
  /** Copies the data. */
  public AuthenticationSASLFinal {
    data = Values.bytes(data, "data");
  }

  /** A copy of the data. */
  @Override
  public byte[] data() {
    return data.clone();
  }

  @Override
  public void encode(ByteBuf out) {
    Authentication.writeWithData(out, Authentication.SASL_FINAL, data);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof AuthenticationSASLFinal other && Values.equalSecrets(data, other.data);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(data);
  }

  @Override
  public String toString() {
    return "AuthenticationSASLFinal[data=<redacted>]";
  }
}
