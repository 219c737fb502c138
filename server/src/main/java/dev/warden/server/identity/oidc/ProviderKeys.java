package dev.warden.server.identity.oidc;

import com.fasterxml.jackson.databind.JsonNode;
import com.nimbusds.jose.jwk.JWK;
import dev.warden.core.identity.AuthenticationFailure;
import dev.warden.core.identity.AuthenticationFailure.Reason;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.text.ParseException;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One provider's signing keys: discovered, fetched, cached and refetched without hurting the
 * provider or Warden.
 *
 * <p>Keys are used for the cache lifetime, then fetched again; with the provider down after that,
 * logins fail closed (THREATS F11). A token naming an unknown key (rotation, or a flood of made-up
 * kids) causes at most one fetch per minimum refresh interval, and concurrent callers share the
 * fetch in flight (THREATS AU05). A failed fetch is not retried within that interval either, so an
 * unreachable provider costs each login nothing but an immediate refusal.
 */
final class ProviderKeys {
  private static final Logger LOG = LoggerFactory.getLogger(ProviderKeys.class);
  private static final int MAX_DISCOVERY_BYTES = 64 * 1024;
  private static final int MAX_JWKS_BYTES = 512 * 1024;
  private static final int MAX_KEYS = 100;

  private final OidcProviderSettings settings;
  private final HttpClient http;
  private final Executor executor;
  private final Clock clock;

  // Guarded by this.
  private KeySet keys;
  private Discovery discovery;
  private Instant lastAttempt;
  private CompletableFuture<KeySet> inFlight;

  ProviderKeys(OidcProviderSettings settings, HttpClient http, Executor executor, Clock clock) {
    this.settings = settings;
    this.http = http;
    this.executor = executor;
    this.clock = clock;
  }

  /** The keys fetched at one time. */
  record KeySet(List<VerificationKey> keys, Instant fetchedAt) {
    boolean has(String kid) {
      return keys.stream().anyMatch(k -> k.kid().equals(Optional.of(kid)));
    }
  }

  private record Discovery(URI jwksUri, Instant fetchedAt) {}

  /**
   * Keys that are fresh and, when {@code kid} is given, include it if the provider publishes it:
   * the cached keys, or a fetch when they are stale, missing or lack {@code kid} and the minimum
   * interval allows one. Fails with {@link Reason#PROVIDER_UNAVAILABLE} when there are no usable
   * keys and none can be fetched.
   */
  CompletableFuture<KeySet> keysFor(Optional<String> kid) {
    CompletableFuture<KeySet> fetch;
    synchronized (this) {
      Instant now = clock.instant();
      boolean fresh = keys != null && now.isBefore(keys.fetchedAt().plus(settings.cacheLifetime()));
      if (fresh && (kid.isEmpty() || keys.has(kid.get()))) {
        return CompletableFuture.completedFuture(keys);
      }
      if (inFlight != null) {
        return inFlight;
      }
      if (lastAttempt != null
          && now.isBefore(lastAttempt.plus(settings.jwksMinRefreshInterval()))) {
        if (fresh) {
          return CompletableFuture.completedFuture(keys); // The kid stays unknown until then.
        }
        return CompletableFuture.failedFuture(
            new AuthenticationFailure(
                Reason.PROVIDER_UNAVAILABLE,
                "identity provider "
                    + settings.name()
                    + " could not be reached recently; its keys are fetched again after "
                    + lastAttempt.plus(settings.jwksMinRefreshInterval())));
      }
      lastAttempt = now;
      fetch = new CompletableFuture<>();
      inFlight = fetch;
    }
    fetch().whenComplete((fetched, failure) -> settle(fetch, fetched, failure));
    return fetch;
  }

  /** Fetches the keys now unless they are fresh; failures are logged, not thrown. */
  CompletableFuture<Void> prefetch() {
    return keysFor(Optional.empty()).handle((k, e) -> null);
  }

  private void settle(CompletableFuture<KeySet> fetch, KeySet fetched, Throwable failure) {
    synchronized (this) {
      inFlight = null;
      if (fetched != null) {
        keys = fetched;
      }
    }
    if (fetched != null) {
      fetch.complete(fetched);
      return;
    }
    Throwable cause = failure instanceof CompletionException c ? c.getCause() : failure;
    AuthenticationFailure unavailable =
        cause instanceof AuthenticationFailure a
            ? a
            : new AuthenticationFailure(
                Reason.PROVIDER_UNAVAILABLE,
                "identity provider " + settings.name() + ": " + cause.getClass().getSimpleName());
    LOG.warn("OIDC keys not refreshed: {}", unavailable.getMessage());
    fetch.completeExceptionally(unavailable);
  }

  private CompletableFuture<KeySet> fetch() {
    return jwksUri().thenCompose(this::fetchJwks);
  }

  private CompletableFuture<URI> jwksUri() {
    if (settings.jwksUri().isPresent()) {
      return CompletableFuture.completedFuture(settings.jwksUri().get());
    }
    synchronized (this) {
      if (discovery != null
          && clock.instant().isBefore(discovery.fetchedAt().plus(settings.cacheLifetime()))) {
        return CompletableFuture.completedFuture(discovery.jwksUri());
      }
    }
    URI uri = settings.discoveryUri();
    return get(uri, MAX_DISCOVERY_BYTES)
        .thenApply(
            body -> {
              URI jwks = parseDiscovery(body);
              synchronized (this) {
                discovery = new Discovery(jwks, clock.instant());
              }
              return jwks;
            });
  }

