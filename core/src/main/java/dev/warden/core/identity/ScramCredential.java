package dev.warden.core.identity;

import java.util.Objects;

/**
 * What Warden stores for a local user: the SCRAM-SHA-256 verifier of RFC 5802 and RFC 7677, never
 * the password. {@code storedKey} and {@code serverKey} are 32 bytes each.
 */
public record ScramCredential(byte[] salt, int iterations, byte[] storedKey, byte[] serverKey) {
  public ScramCredential {
    Objects.requireNonNull(salt, "salt");
    Objects.requireNonNull(storedKey, "storedKey");
    Objects.requireNonNull(serverKey, "serverKey");
    if (iterations < 1) {
      throw new IllegalArgumentException("iterations must be positive");
    }
    salt = salt.clone();
    storedKey = storedKey.clone();
    serverKey = serverKey.clone();
  }

  @Override
  public byte[] salt() {
    return salt.clone();
  }

  @Override
  public byte[] storedKey() {
    return storedKey.clone();
  }

  @Override
  public byte[] serverKey() {
    return serverKey.clone();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ScramCredential c
        && iterations == c.iterations
        && java.util.Arrays.equals(salt, c.salt)
        && java.util.Arrays.equals(storedKey, c.storedKey)
        && java.util.Arrays.equals(serverKey, c.serverKey);
  }

  @Override
  public int hashCode() {
    return java.util.Arrays.hashCode(storedKey);
  }

  @Override
  public String toString() {
    return "ScramCredential[iterations=" + iterations + ", keys redacted]";
  }
}
