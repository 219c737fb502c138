package dev.warden.protocol.postgres;

import io.netty.buffer.ByteBuf;
import java.util.Arrays;

/**
 * AuthenticationGSSContinue (B)
 *
 * @param data a GSSAPI or SSPI token for the client.:the token; never printed
 */
public record AuthenticationGSSContinue(byte[] data) implements BackendMessage {
  /** Copies the data. */
  public AuthenticationGSSContinue {
    data = Values.bytes(data, "data");
  }

  /** A copy of the data. */
  @Override
  public byte[] data() {
    return data.clone();
  }

  @Override
  public void encode(ByteBuf out) {
    Authentication.writeWithData(out, Authentication.GSS_CONTINUE, data);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof AuthenticationGSSContinue other && Values.equalSecrets(data, other.data);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(data);
  }

  @Override
  public String toString() {
    return "AuthenticationGSSContinue[data=<redacted>]";
  }
}
