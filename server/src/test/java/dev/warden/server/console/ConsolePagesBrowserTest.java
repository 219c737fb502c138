package dev.warden.server.console;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import dev.warden.proxy.postgres.LoginSettings;
import dev.warden.server.TestWarden;
import dev.warden.server.WardenServer;
import dev.warden.server.config.AuditConfig;
import dev.warden.server.config.IdentityConfig;
import dev.warden.server.config.WardenConfig;
import dev.warden.server.identity.oidc.OidcProviderSettings;
import dev.warden.testkit.oidc.MockIdentityProvider;
import dev.warden.testkit.oidc.MockUser;
import java.io.File;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.Keys;
import org.openqa.selenium.NoAlertPresentException;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

/**
 * The console's pages in a real browser (Debian's headless Chromium at a laptop's 1366x768), with
 * one Warden and one PostgreSQL database for the class: navigation by role, the audit page
 * following the trail live as statements run through the proxy with pgjdbc, statements and values
 * holding markup shown as text on the audit and session pages, the overview, live sessions with an
 * administrator ending one, the data map with a masked column, and the policy with its simulator.
 * Screenshots of each page go to {@code <build dir>/console-screenshots}.
 *
 * <p>Which endpoints each test needs: the page routes, navigation and audit tests only the audit
 * API ({@code /api/audit}, {@code /api/audit/tail}, {@code /api/audit/export}); the markup test
 * also {@code /api/sessions} for its last step; a user's pages {@code /api/sessions} and {@code
 * /api/policy/simulate}; the overview test {@code /api/overview} (and {@code /api/environments});
 * the sessions test {@code /api/sessions}, {@code /api/sessions/{id}} and its terminate; the data
 * map test {@code /api/datamap}; the policy test {@code /api/policy}, {@code /api/policy/simulate}
 * and {@code /api/policy/validate}.
 */
class ConsolePagesBrowserTest {
  private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
  private static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
  private static final SecureRandom RANDOM = new SecureRandom();

  /** A value in the database that is markup, with a script that would say it ran. */
  private static final String MARKUP_VALUE =
      "<img src=x onerror=\"window.pwned=3;alert(3)\"><b>bold</b> & <i>more</i>";

  /** Installed before every page's own script: an alert only leaves a mark. */
  private static final String ALERT_TRAP =
      "window.alert = function () { window.alerted = true; };"
          + " window.confirm = window.alert; window.prompt = window.alert;";

  @TempDir static Path dir;
  private static ChromeDriverService service;
  private static ChromeDriver browser;
  private static WardenServer server;
  private static String database;
  private static MockIdentityProvider idp;

  @BeforeAll
  static void start() throws Exception {
    if (!Files.isExecutable(CHROMIUM) || !Files.isExecutable(CHROMEDRIVER)) {
      fail(
          "the console's browser tests need Debian's chromium and chromium-driver"
              + " (./warden test installs them: apt-get install chromium chromium-driver)");
    }
    database = "warden_t_pages_" + Long.toHexString(RANDOM.nextLong() >>> 1);
    admin("CREATE DATABASE " + database);
    sql(
        "CREATE TABLE items (id int PRIMARY KEY, name text);"
            + " INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 20) g;"
            + " CREATE TABLE customers (id int PRIMARY KEY, email text NOT NULL, city text);"
            + " INSERT INTO customers SELECT g, 'customer' || g || '@example.com', 'Lisbon'"
            + " FROM generate_series(1, 10) g;"
            + " CREATE TABLE notes (id int PRIMARY KEY, body text)");
    try (Connection c = direct();
        PreparedStatement ps = c.prepareStatement("INSERT INTO notes VALUES (1, ?)")) {
      ps.setString(1, MARKUP_VALUE);
      ps.executeUpdate();
    }
    Files.writeString(
        dir.resolve("policy.yaml"),
        """
        default: allow
        rules:
          - name: no-drops
            when: "statement.command == 'DROP TABLE'"
            action: deny
            message: tables are not dropped here
        masking:
          exempt:
            - group: dba
          columns:
            - column: public.items.name
              kind: person_name
        """);
    idp = MockIdentityProvider.start();
    idp.addUser(new MockUser("u-1", "carol@corp.example", "carol", List.of("auditors")));
    idp.signIn("u-1");
    AuditConfig audit =
        new AuditConfig(
            false,
            AuditConfig.DEFAULT_BOUNDED_WINDOW,
            Optional.empty(),
            new AuditConfig.Store.Embedded(),
            Optional.empty(),
            List.of(),
            true);
    WardenConfig config =
        TestWarden.config(dir.resolve("data"))
            .withPolicy(dir.resolve("policy.yaml"))
            .withAudit(audit)
            .withIdentity(
                new IdentityConfig(
                    List.of(
                        OidcProviderSettings.builder("corp", idp.issuer(), List.of("warden-cli"))
                            .clientId("warden-cli")
                            .build()),
                    LoginSettings.AtExpiry.WHEN_IDLE,
                    Duration.ofMinutes(5)));
    server = WardenServer.start(config, Clock.systemUTC(), RANDOM);
    addUser("alice", "alice-pw", "dev");
    addUser("dora", "dora-pw", "dba");
    addUser("audrey", "audrey-pw", "auditors");
    addUser("root", "root-pw", "admins");

    service =
        new ChromeDriverService.Builder()
            .usingDriverExecutable(CHROMEDRIVER.toFile())
            .usingAnyFreePort()
            .build();
    ChromeOptions options = new ChromeOptions();
    options.setBinary(CHROMIUM.toFile());
    options.addArguments(
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1366,768",
        "--user-data-dir=" + Files.createTempDirectory("warden-chromium"));
    browser = new ChromeDriver(service, options);
    browser.executeCdpCommand("Page.enable", Map.of());
    browser.executeCdpCommand(
        "Page.addScriptToEvaluateOnNewDocument", Map.of("source", ALERT_TRAP));
  }

