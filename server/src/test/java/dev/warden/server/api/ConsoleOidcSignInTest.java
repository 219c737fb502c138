package dev.warden.server.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.warden.proxy.postgres.LoginSettings;
import dev.warden.server.TestWarden;
import dev.warden.server.WardenServer;
import dev.warden.server.config.IdentityConfig;
import dev.warden.server.config.WardenConfig;
import dev.warden.server.identity.oidc.OidcProviderSettings;
import dev.warden.testkit.oidc.MockIdentityProvider;
import dev.warden.testkit.oidc.MockUser;
import java.net.URI;
import java.net.URLDecoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Signing in to the console through an OpenID provider (the in-test provider over loopback), as a
 * browser would, redirect by redirect: the person comes back signed in with the groups their token
 * carries, on the page they asked for; a replayed or forged answer, an answer to another browser, a
 * refusal at the provider and a return address on another site all fail safe.
 */
class ConsoleOidcSignInTest {
  @TempDir static Path dir;

  private static MockIdentityProvider idp;
  private static WardenServer server;
  private static final HttpClient HTTP =
      HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build();

  @BeforeAll
  static void start() throws Exception {
    idp = MockIdentityProvider.start();
    idp.addUser(new MockUser("u-1", "alice@corp.example", "alice", List.of("auditors")));
    WardenConfig config =
        TestWarden.config(dir.resolve("data"))
            .withIdentity(
                new IdentityConfig(
                    List.of(
                        OidcProviderSettings.builder("corp", idp.issuer(), List.of("warden-cli"))
                            .clientId("warden-cli")
                            .build()),
                    LoginSettings.AtExpiry.WHEN_IDLE,
                    Duration.ofMinutes(5)));
    server = WardenServer.start(config, Clock.systemUTC(), new SecureRandom());
  }

  @AfterAll
  static void stop() throws Exception {
    if (server != null) {
      server.close();
    }
    if (idp != null) {
      idp.close();
    }
  }

  private static String console() {
    return TestWarden.console(server);
  }

  private static HttpResponse<String> get(String url, String cookie) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30));
    if (cookie != null) {
      b.header("Cookie", cookie);
    }
    return HTTP.send(b.GET().build(), HttpResponse.BodyHandlers.ofString());
  }

  private static String location(HttpResponse<?> r) {
    assertThat(r.statusCode()).as(String.valueOf(r.headers().map())).isIn(302, 303);
    String l = r.headers().firstValue("Location").orElseThrow();
    return l.startsWith("/") ? console() + l : l;
  }

  private static String cookie(HttpResponse<?> r, String name) {
    for (String set : r.headers().allValues("Set-Cookie")) {
      if (set.startsWith(name + "=")) {
        return set.substring(0, set.indexOf(';'));
      }
    }
    throw new AssertionError("no " + name + " cookie in " + r.headers().allValues("Set-Cookie"));
  }

  /** A sign-in up to the provider's answer: the callback URL and the state cookie. */
  private record Started(String callback, String stateCookie) {}

  private static Started startSignIn(String returnTo) throws Exception {
    HttpResponse<String> start =
        get(
            console()
                + "/login/oidc/corp?return="
                + java.net.URLEncoder.encode(returnTo, StandardCharsets.UTF_8),
            null);
    String authorize = location(start);
    assertThat(authorize).startsWith(idp.authorizationEndpoint().toString());
    assertThat(authorize).contains("code_challenge_method=S256").contains("nonce=");
    String stateCookie = cookie(start, ConsoleOidcRoutes.STATE_COOKIE);
    String callback = location(get(authorize, null));
    assertThat(callback).startsWith(console() + ConsoleOidcRoutes.CALLBACK);
    return new Started(callback, stateCookie);
  }

  @Test
  void aPersonSignsInThroughTheProviderAndLandsOnThePageTheyAskedFor() throws Exception {
    assertThat(get(console() + "/api/session/providers", null).body())
        .contains("\"name\":\"corp\"")
        .contains("/login/oidc/corp");
    idp.signIn("u-1");
    Started s = startSignIn("/audit?q=user:alice");
    HttpResponse<String> back = get(s.callback(), s.stateCookie());
    assertThat(location(back)).isEqualTo(console() + "/audit?q=user:alice");
    String session = cookie(back, ConsoleSessions.COOKIE);

    String me = get(console() + "/api/session", session).body();
    assertThat(me).contains("\"user\":\"alice@corp.example\"").contains("\"auditor\"");
    assertThat(get(console() + "/api/audit?q=event:authenticate", session).body())
        .contains("\"oidc\"")
        .contains("alice@corp.example");

    // The same answer again is refused: a state is used once.
    HttpResponse<String> replay = get(s.callback(), s.stateCookie());
    assertThat(location(replay)).contains("/login?error=");
    assertThat(replay.headers().allValues("Set-Cookie"))
        .noneMatch(c -> c.startsWith(ConsoleSessions.COOKIE + "=") && c.length() > 60);
  }

  @Test
  void anAnswerReachingAnotherBrowserOrWithAForgedStateSignsNobodyIn() throws Exception {
    idp.signIn("u-1");
    Started s = startSignIn("/");
    HttpResponse<String> otherBrowser = get(s.callback(), null);
    assertThat(URLDecoder.decode(location(otherBrowser), StandardCharsets.UTF_8))
        .contains("unknown, expired or was already used");
    Started t = startSignIn("/");
    String forged = t.callback().replaceFirst("state=[^&]+", "state=forged");
    assertThat(location(get(forged, t.stateCookie()))).contains("/login?error=");
    // and the real one is still usable once
    assertThat(location(get(t.callback(), t.stateCookie()))).isEqualTo(console() + "/");
  }

  @Test
  void aRefusalAtTheProviderIsShownOnTheSignInPage() throws Exception {
    idp.signOut();
    try {
      Started s = startSignIn("/overview");
      String page =
          URLDecoder.decode(location(get(s.callback(), s.stateCookie())), StandardCharsets.UTF_8);
      assertThat(page).contains("/login?error=").contains("refused the sign-in: login_required");
    } finally {
      idp.signIn("u-1");
    }
  }

  @Test
  void theReturnAddressNeverLeadsToAnotherSite() throws Exception {
    idp.signIn("u-1");
    for (String evil :
        List.of("//evil.example/x", "https://evil.example", "/\\evil.example", "x")) {
      Started s = startSignIn(evil);
      assertThat(location(get(s.callback(), s.stateCookie()))).as(evil).isEqualTo(console() + "/");
    }
    assertThat(ConsoleOidcRoutes.returnTo("/sessions/abc?x=1")).isEqualTo("/sessions/abc?x=1");
    assertThat(ConsoleOidcRoutes.returnTo("/login?next=x")).isEqualTo("/");
  }

  @Test
  void anUnknownProviderIsNotFound() throws Exception {
    HttpResponse<String> r = get(console() + "/login/oidc/nobody", null);
    assertThat(r.statusCode()).isEqualTo(404);
    Matcher m = Pattern.compile("no identity provider named nobody").matcher(r.body());
    assertThat(m.find()).isTrue();
  }
}
