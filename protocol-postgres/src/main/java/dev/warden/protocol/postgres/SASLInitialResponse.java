package dev.warden.protocol.postgres;

import io.netty.buffer.ByteBuf;
import java.util.Arrays;

/**
 * SASLInitialResponse (F): the client's chosen SASL mechanism and its first message (for
 * SCRAM-SHA-256, the client-first-message). Type {@code 'p'}.
 *
 * @param mechanism the mechanism name, e.g. {@code SCRAM-SHA-256}
 * @param data the initial response, or {@code null} when the client sent length -1 (none); never
 *     printed
 */
public record SASLInitialResponse(String mechanism, byte[] data) implements FrontendMessage {
  /** Checks the mechanism name and copies the data. */
  public SASLInitialResponse {
    Values.nonEmptyText(mechanism, "mechanism");
    data = Values.nullableBytes(data);
  }

  /** A copy of the initial response, or {@code null} if there was none. */
  @Override
  public byte[] data() {
    return Values.nullableBytes(data);
  }

  @Override
  public void encode(ByteBuf out) {
    int lengthIndex = MessageWriter.begin(out, PasswordMessage.TYPE);
    MessageWriter.writeCString(out, mechanism);
    MessageWriter.writeNullableValue(out, data);
    MessageWriter.end(out, lengthIndex);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof SASLInitialResponse other
        && mechanism.equals(other.mechanism)
        && Values.equalSecrets(data, other.data);
  }

  @Override
  public int hashCode() {
    return 31 * mechanism.hashCode() + Arrays.hashCode(data);
  }

  @Override
  public String toString() {
    return "SASLInitialResponse[mechanism=" + mechanism + ", data=<redacted>]";
  }

  static SASLInitialResponse decode(MessageReader body) {
    String mechanism = body.readCString("mechanism");
    byte[] data = body.readNullableValue("initial response");
    body.end();
    return new SASLInitialResponse(mechanism, data);
  }
}
