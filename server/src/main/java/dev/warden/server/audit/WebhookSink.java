package dev.warden.server.audit;

import dev.warden.core.audit.ChainedRecord;
import dev.warden.core.identity.Secret;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import javax.crypto.spec.SecretKeySpec;

/**
 * POSTs each batch as a JSON array of records. With a secret, the header {@code X-Warden-Signature:
 * sha256=<hex>} carries the HMAC-SHA-256 of the exact body, so the receiver can reject anything
 * Warden did not send. {@code X-Warden-Delivery: <log id>:<first seq>-<last seq>} names the batch,
 * so that a receiver can recognise a batch delivered again after a failure. Only a 2xx answer
 * counts as delivered; redirects are not followed.
 */
final class WebhookSink implements Sink {
  /** The signature header's name. */
  static final String SIGNATURE_HEADER = WebhookSignature.HEADER;

  /** The batch header's name. */
  static final String DELIVERY_HEADER = "X-Warden-Delivery";

  private final String name;
  private final URI url;
  private final Optional<SecretKeySpec> key;
  private final HttpClient client;
  private final Duration timeout;
  private final AuditJson json;
  private final int batchSize;

  WebhookSink(
      String name,
      URI url,
      Optional<Secret> secret,
      HttpClient client,
      Duration timeout,
      AuditJson json,
      int batchSize) {
    this.name = Objects.requireNonNull(name, "name");
    this.batchSize = batchSize;
    this.url = Objects.requireNonNull(url, "url");
    this.key = secret.map(WebhookSink::key);
    this.client = Objects.requireNonNull(client, "client");
    this.timeout = Objects.requireNonNull(timeout, "timeout");
    this.json = Objects.requireNonNull(json, "json");
  }

  private static SecretKeySpec key(Secret secret) {
    byte[] bytes = secret.bytes();
    try {
      return new SecretKeySpec(bytes, "HmacSHA256");
    } finally {
      Arrays.fill(bytes, (byte) 0);
    }
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public int batchSize() {
    return batchSize;
  }

  @Override
  public void deliver(String logId, List<ChainedRecord> batch)
      throws IOException, InterruptedException {
    StringBuilder text = new StringBuilder(batch.size() * 512 + 2).append('[');
    for (int i = 0; i < batch.size(); i++) {
      if (i > 0) {
        text.append(',');
      }
      text.append(json.write(json.exported(logId, batch.get(i))));
    }
    byte[] body = text.append(']').toString().getBytes(StandardCharsets.UTF_8);
    HttpRequest.Builder request =
        HttpRequest.newBuilder(url)
            .timeout(timeout)
            .header("Content-Type", "application/json")
            .header(
                DELIVERY_HEADER, logId + ":" + batch.getFirst().seq() + "-" + batch.getLast().seq())
            .POST(HttpRequest.BodyPublishers.ofByteArray(body));
    key.ifPresent(k -> request.header(SIGNATURE_HEADER, "sha256=" + sign(k, body)));
    HttpResponse<Void> response;
    try {
      response = client.send(request.build(), HttpResponse.BodyHandlers.discarding());
    } catch (IOException e) {
      // The JDK's messages name the host at most, never the query that may hold a token.
      throw new IOException(
          "cannot reach "
              + name
              + ": "
              + (e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName()),
          e);
    }
    int status = response.statusCode();
    if (status < 200 || status > 299) {
      throw new IOException(name + " answered HTTP " + status);
    }
  }

  /** The lowercase hex HMAC-SHA-256 of {@code body}. */
  static String sign(SecretKeySpec key, byte[] body) {
    return WebhookSignature.sign(key, body);
  }
}
