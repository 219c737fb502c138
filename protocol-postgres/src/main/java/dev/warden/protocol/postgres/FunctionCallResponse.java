package dev.warden.protocol.postgres;

import io.netty.buffer.ByteBuf;
import java.util.Arrays;

/**
 * FunctionCallResponse (B): the result of a FunctionCall.
 *
 * @param result the value, or {@code null} for SQL NULL; never printed
 */
public record FunctionCallResponse(byte[] result) implements BackendMessage {
  /** The message type byte. */
  public static final byte TYPE = 'V';

  /** Copies the result. */
  public FunctionCallResponse {
    result = Values.nullableBytes(result);
  }

  /** A copy of the result, or {@code null} for SQL NULL. */
  @Override
  public byte[] result() {
    return Values.nullableBytes(result);
  }

  @Override
  public void encode(ByteBuf out) {
    int lengthIndex = MessageWriter.begin(out, TYPE);
    MessageWriter.writeNullableValue(out, result);
    MessageWriter.end(out, lengthIndex);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof FunctionCallResponse other && Arrays.equals(result, other.result);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(result);
  }

  @Override
  public String toString() {
    return "FunctionCallResponse[result=" + Values.describeBytes(result) + "]";
  }

  static FunctionCallResponse decode(MessageReader body) {
    byte[] result = body.readNullableValue("result");
    body.end();
    return new FunctionCallResponse(result);
  }
}
