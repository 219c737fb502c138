package dev.warden.core.masking;

/**
 * PEM-armoured private keys anywhere in a value (keys are often stored inside configuration text):
 * a {@code -----BEGIN ... PRIVATE KEY-----} line for PKCS#8, encrypted PKCS#8, RSA, DSA, EC or
 * OpenSSH keys, optional RFC 1421 headers (legacy encrypted keys), a base64 body of at least 32
 * bytes and the matching END line. Public keys and certificates are not private and are refused.
 */
final class PrivateKeyDetector implements ContentDetector {
  private static final String[] LABELS = {
    "PRIVATE KEY",
    "ENCRYPTED PRIVATE KEY",
    "RSA PRIVATE KEY",
    "DSA PRIVATE KEY",
    "EC PRIVATE KEY",
    "OPENSSH PRIVATE KEY"
  };

  @Override
  public DataKind kind() {
    return DataKind.PRIVATE_KEY;
  }

  @Override
  public boolean matches(String value) {
    String s = Text.candidate(value);
    if (s == null) {
      return false;
    }
    boolean[] tried = new boolean[LABELS.length];
    int from = 0;
    while (true) {
      int begin = s.indexOf("-----BEGIN ", from);
      if (begin < 0) {
        return false;
      }
      int labelStart = begin + "-----BEGIN ".length();
      // Labels are short: looking only a little ahead keeps the scan linear on hostile input.
      int labelEnd =
          s.substring(labelStart, Math.min(s.length(), labelStart + 32)).indexOf("-----");
      int known = labelEnd < 0 ? -1 : known(s.substring(labelStart, labelStart + labelEnd));
      if (known >= 0 && !tried[known]) {
        // A block that has no END for its label will not have one later either.
        tried[known] = true;
        if (block(s, labelStart + labelEnd + 5, LABELS[known])) {
          return true;
        }
      }
      from = labelStart;
    }
  }

  private static int known(String label) {
    for (int i = 0; i < LABELS.length; i++) {
      if (LABELS[i].equals(label)) {
        return i;
      }
    }
    return -1;
  }

  private static boolean block(String s, int bodyStart, String label) {
    String end = "-----END " + label + "-----";
    int bodyEnd = s.indexOf(end, bodyStart);
    if (bodyEnd < 0) {
      return false;
    }
    StringBuilder base64 = new StringBuilder();
    // Keys kept inside JSON or other escaped text have their line breaks written as \n.
    String body = s.substring(bodyStart, bodyEnd).replace("\\r", "").replace("\\n", "\n");
    for (String line : body.split("\r?\n|\r", -1)) {
      String trimmed = line.strip();
      if (trimmed.isEmpty() || trimmed.indexOf(':') > 0 && base64.isEmpty()) {
        continue; // blank lines and RFC 1421 headers such as Proc-Type and DEK-Info
      }
      base64.append(trimmed);
    }
    return Text.isBase64Blob(base64.toString(), 32);
  }
}