  @AfterAll
  static void stop() {
    if (browser != null) {
      browser.quit();
    }
    if (service != null) {
      service.stop();
    }
    if (server != null) {
      server.close();
    }
    if (idp != null) {
      idp.close();
    }
    if (database != null) {
      admin("DROP DATABASE IF EXISTS " + database + " WITH (FORCE)");
    }
  }

  // ---- navigation -----------------------------------------------------------------------------

  @Test
  void theNavigationShowsThePagesEachRoleMayUseAndTheFirstPageFollowsTheRole() throws Exception {
    signIn("alice", "alice-pw", "/");
    await(() -> browser.getCurrentUrl().endsWith("/approvals"), "a user's first page, approvals");
    await(() -> !navigation().isEmpty(), "the navigation");
    assertThat(navigation()).containsExactly("Sessions", "Approvals", "Policy");
    screenshot("10-user-navigation");

    signIn("root", "root-pw", "/");
    await(() -> browser.getCurrentUrl().endsWith("/overview"), "an administrator's first page");
    await(() -> navigation().size() == 6, "the whole navigation");
    assertThat(navigation())
        .containsExactly("Overview", "Sessions", "Audit", "Approvals", "Data map", "Policy");
    assertThat(
            browser
                .findElement(By.cssSelector("nav a[aria-current=page]"))
                .getAttribute("textContent"))
        .isEqualTo("Overview");

    // A page deep-linked before signing in is where the sign-in leads.
    browser.manage().deleteAllCookies();
    browser.get(console() + "/audit?q=user:alice");
    await(() -> browser.getCurrentUrl().contains("/login?next="), "the sign-in page");
    browser.findElement(By.id("user")).sendKeys("audrey");
    browser.findElement(By.id("password")).sendKeys("audrey-pw");
    browser.findElement(By.id("sign-in-button")).click();
    await(() -> browser.getCurrentUrl().endsWith("/audit?q=user:alice"), "the deep link");
    await(
        () -> "user:alice".equals(browser.findElement(By.id("query")).getAttribute("value")),
        "the query from the link in the search box");
  }

