package dev.warden.core.masking;

/**
 * Stored password verifiers in the formats databases commonly hold: bcrypt ({@code $2a$}, {@code
 * $2b$}, {@code $2y$}), Argon2 PHC strings, scrypt (PHC/passlib {@code $scrypt$}, the {@code $7$}
 * crypt format and Django's {@code scrypt$}), Django PBKDF2 ({@code pbkdf2_sha256$}, {@code
 * pbkdf2_sha1$}), PostgreSQL SCRAM-SHA-256 verifiers and PostgreSQL {@code md5} hashes. Each is
 * checked for its cost parameters, alphabets and lengths. Bare hex digests (sha1, sha256) are not
 * recognised: they are indistinguishable from checksums and ids.
 */
final class PasswordHashDetector implements ContentDetector {
  @Override
  public DataKind kind() {
    return DataKind.PASSWORD_HASH;
  }

  @Override
  public boolean matches(String value) {
    String s = Text.candidate(value);
    if (s == null || s.length() < 20 || s.length() > 1024) {
      return false;
    }
    return bcrypt(s)
        || argon2(s)
        || scrypt(s)
        || djangoPbkdf2(s)
        || scramSha256(s)
        || postgresMd5(s);
  }

  private static boolean bcrypt(String s) {
    if (s.length() != 60
        || !(s.startsWith("$2a$") || s.startsWith("$2b$") || s.startsWith("$2y$"))) {
      return false;
    }
    int cost = Text.smallNumber(s.substring(4, 6));
    return s.charAt(6) == '$' && cost >= 4 && cost <= 31 && Text.all(s, 7, 60, Text::isCrypt64);
  }

  private static boolean argon2(String s) {
    // $argon2id$v=19$m=65536,t=3,p=4$salt$hash (the version part is absent in the oldest form)
    String[] p = s.split("\\$", -1);
    if (p.length < 5 || !p[0].isEmpty()) {
      return false;
    }
    if (!p[1].equals("argon2id") && !p[1].equals("argon2i") && !p[1].equals("argon2d")) {
      return false;
    }
    int i = 2;
    if (p[i].startsWith("v=")) {
      if (Text.smallNumber(p[i].substring(2)) < 16) {
        return false;
      }
      i++;
    }
    if (p.length != i + 3 || !parameters(p[i], "m", "t", "p")) {
      return false;
    }
    return unpaddedBase64(p[i + 1], 8) && unpaddedBase64(p[i + 2], 12);
  }

  private static boolean scrypt(String s) {
    if (s.startsWith("$scrypt$")) {
      String[] p = s.split("\\$", -1);
      return p.length == 5
          && parameters(p[2], "ln", "r", "p")
          && unpaddedBase64(p[3], 8)
          && unpaddedBase64(p[4], 16);
    }
    if (s.startsWith("$7$")) {
      // $7$ + N (1 char) + r (5 chars) + p (5 chars) + salt + $ + 43-char hash
      int dollar = s.indexOf('$', 3);
      return dollar >= 3 + 11
          && s.length() == dollar + 1 + 43
          && Text.all(s, 3, dollar, Text::isCrypt64)
          && Text.all(s, dollar + 1, s.length(), Text::isCrypt64);
    }
    if (s.startsWith("scrypt$")) {
      // Django: scrypt$<N>$<salt>$<r>$<p>$<base64 hash>
      String[] p = s.split("\\$", -1);
      return p.length == 6
          && Text.smallNumber(p[1]) >= 2
          && !p[2].isEmpty()
          && Text.all(p[2], Text::isAlnum)
          && Text.smallNumber(p[3]) >= 1
          && Text.smallNumber(p[4]) >= 1
          && Text.isBase64Blob(p[5], 16);
    }
    return false;
  }

  private static boolean djangoPbkdf2(String s) {
    String[] p = s.split("\\$", -1);
    return p.length == 4
        && (p[0].equals("pbkdf2_sha256") || p[0].equals("pbkdf2_sha1"))
        && Text.smallNumber(p[1]) >= 1000
        && !p[2].isEmpty()
        && Text.all(p[2], Text::isAlnum)
        && Text.isBase64Blob(p[3], 20);
  }

  private static boolean scramSha256(String s) {
    // SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>
    if (!s.startsWith("SCRAM-SHA-256$")) {
      return false;
    }
    String[] p = s.substring("SCRAM-SHA-256$".length()).split("\\$", -1);
    if (p.length != 2) {
      return false;
    }
    String[] iterationsSalt = p[0].split(":", -1);
    String[] keys = p[1].split(":", -1);
    return iterationsSalt.length == 2
        && keys.length == 2
        && Text.smallNumber(iterationsSalt[0]) >= 1
        && Text.isBase64Blob(iterationsSalt[1], 8)
        && keys[0].length() == 44
        && keys[1].length() == 44
        && Text.isBase64Blob(keys[0], 32)
        && Text.isBase64Blob(keys[1], 32);
  }

  private static boolean postgresMd5(String s) {
    return s.length() == 35 && s.startsWith("md5") && Text.all(s, 3, 35, Text::isLowerHex);
  }

  /** Comma-separated {@code name=number} pairs with exactly the given names, in order. */
  private static boolean parameters(String s, String... names) {
    String[] pairs = s.split(",", -1);
    if (pairs.length != names.length) {
      return false;
    }
    for (int i = 0; i < pairs.length; i++) {
      String prefix = names[i] + "=";
      if (!pairs[i].startsWith(prefix)
          || Text.smallNumber(pairs[i].substring(prefix.length())) < 1) {
        return false;
      }
    }
    return true;
  }

  private static boolean unpaddedBase64(String s, int minChars) {
    return s.length() >= minChars && s.length() % 4 != 1 && Text.all(s, Text::isBase64);
  }
}
