package dev.warden.protocol.postgres;

import io.netty.buffer.ByteBuf;
import java.util.Arrays;

/**
 * CancelRequest (F): sent on a new connection to cancel the query running in another session.
 * Untyped: Int32 length, Int32 code 1234.5678, Int32 process id, then the secret key, whose length
 * is whatever remains (protocol 3.2 made it variable; 4 to 256 bytes).
 *
 * @param processId the target backend's process id, from BackendKeyData
 * @param secretKey the target's cancel key; never printed
 */
public record CancelRequest(int processId, byte[] secretKey) implements FrontendMessage {
  /** The request code 1234.5678 in place of a protocol version. */
  public static final int CODE = 80877102;

  static final int MIN_KEY_BYTES = 4;
  static final int MAX_KEY_BYTES = 256;

  /** Checks the key length (4..256 bytes) and copies the key. */
  public CancelRequest {
    secretKey = Values.bytes(secretKey, "secretKey");
    if (secretKey.length < MIN_KEY_BYTES || secretKey.length > MAX_KEY_BYTES) {
      throw new IllegalArgumentException("cancel key must have 4 to 256 bytes");
    }
  }

  /** A copy of the key. */
  @Override
  public byte[] secretKey() {
    return secretKey.clone();
  }

  @Override
  public void encode(ByteBuf out) {
    out.writeInt(12 + secretKey.length);
    out.writeInt(CODE);
    out.writeInt(processId);
    out.writeBytes(secretKey);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof CancelRequest other
        && processId == other.processId
        && Values.equalSecrets(secretKey, other.secretKey);
  }

  @Override
  public int hashCode() {
    return 31 * processId + Arrays.hashCode(secretKey);
  }

  @Override
  public String toString() {
    return "CancelRequest[processId=" + processId + ", secretKey=<redacted>]";
  }
}
