package dev.warden.protocol.postgres;

import io.netty.buffer.ByteBuf;
import java.util.Arrays;

/**
 * SASLResponse (F): a further SASL message from the client (for SCRAM-SHA-256, the
 * client-final-message with the proof). Type {@code 'p'}.
 *
 * @param data the mechanism-specific data; never printed
 */
public record SASLResponse(byte[] data) implements FrontendMessage {
  /** Copies the data. */
  public SASLResponse {
    data = Values.bytes(data, "data");
  }

  /** A copy of the data. */
  @Override
  public byte[] data() {
    return data.clone();
  }

  @Override
  public void encode(ByteBuf out) {
    out.writeByte(PasswordMessage.TYPE);
    out.writeInt(4 + data.length);
    out.writeBytes(data);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof SASLResponse other && Values.equalSecrets(data, other.data);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(data);
  }

  @Override
  public String toString() {
    return "SASLResponse[data=<redacted>]";
  }

  static SASLResponse decode(MessageReader body) {
    return new SASLResponse(body.readRest());
  }
}
