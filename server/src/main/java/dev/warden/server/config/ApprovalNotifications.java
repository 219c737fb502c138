package dev.warden.server.config;

import dev.warden.core.identity.Secret;
import java.net.URI;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Where Warden tells people about approval requests: signed webhooks for machines, and
 * Slack-compatible incoming webhooks for reviewers, whose messages link to the console's page of
 * the request when Warden's public address is known. {@code toString} is safe to log: webhook
 * secrets are {@link Secret}s and the Slack URLs (which are themselves secrets) are shown by host
 * only.
 *
 * @param webhooks each POSTed a JSON payload per request and decision
 * @param slack Slack (or Mattermost, Rocket.Chat, ...) incoming webhook URLs
 * @param publicUrl the address people reach Warden's console at, e.g. {@code
 *     https://warden.corp.example}; links are {@code <publicUrl>/approvals/<id>}. Without it,
 *     messages name the request and the {@code warden approvals} command instead
 */
public record ApprovalNotifications(
    List<Webhook> webhooks, List<URI> slack, Optional<URI> publicUrl) {
  /** No notifications. */
  public static final ApprovalNotifications NONE =
      new ApprovalNotifications(List.of(), List.of(), Optional.empty());

  public ApprovalNotifications {
    webhooks = List.copyOf(webhooks);
    slack = List.copyOf(slack);
    for (URI url : slack) {
      checkUrl(url, "a Slack webhook");
    }
    Objects.requireNonNull(publicUrl, "publicUrl");
    publicUrl.ifPresent(u -> checkUrl(u, "the public URL"));
  }

  /** True when there is nobody to tell. */
  public boolean isEmpty() {
    return webhooks.isEmpty() && slack.isEmpty();
  }

  @Override
  public String toString() {
    return "ApprovalNotifications[webhooks="
        + webhooks
        + ", slack="
        + slack.stream().map(ApprovalNotifications::shown).toList()
        + ", publicUrl="
        + publicUrl
        + "]";
  }

  /**
   * A webhook.
   *
   * @param url an https URL (http only to this machine; the parser checks)
   * @param secret the HMAC-SHA-256 key of the {@code X-Warden-Signature} header, if any
   */
  public record Webhook(URI url, Optional<Secret> secret) {
    public Webhook {
      checkUrl(url, "an approval webhook");
      Objects.requireNonNull(secret, "secret");
    }

    @Override
    public String toString() {
      return "Webhook[" + shown(url) + (secret.isPresent() ? ", signed" : "") + "]";
    }
  }

  private static void checkUrl(URI url, String what) {
    Objects.requireNonNull(url, "url");
    String scheme = url.getScheme() == null ? "" : url.getScheme();
    if (!(scheme.equals("https") || scheme.equals("http")) || url.getHost() == null) {
      throw new IllegalArgumentException(
          what + " must be an http(s) URL, not '" + shown(url) + "'");
    }
  }

  /**
   * A URL as messages may show it: scheme, host and port, without the path or query that may hold a
   * token.
   */
  public static String shown(URI url) {
    return url.getScheme() + "://" + url.getHost() + (url.getPort() < 0 ? "" : ":" + url.getPort());
  }
}
