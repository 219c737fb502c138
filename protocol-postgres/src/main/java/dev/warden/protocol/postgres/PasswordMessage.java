package dev.warden.protocol.postgres;

import io.netty.buffer.ByteBuf;
import java.util.Arrays;

/**
 * PasswordMessage (F): a cleartext or MD5-hashed password, type {@code 'p'}. The same type byte
 * also carries SASLInitialResponse, SASLResponse and GSSResponse; which one is meant follows from
 * the authentication request the server sent, so it is decoded with {@link
 * FrontendMessages#decodePasswordMessage}.
 *
 * @param password the password bytes without the terminating NUL; never printed
 */
public record PasswordMessage(byte[] password) implements FrontendMessage {
  /** The message type byte shared by all authentication responses. */
  public static final byte TYPE = 'p';

  /** Copies the password, which must not contain a NUL byte (it is sent NUL-terminated). */
  public PasswordMessage {
    password = Values.bytes(password, "password");
    for (byte b : password) {
      if (b == 0) {
        throw new IllegalArgumentException("password contains a NUL byte");
      }
    }
  }

  /** A copy of the password; the caller should clear it when done. */
  @Override
  public byte[] password() {
    return password.clone();
  }

  @Override
  public void encode(ByteBuf out) {
    out.writeByte(TYPE);
    out.writeInt(4 + password.length + 1);
    out.writeBytes(password);
    out.writeByte(0);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof PasswordMessage other && Values.equalSecrets(password, other.password);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(password);
  }

  @Override
  public String toString() {
    return "PasswordMessage[password=<redacted>]";
  }

  static PasswordMessage decode(MessageReader body) {
    byte[] password = body.readCStringBytes("password");
    body.end();
    return new PasswordMessage(password);
  }
}
