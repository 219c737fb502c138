package dev.warden.server.audit;

import java.security.GeneralSecurityException;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * How every webhook Warden sends (audit exports, approval notifications) is signed: the lowercase
 * hex HMAC-SHA-256 of the exact body, in {@value #HEADER} as {@code sha256=<hex>}.
 */
public final class WebhookSignature {
  /** The header that carries the signature. */
  public static final String HEADER = "X-Warden-Signature";

  private WebhookSignature() {}

  /** The lowercase hex HMAC-SHA-256 of {@code body}. */
  public static String sign(SecretKeySpec key, byte[] body) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(key);
      return HexFormat.of().formatHex(mac.doFinal(body));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("the JDK has no HmacSHA256", e);
    }
  }

  /** The header's value for {@code body}. */
  public static String header(SecretKeySpec key, byte[] body) {
    return "sha256=" + sign(key, body);
  }
}
