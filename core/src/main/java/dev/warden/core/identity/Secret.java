package dev.warden.core.identity;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Arrays;

/**
 * A password, token or key held in memory. It never prints its value: {@link #toString()} is
 * redacted so that a secret passed to a logger, an exception message or a debugger view leaks
 * nothing (THREATS.md §7, "Secrets").
 */
public final class Secret {
  private final byte[] value;

  private Secret(byte[] value) {
    this.value = value;
  }

  /** Wraps the UTF-8 bytes of {@code value}. */
  public static Secret of(String value) {
    return new Secret(value.getBytes(StandardCharsets.UTF_8));
  }

  /** Wraps a copy of {@code value}. */
  public static Secret ofBytes(byte[] value) {
    return new Secret(value.clone());
  }

  /** A copy of the secret's bytes; the caller should clear it when done. */
  public byte[] bytes() {
    return value.clone();
  }

  /** The secret as a string, for the few places that must send it (upstream authentication). */
  public String reveal() {
    return new String(value, StandardCharsets.UTF_8);
  }

  public boolean isEmpty() {
    return value.length == 0;
  }

  /** Constant-time comparison. */
  public boolean matches(Secret other) {
    return MessageDigest.isEqual(value, other.value);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Secret s && matches(s);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(value);
  }

  @Override
  public String toString() {
    return "Secret[redacted]";
  }
}