  private URI parseDiscovery(byte[] body) {
    JsonNode doc;
    try {
      doc = BoundedJson.readObject(body, "the discovery document");
    } catch (BoundedJson.InvalidJson e) {
      throw unavailable(e.getMessage());
    }
    JsonNode issuer = doc.get("issuer");
    // OpenID Connect Discovery 1.0 §4.3: the issuer must be identical to the one configured.
    if (issuer == null || !issuer.isTextual()) {
      throw unavailable("the discovery document names no issuer");
    }
    if (!issuer.textValue().equals(settings.issuer().toString())) {
      throw unavailable(
          "the discovery document names issuer '"
              + printable(issuer.textValue())
              + "', not the configured '"
              + settings.issuer()
              + "'");
    }
    JsonNode jwks = doc.get("jwks_uri");
    if (jwks == null || !jwks.isTextual()) {
      throw unavailable("the discovery document has no jwks_uri");
    }
    try {
      return OidcProviderSettings.checkUrl("jwks_uri", new URI(jwks.textValue()));
    } catch (java.net.URISyntaxException | IllegalArgumentException e) {
      throw unavailable("the discovery document's jwks_uri is not an https URL");
    }
  }

  private CompletableFuture<KeySet> fetchJwks(URI uri) {
    return get(uri, MAX_JWKS_BYTES).thenApply(this::parseJwks);
  }

  private KeySet parseJwks(byte[] body) {
    JsonNode doc;
    try {
      doc = BoundedJson.readObject(body, "the JWKS");
    } catch (BoundedJson.InvalidJson e) {
      throw unavailable(e.getMessage());
    }
    JsonNode list = doc.get("keys");
    if (list == null || !list.isArray()) {
      throw unavailable("the JWKS has no keys array");
    }
    if (list.size() > MAX_KEYS) {
      throw unavailable("the JWKS has more than " + MAX_KEYS + " keys");
    }
    List<VerificationKey> usable = new ArrayList<>();
    int skipped = 0;
    for (JsonNode entry : list) {
      Optional<VerificationKey> key = Optional.empty();
      try {
        key = VerificationKey.of(JWK.parse(entry.toString()), settings.allowedAlgorithms());
      } catch (ParseException e) {
        // A key of a type or shape we cannot read is not one we can verify with; skip it.
      }
      key.ifPresent(usable::add);
      skipped += key.isEmpty() ? 1 : 0;
    }
    if (skipped > 0) {
      LOG.debug("OIDC provider {}: {} JWKS keys skipped as unusable", settings.name(), skipped);
    }
    return new KeySet(List.copyOf(usable), clock.instant());
  }

  private CompletableFuture<byte[]> get(URI uri, int maxBytes) {
    HttpRequest request =
        HttpRequest.newBuilder(uri)
            .timeout(settings.httpTimeout())
            .header("Accept", "application/json")
            .GET()
            .build();
    return http.sendAsync(
            request,
            info ->
                info.statusCode() == 200
                    ? new LimitedBody(maxBytes)
                    : HttpResponse.BodySubscribers.replacing(new byte[0]))
        // The request timeout covers the response headers; this also bounds a trickled body.
        .orTimeout(settings.httpTimeout().toMillis() * 2, TimeUnit.MILLISECONDS)
        .handleAsync(
            (response, failure) -> {
              if (failure != null) {
                Throwable cause = failure instanceof CompletionException c ? c.getCause() : failure;
                throw unavailable(
                    "cannot fetch "
                        + uri
                        + ": "
                        + cause.getClass().getSimpleName()
                        + (cause instanceof IOException && cause.getMessage() != null
                            ? " (" + printable(cause.getMessage()) + ")"
                            : ""));
              }
              if (response.statusCode() != 200) {
                throw unavailable(uri + " answered HTTP " + response.statusCode());
              }
              return response.body();
            },
            executor);
  }

  private CompletionException unavailable(String detail) {
    return new CompletionException(
        new AuthenticationFailure(
            Reason.PROVIDER_UNAVAILABLE, "identity provider " + settings.name() + ": " + detail));
  }

  private static String printable(String s) {
    String cut = s.length() > 200 ? s.substring(0, 200) + "..." : s;
    return cut.replaceAll("\\p{Cntrl}", "?");
  }

  /** Collects a response body up to a limit, cancelling the download beyond it. */
  private static final class LimitedBody implements HttpResponse.BodySubscriber<byte[]> {
    private final int max;
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final CompletableFuture<byte[]> result = new CompletableFuture<>();
    private Flow.Subscription subscription;

    LimitedBody(int max) {
      this.max = max;
    }

    @Override
    public CompletionStage<byte[]> getBody() {
      return result;
    }

    @Override
    public void onSubscribe(Flow.Subscription subscription) {
      this.subscription = subscription;
      subscription.request(Long.MAX_VALUE);
    }

    @Override
    public void onNext(List<ByteBuffer> items) {
      if (result.isDone()) {
        return;
      }
      for (ByteBuffer item : items) {
        if (out.size() + item.remaining() > max) {
          subscription.cancel();
          result.completeExceptionally(new IOException("response larger than " + max + " bytes"));
          return;
        }
        byte[] bytes = new byte[item.remaining()];
        item.get(bytes);
        out.writeBytes(bytes);
      }
    }

    @Override
    public void onError(Throwable throwable) {
      result.completeExceptionally(throwable);
    }

    @Override
    public void onComplete() {
      result.complete(out.toByteArray());
    }
  }
}
