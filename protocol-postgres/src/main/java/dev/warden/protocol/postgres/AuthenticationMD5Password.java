package dev.warden.protocol.postgres;

import io.netty.buffer.ByteBuf;
import java.util.Arrays;

/**
 * AuthenticationMD5Password (B): an MD5-hashed password is required.
 *
 * @param salt the 4-byte salt to hash with; never printed
 */
public record AuthenticationMD5Password(byte[] salt) implements BackendMessage {
  static final int SALT_BYTES = 4;

  /** Checks the salt is 4 bytes and copies it. */
  public AuthenticationMD5Password {
    salt = Values.bytes(salt, "salt");
    if (salt.length != SALT_BYTES) {
      throw new IllegalArgumentException("MD5 salt must have 4 bytes");
    }
  }

  /** A copy of the salt. */
  @Override
  public byte[] salt() {
    return salt.clone();
  }

  @Override
  public void encode(ByteBuf out) {
    Authentication.writeWithData(out, Authentication.MD5_PASSWORD, salt);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof AuthenticationMD5Password other && Arrays.equals(salt, other.salt);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(salt);
  }

  @Override
  public String toString() {
    return "AuthenticationMD5Password[salt=<redacted>]";
  }
}
