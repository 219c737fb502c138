package dev.warden.protocol.postgres;

import io.netty.buffer.ByteBuf;
import java.util.Arrays;

/**
 * BackendKeyData (B): the process id and secret key a client needs to send a CancelRequest. With
 * protocol 3.2 the key length is variable (PostgreSQL 18 sends 32 bytes); 4 to 256 bytes are
 * allowed.
 *
 * @param processId the backend's process id
 * @param secretKey the cancel key; never printed
 */
public record BackendKeyData(int processId, byte[] secretKey) implements BackendMessage {
  /** The message type byte. */
  public static final byte TYPE = 'K';

  static final int MIN_KEY_BYTES = 4;
  static final int MAX_KEY_BYTES = 256;

  /** Checks the key length (4..256 bytes) and copies the key. */
  public BackendKeyData {
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
    out.writeByte(TYPE);
    out.writeInt(8 + secretKey.length);
    out.writeInt(processId);
    out.writeBytes(secretKey);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof BackendKeyData other
        && processId == other.processId
        && Values.equalSecrets(secretKey, other.secretKey);
  }

  @Override
  public int hashCode() {
    return 31 * processId + Arrays.hashCode(secretKey);
  }

  @Override
  public String toString() {
    return "BackendKeyData[processId=" + processId + ", secretKey=<redacted>]";
  }

  static BackendKeyData decode(MessageReader body) {
    int processId = body.readInt32();
    int keyBytes = body.remaining();
    if (keyBytes < MIN_KEY_BYTES || keyBytes > MAX_KEY_BYTES) {
      throw body.malformed("cancel key of " + keyBytes + " bytes");
    }
    return new BackendKeyData(processId, body.readRest());
  }
}