  @Test
  void everyPageIsADeepLinkServedWithTheStrictPolicyAndTheFirstPageFollowsTheRole()
      throws Exception {
    HttpClient http = HttpClient.newHttpClient();
    for (String path :
        List.of(
            "/overview?environment=default",
            "/sessions",
            "/sessions/3ead30493ad67630",
            "/audit?q=user:alice",
            "/approvals",
            "/approvals/apr_abcdefghijkl",
            "/datamap?environment=default&filter=email",
            "/policy",
            "/login")) {
      HttpResponse<String> page =
          http.send(
              HttpRequest.newBuilder(URI.create(console() + path)).GET().build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(page.statusCode()).as(path).isEqualTo(200);
      assertThat(page.headers().firstValue("Content-Type").orElseThrow()).startsWith("text/html");
      assertThat(page.headers().firstValue("Content-Security-Policy").orElseThrow())
          .as(path)
          .startsWith("default-src 'none'; script-src 'self'; style-src 'self'")
          .doesNotContain("unsafe");
      assertThat(page.body()).doesNotContain("http://").doesNotContain("https://");
    }
    HttpResponse<String> script =
        http.send(
            HttpRequest.newBuilder(URI.create(console() + "/assets/console.js")).GET().build(),
            HttpResponse.BodyHandlers.ofString());
    // Nothing from elsewhere, and text from the API is never written as markup.
    assertThat(script.body())
        .doesNotContain("innerHTML")
        .doesNotContain("outerHTML")
        .doesNotContain("insertAdjacentHTML")
        .doesNotContain("document.write")
        .doesNotContain("eval(")
        .doesNotContain("https://")
        .doesNotContain("http://cdn");
    assertThat(firstPage(http, null)).isEqualTo("/login");
    assertThat(firstPage(http, "alice")).isEqualTo("/approvals");
    assertThat(firstPage(http, "audrey")).isEqualTo("/overview");
    assertThat(firstPage(http, "root")).isEqualTo("/overview");
  }

  /** Where "/" sends {@code user} (signed in with a cookie), or a stranger. */
  private static String firstPage(HttpClient http, String user) throws Exception {
    HttpRequest.Builder home = HttpRequest.newBuilder(URI.create(console() + "/")).GET();
    if (user != null) {
      HttpResponse<String> signIn =
          http.send(
              HttpRequest.newBuilder(URI.create(console() + "/api/session"))
                  .header("Content-Type", "application/json")
                  .POST(
                      HttpRequest.BodyPublishers.ofString(
                          "{\"user\": \"" + user + "\", \"password\": \"" + user + "-pw\"}"))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(signIn.statusCode()).isEqualTo(200);
      home.header("Cookie", signIn.headers().firstValue("Set-Cookie").orElseThrow().split(";")[0]);
    }
    HttpResponse<String> answer = http.send(home.build(), HttpResponse.BodyHandlers.ofString());
    assertThat(answer.statusCode()).isEqualTo(302);
    return answer.headers().firstValue("Location").orElseThrow();
  }

  @Test
  void aPersonSignsInThroughTheIdentityProviderAndComesBackToThePageTheyAskedFor()
      throws Exception {
    browser.manage().deleteAllCookies();
    browser.get(console() + "/audit?q=user:alice");
    await(
        () -> !browser.findElements(By.cssSelector("#providers a.provider")).isEmpty(),
        "the identity provider on the sign-in page");
    WebElement corp = browser.findElement(By.cssSelector("#providers a.provider"));
    assertThat(corp.getText()).isEqualTo("Sign in with corp");
    screenshot("20-sign-in-providers");
    corp.click();
    await(
        () -> browser.getCurrentUrl().equals(console() + "/audit?q=user:alice"),
        "the page asked for, after the provider");
    await(
        () -> text(By.id("who")).startsWith("carol@corp.example"), "the person from the provider");
    awaitLive();

    // A failed sign-in comes back saying why, as text.
    browser.manage().deleteAllCookies();
    browser.get(
        console()
            + "/login?error="
            + java.net.URLEncoder.encode(
                "<b onclick=alert(1)>the provider refused</b>",
                java.nio.charset.StandardCharsets.UTF_8));
    await(
        () -> text(By.id("sign-in")).contains("<b onclick=alert(1)>the provider refused</b>"),
        "the reason");
    assertThat(browser.findElements(By.cssSelector("main b"))).isEmpty();
  }

  // ---- audit ----------------------------------------------------------------------------------

  @Test
  void aStatementThroughTheProxyAppearsLiveOnTheAuditPageAndTheSearchExports() throws Exception {
    String marker = "live_" + Long.toHexString(RANDOM.nextLong() >>> 1);
    signIn("audrey", "audrey-pw", "/audit?q=user:alice");
    awaitLive();
    js("window.sameDocument = '" + marker + "'");

    try (Connection alice = connect("alice", "alice-pw", true);
        Statement s = alice.createStatement()) {
      s.executeQuery("SELECT count(*) FROM items WHERE name <> '" + marker + "'").close();
      await(() -> records().contains(marker), "the statement, live");
      WebElement row = rowHolding(marker);
      assertThat(row.getText()).contains("alice").contains("SELECT").contains("public.items");
      // The page was not reloaded: the marker set on it is still there.
      assertThat(js("return window.sameDocument")).isEqualTo(marker);
      // Its outcome replaces the intent's row: one row, with the rows the database returned.
      await(() -> rowHolding(marker).getText().contains("allowed"), "the verdict");
      await(() -> rowsHolding(marker) == 1 && cell(marker, 7).equals("1"), "the outcome's rows");
      await(
          () ->
              text(By.id("audit-summary"))
                  .startsWith(
                      browser.findElements(By.cssSelector("table.audit tr.record")).size()
                          + " record"),
          "the count of what is shown, live records included");
      screenshot("11-audit-live");

      // Paused, nothing arrives; resumed, the search shows what was missed and follows again.
      browser.findElement(By.id("live-toggle")).click();
      await(() -> "paused".equals(liveState()), "the paused state");
      s.executeQuery("SELECT count(*) FROM items WHERE name <> '" + marker + "-paused'").close();
      Thread.sleep(1500);
      assertThat(records()).doesNotContain(marker + "-paused");
      browser.findElement(By.id("live-toggle")).click();
      awaitLive();
      await(() -> records().contains(marker + "-paused"), "the missed statement after resuming");
      s.executeQuery("SELECT count(*) FROM items WHERE name <> '" + marker + "-again'").close();
      await(() -> records().contains(marker + "-again"), "a statement after resuming");
      assertThat(js("return window.sameDocument")).isEqualTo(marker);
    }

    // A denied statement, searched for by a new query typed in the box (and put in the URL).
    try (Connection alice = connect("alice", "alice-pw", true);
        Statement s = alice.createStatement()) {
      assertThatThrownBy(() -> s.execute("DROP TABLE items /* " + marker + " */"))
          .isInstanceOf(SQLException.class)
          .hasMessageContaining("tables are not dropped here");
    }
    WebElement box = browser.findElement(By.id("query"));
    box.clear();
    box.sendKeys("verdict:denied \"" + marker + "\"");
    box.sendKeys(Keys.ENTER);
    await(() -> records().contains("DROP TABLE items"), "the denied statement");
    assertThat(rowHolding(marker).getText()).contains("denied");
    assertThat(browser.getCurrentUrl()).contains("q=verdict:denied+");

    // The row opens into the whole record.
    rowHolding(marker).click();
    await(
        () -> browser.findElement(By.cssSelector("tr.detail pre")).getText().contains("no-drops"),
        "the whole record");

    // Export: the link downloads this search as JSON lines (fetched by the page, with its cookie).
    String href = browser.findElement(By.id("export")).getAttribute("href");
    assertThat(href).contains("/api/audit/export?q=verdict%3Adenied");
    @SuppressWarnings("unchecked")
    Map<String, Object> download =
        (Map<String, Object>)
            browser.executeAsyncScript(
                "const done = arguments[arguments.length - 1];"
                    + " fetch(arguments[0]).then(async r => done({status: r.status,"
                    + " type: r.headers.get('Content-Type'),"
                    + " disposition: r.headers.get('Content-Disposition'),"
                    + " body: await r.text()}));",
                href);
    assertThat(download.get("status")).isEqualTo(200L);
    assertThat((String) download.get("type")).startsWith("application/x-ndjson");
    assertThat((String) download.get("disposition")).startsWith("attachment; filename=");
    List<String> lines = ((String) download.get("body")).lines().toList();
    assertThat(lines).hasSize(1);
    assertThat(lines.getFirst()).contains("\"verdict\":\"denied\"").contains(marker);

    // A query Warden cannot read: its message, and no live view.
    box = browser.findElement(By.id("query"));
    box.clear();
    box.sendKeys("verdict:maybe");
    box.sendKeys(Keys.ENTER);
    await(
        () -> browser.findElement(By.id("audit-feedback")).getText().contains("expected verdict"),
        "the parser's message");
    assertThat(browser.findElements(By.id("live-state"))).isEmpty();
  }

  // ---- markup from statements and from the database --------------------------------------------

  @Test
  void statementsAndValuesHoldingMarkupAreShownAsTextOnTheAuditAndSessionPages() throws Exception {
    String statement =
        "SELECT id FROM notes WHERE body <> '<script>window.pwned=\"statement\";alert(1)</script>"
            + "<img src=x onerror=\"window.pwned=2;alert(2)\">'";
    signIn("audrey", "audrey-pw", "/audit?q=user:dora");
    awaitLive();
    String value;
    try (Connection dora = connect("dora", "dora-pw", false)) {
      // dora is exempt from masking, so she reads the value exactly as stored ...
      try (Statement s = dora.createStatement();
          ResultSet rs = s.executeQuery("SELECT body FROM notes WHERE id = 1")) {
        rs.next();
        value = rs.getString(1);
      }
      assertThat(value).isEqualTo(MARKUP_VALUE);
      // ... and uses it: in a statement's text, and as a bind parameter (recorded by this Warden).
      try (Statement s = dora.createStatement()) {
        s.executeQuery(statement).close();
        s.executeQuery("SELECT count(*) FROM notes WHERE body = '" + value + "'").close();
      }
      try (PreparedStatement ps =
          dora.prepareStatement("SELECT id FROM notes WHERE body = ? AND id > 0")) {
        ps.setString(1, value);
        ps.executeQuery().close();
      }
      await(() -> records().contains("AND id > 0"), "the statements, live");
      assertShownAsText(value);
      screenshot("12-markup-audit-live");

      // Searched (not followed) the same way.
      browser.navigate().refresh();
      await(() -> records().contains("AND id > 0"), "the statements, searched");
      assertShownAsText(value);
      assertThat(records()).contains("parameters: $1 = " + value);
      // And in the whole record.
      rowHolding("AND id > 0").click();
      await(
          () ->
              browser
                  .findElement(By.cssSelector("tr.detail pre"))
                  .getText()
                  .contains(value.replace("\"", "\\\"")),
          "the whole record");
      assertNothingRan();

      // The session's page lists them too.
      String session =
          rowHolding("AND id > 0")
              .findElement(By.cssSelector("a[href^='/sessions/']"))
              .getAttribute("textContent");
      browser.get(console() + "/sessions/" + session);
      await(() -> text(By.id("statements")).contains("AND id > 0"), "the session's statements");
      assertShownAsText(value);
      screenshot("13-markup-session");

      // The live sessions list shows the last statement, which holds the value, as text.
      try (Statement s = dora.createStatement()) {
        s.executeQuery("SELECT count(*) FROM notes WHERE body = '" + value + "'").close();
      }
      browser.get(console() + "/sessions");
      await(
          () -> text(By.cssSelector("#live tr[data-session='" + session + "']")).contains(value),
          "the last statement in the live list");
      assertNothingRan();
    }
  }

  private void assertShownAsText(String value) {
    String shown = text(By.tagName("main"));
    assertThat(shown)
        .contains("<script>window.pwned=\"statement\";alert(1)</script>")
        .contains("<img src=x onerror=\"window.pwned=2;alert(2)\">")
        .contains(value);
    assertNothingRan();
  }

  private void assertNothingRan() {
    assertThat(
            browser.findElements(
                By.cssSelector("main img, main script, main b, main i, main iframe")))
        .isEmpty();
    assertThat(js("return window.pwned === undefined && window.alerted === undefined"))
        .isEqualTo(true);
    try {
      browser.switchTo().alert();
      fail("an alert is open");
    } catch (NoAlertPresentException expected) {
      // no dialog: nothing ran
    }
  }

  // ---- a user's pages (GET /api/sessions, POST /api/policy/simulate) --------------------------

  @Test
  void aUserSeesOnlyTheirOwnSessionsAndSimulatesAsThemselves() throws Exception {
    try (Connection alice = connect("alice", "alice-pw", true);
        Connection dora = connect("dora", "dora-pw", true);
        Statement a = alice.createStatement();
        Statement d = dora.createStatement()) {
      a.executeQuery("SELECT 'alice was here'").close();
      d.executeQuery("SELECT 'dora was here'").close();
      signIn("alice", "alice-pw", "/sessions");
      await(() -> text(By.id("live-sessions")).contains("alice was here"), "her session");
      assertThat(text(By.id("live-sessions"))).doesNotContain("dora");
      assertThat(browser.findElements(By.cssSelector("button.terminate"))).isEmpty();
      assertThat(text(By.id("past-sessions"))).contains("auditors and administrators");
      screenshot("19-user-sessions");

      // A page the API refuses her shows the API's reason.
      browser.get(console() + "/audit?q=user:dora");
      await(
          () -> text(By.id("audit-feedback")).contains("may not read the audit trail"),
          "the API's refusal");
      assertThat(browser.findElements(By.cssSelector("table.audit tr.record"))).isEmpty();

      browser.get(console() + "/policy");
      await(() -> !browser.findElements(By.id("simulator")).isEmpty(), "the simulator");
      assertThat(browser.findElements(By.id("rules"))).isEmpty();
      assertThat(browser.findElement(By.id("sim-user")).isEnabled()).isFalse();
      assertThat(browser.findElement(By.id("sim-user")).getAttribute("value")).isEqualTo("alice");
      browser.findElement(By.id("sim-statement")).sendKeys("DROP TABLE items");
      browser.findElement(By.id("simulate")).click();
      await(() -> !browser.findElements(By.id("sim-verdict")).isEmpty(), "the verdict");
      assertThat(browser.findElement(By.id("sim-verdict")).getText()).isEqualTo("deny");
    }
  }

  // ---- overview (GET /api/overview) ------------------------------------------------------------

  @Test
  void theOverviewShowsWhoIsConnectedAndTheStatementsPerMinute() throws Exception {
    try (Connection alice = connect("alice", "alice-pw", true);
        Statement s = alice.createStatement()) {
      for (int i = 0; i < 5; i++) {
        s.executeQuery("SELECT name FROM items WHERE id = " + (i + 1)).close();
      }
      assertThatThrownBy(() -> s.execute("DROP TABLE items")).isInstanceOf(SQLException.class);
      signIn("root", "root-pw", "/overview?environment=default");
      await(
          () -> !browser.findElements(By.cssSelector("#overview .figures")).isEmpty(),
          "the overview");
      assertThat(browser.getCurrentUrl()).endsWith("/overview?environment=default");
      assertThat(text(By.id("connected"))).contains("alice");
      assertThat(browser.findElements(By.cssSelector("#minute-chart rect.bar"))).isNotEmpty();
      assertThat(browser.findElements(By.cssSelector("#minute-chart polyline"))).hasSize(2);
      assertThat(text(By.id("tables"))).contains("items");
      assertThat(text(By.tagName("main")))
          .contains("statements")
          .contains("denied")
          .contains("approvals waiting")
          .doesNotContain("undefined")
          .doesNotContain("NaN");
      screenshot("14-overview");
      js("document.getElementById('tables').scrollIntoView()");
      screenshot("14-overview-tables");
    }
  }

  // ---- sessions (GET /api/sessions, POST /api/sessions/{id}/terminate) ----------------------

  @Test
  void theSessionsPageListsLiveAndPastSessionsAndAnAdministratorEndsOne() throws Exception {
    String marker = "sess_" + Long.toHexString(RANDOM.nextLong() >>> 1);
    try (Connection alice = connect("alice", "alice-pw", true);
        Statement s = alice.createStatement()) {
      s.executeQuery("SELECT count(*) FROM items WHERE name <> '" + marker + "'").close();
      signIn("root", "root-pw", "/sessions");
      await(() -> text(By.id("live-sessions")).contains(marker), "alice's live session");
      WebElement row =
          browser.findElements(By.cssSelector("#live tr[data-session]")).stream()
              .filter(r -> r.getText().contains(marker))
              .findFirst()
              .orElseThrow();
      String id = row.getAttribute("data-session");
      assertThat(row.getText()).contains("alice").contains("default").contains(database);
      await(() -> text(By.id("past-sessions")).contains("alice"), "past sessions");
      screenshot("15-sessions");

      // Its page: the statements with their verdicts.
      browser.get(console() + "/sessions/" + id);
      await(() -> text(By.id("statements")).contains(marker), "the session's statements");
      assertThat(text(By.id("session-facts"))).contains("alice");
      assertThat(rowHolding(marker).getText()).contains("allowed");
      screenshot("16-session");

      // Ended by an administrator, with a reason the client is told.
      browser.findElement(By.cssSelector("button.terminate")).click();
      browser.findElement(By.cssSelector(".terminate-form button.deny")).click();
      await(() -> text(By.id("session-live")).contains("Give a reason"), "the reason being asked");
      browser
          .findElement(By.cssSelector(".terminate-form input.reason"))
          .sendKeys(marker + " ends");
      browser.findElement(By.cssSelector(".terminate-form button.deny")).click();
      await(() -> text(By.tagName("main")).contains("was ended"), "the session ended");
      SQLException ended =
          org.junit.jupiter.api.Assertions.assertThrows(
              SQLException.class, () -> s.executeQuery("SELECT 1").close());
      assertThat(ended.getSQLState()).isIn("57P01", "08006", "08003");
      browser.get(console() + "/sessions");
      await(() -> !text(By.tagName("main")).contains("Loading"), "the sessions page");
      await(
          () ->
              browser.findElements(By.cssSelector("#live tr[data-session='" + id + "']")).isEmpty(),
          "the ended session gone");
    }
  }

  // ---- data map (GET /api/datamap)
  // ---------------------------------------------------------------

  @Test
  void theDataMapShowsTheMaskedEmailColumn() throws Exception {
    try (Connection alice = connect("alice", "alice-pw", true);
        Statement s = alice.createStatement();
        ResultSet rs = s.executeQuery("SELECT email FROM customers WHERE id = 1")) {
      rs.next();
      assertThat(rs.getString(1)).isNotEqualTo("customer1@example.com");
    }
    signIn("audrey", "audrey-pw", "/datamap?environment=default");
    await(() -> !browser.findElements(By.cssSelector("tr.mapped")).isEmpty(), "the data map");
    WebElement filter = browser.findElement(By.id("filter"));
    filter.sendKeys("customers email");
    await(() -> browser.getCurrentUrl().contains("filter=customers"), "the filter in the URL");
    List<WebElement> shown =
        browser.findElements(By.cssSelector("tr.mapped")).stream()
            .filter(WebElement::isDisplayed)
            .toList();
    assertThat(shown).hasSize(1);
    assertThat(shown.getFirst().getAttribute("data-column")).isEqualTo("public.customers.email");
    assertThat(shown.getFirst().getText()).contains("email").contains("name");
    assertThat(text(By.tagName("main"))).contains(database);
    screenshot("17-datamap");

    // A column the policy marks is listed as its override.
    filter.clear();
    filter.sendKeys("override");
    await(
        () ->
            browser.findElements(By.cssSelector("tr.mapped")).stream()
                .filter(WebElement::isDisplayed)
                .map(r -> r.getAttribute("data-column"))
                .toList()
                .equals(List.of("public.items.name")),
        "the override alone");
    assertThat(text(By.cssSelector("tr.mapped[data-column='public.items.name']")))
        .contains("person_name")
        .contains("policy (an override)");
  }

  // ---- policy (GET /api/policy, POST /api/policy/simulate, /validate) ------------------------

  @Test
  void thePolicyPageShowsTheRulesAndSimulatesAStatement() throws Exception {
    signIn("root", "root-pw", "/policy");
    await(() -> !browser.findElements(By.id("rules")).isEmpty(), "the rules");
    assertThat(text(By.id("rules"))).contains("no-drops").contains("deny");
    assertThat(text(By.id("policy-text"))).contains("tables are not dropped here");

    browser.findElement(By.id("sim-statement")).sendKeys("DROP TABLE items");
    WebElement user = browser.findElement(By.id("sim-user"));
    user.clear();
    user.sendKeys("alice");
    WebElement groups = browser.findElement(By.id("sim-groups"));
    groups.clear();
    groups.sendKeys("dev");
    browser.findElement(By.id("simulate")).click();
    await(() -> !browser.findElements(By.id("sim-verdict")).isEmpty(), "the verdict");
    assertThat(browser.findElement(By.id("sim-verdict")).getText()).isEqualTo("deny");
    assertThat(text(By.id("sim-result"))).contains("no-drops").contains("tables are not dropped");
    screenshot("18-policy");

    WebElement yaml = browser.findElement(By.id("validate-text"));
    yaml.clear();
    yaml.sendKeys("default: allow\nrules:\n  - name: broken\n    action: explode\n");
    browser.findElement(By.id("validate")).click();
    await(() -> !browser.findElements(By.id("validate-errors")).isEmpty(), "the errors");
    assertThat(text(By.id("validate-errors"))).contains("line 4");
  }

  // ---- helpers --------------------------------------------------------------------------------

  private static String console() {
    return "http://127.0.0.1:" + server.apiAddress().getPort();
  }

  private static void signIn(String user, String password, String next) {
    browser.manage().deleteAllCookies();
    browser.get(
        console()
            + "/login?next="
            + java.net.URLEncoder.encode(next, java.nio.charset.StandardCharsets.UTF_8));
    browser.findElement(By.id("user")).sendKeys(user);
    browser.findElement(By.id("password")).sendKeys(password);
    browser.findElement(By.id("sign-in-button")).click();
    await(() -> !browser.getCurrentUrl().contains("/login"), "the page after signing in");
  }

  private static List<String> navigation() {
    return browser.findElements(By.cssSelector("header nav a")).stream()
        .map(a -> a.getAttribute("textContent"))
        .toList();
  }

  private static void awaitLive() {
    await(() -> "open".equals(liveState()), "the live view connected");
  }

  private static String liveState() {
    List<WebElement> state = browser.findElements(By.id("live-state"));
    return state.isEmpty() ? "" : state.getFirst().getAttribute("data-state");
  }

  private static String records() {
    return text(By.cssSelector("table.audit tbody"));
  }

  private static WebElement rowHolding(String text) {
    return browser.findElements(By.cssSelector("table.audit tr.record")).stream()
        .filter(r -> r.getText().contains(text))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no row holds " + text));
  }

  private static long rowsHolding(String text) {
    return browser.findElements(By.cssSelector("table.audit tr.record")).stream()
        .filter(r -> r.getText().contains(text))
        .count();
  }

  private static String cell(String rowText, int index) {
    return rowHolding(rowText).findElements(By.tagName("td")).get(index).getText();
  }

  private static String text(By by) {
    List<WebElement> found = browser.findElements(by);
    return found.isEmpty() ? "" : found.getFirst().getText();
  }

  private static Object js(String script) {
    return ((JavascriptExecutor) browser).executeScript(script);
  }

  private static void await(BooleanSupplier condition, String what) {
    long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
    while (System.nanoTime() < deadline) {
      try {
        if (condition.getAsBoolean()) {
          return;
        }
      } catch (RuntimeException | AssertionError e) {
        // The page is changing under us: ask again.
      }
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }
    throw new AssertionError(
        "the browser did not show "
            + what
            + " in 15 s; at "
            + browser.getCurrentUrl()
            + " it shows: "
            + text(By.tagName("main")));
  }

  private static void screenshot(String name) throws Exception {
    Path classes =
        Path.of(
            ConsolePagesBrowserTest.class
                .getProtectionDomain()
                .getCodeSource()
                .getLocation()
                .toURI());
    Path out = classes.getParent().resolve("console-screenshots");
    Files.createDirectories(out);
    File shot = browser.getScreenshotAs(OutputType.FILE);
    Files.copy(shot.toPath(), out.resolve(name + ".png"), StandardCopyOption.REPLACE_EXISTING);
  }

  private static void addUser(String name, String password, String... groups) {
    TestWarden.addUser(server, RANDOM, name, password, groups);
  }

  private static Connection connect(String user, String password, boolean simple)
      throws SQLException {
    Properties p = new Properties();
    p.setProperty("user", user);
    p.setProperty("password", password);
    p.setProperty("sslmode", "disable");
    p.setProperty("preferQueryMode", simple ? "simple" : "extended");
    return DriverManager.getConnection(
        "jdbc:postgresql://127.0.0.1:" + server.address().getPort() + "/" + database, p);
  }

  private static Connection direct() throws SQLException {
    Properties p = new Properties();
    p.setProperty("user", "postgres");
    return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:5432/" + database, p);
  }

  private static void sql(String statement) throws SQLException {
    try (Connection c = direct();
        Statement s = c.createStatement()) {
      s.execute(statement);
    }
  }

  private static void admin(String statement) {
    Properties p = new Properties();
    p.setProperty("user", "postgres");
    try (Connection c =
            DriverManager.getConnection("jdbc:postgresql://127.0.0.1:5432/postgres", p);
        Statement s = c.createStatement()) {
      s.execute(statement);
    } catch (SQLException e) {
      throw new IllegalStateException(statement, e);
    }
  }
}
