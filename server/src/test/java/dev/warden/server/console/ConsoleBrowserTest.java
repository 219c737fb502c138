package dev.warden.server.console;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.warden.core.approval.ApprovalRequest;
import dev.warden.server.TestWarden;
import dev.warden.server.WardenServer;
import dev.warden.server.config.WardenConfig;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

/**
 * The console in a real browser (Debian's headless Chromium): a reviewer follows the link a
 * notification gives for a statement Warden refused, signs in, approves it, and the statement then
 * runs once through the proxy; markup in a request is shown as text. Screenshots of each page go to
 * {@code <build dir>/console-screenshots}.
 */
class ConsoleBrowserTest {
  private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
  private static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
  private static final Pattern REQUEST = Pattern.compile("apr_[a-z2-7]{12}");
  private static final SecureRandom RANDOM = new SecureRandom();

  private static ChromeDriverService service;
  private static ChromeDriver browser;

  @TempDir Path dir;
  private WardenServer server;
  private String database;

  @BeforeAll
  static void startBrowser() throws Exception {
    if (!Files.isExecutable(CHROMIUM) || !Files.isExecutable(CHROMEDRIVER)) {
      fail(
          "the console's browser tests need Debian's chromium and chromium-driver"
              + " (./warden test installs them: apt-get install chromium chromium-driver)");
    }
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
        "--window-size=1280,900",
        "--user-data-dir=" + Files.createTempDirectory("warden-chromium"));
    browser = new ChromeDriver(service, options);
  }

  @AfterAll
  static void stopBrowser() {
    if (browser != null) {
      browser.quit();
    }
    if (service != null) {
      service.stop();
    }
  }

  @BeforeEach
  void start() throws Exception {
    database = "warden_t_console_" + Long.toHexString(RANDOM.nextLong() >>> 1);
    admin("CREATE DATABASE " + database);
    sql("CREATE TABLE items (id int PRIMARY KEY, name text)");
    sql("INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 20) g");
    Files.writeString(
        dir.resolve("policy.yaml"),
        """
        default: allow
        rules:
          - name: guarded-deletes
            when: "statement.command == 'DELETE'"
            action: require_approval
            message: deletes need a second pair of eyes
            approval:
              approvers: [approvers]
        """);
    WardenConfig config =
        TestWarden.config(dir.resolve("data")).withPolicy(dir.resolve("policy.yaml"));
    server = WardenServer.start(config, Clock.systemUTC(), RANDOM);
    addUser("alice", "alice-pw", "dev");
    addUser("bob", "bob-pw", "approvers");
    browser.manage().deleteAllCookies();
  }

  @AfterEach
  void stop() {
    if (server != null) {
      server.close();
    }
    admin("DROP DATABASE IF EXISTS " + database + " WITH (FORCE)");
  }

  @Test
  void aReviewerFollowsTheLinkSignsInApprovesAndTheStatementRunsOnce() throws Exception {
    String delete =
        "DELETE FROM items WHERE id > 15 /* reason: <script>window.pwned=1</script>"
            + "<img src=x onerror=\"window.pwned=2\"> tidy up */";
    try (Connection alice = connect("alice", "alice-pw");
        Statement s = alice.createStatement()) {
      String id = refusal(() -> s.execute(delete));
      assertThat(count("id > 15")).isEqualTo(5);

      // The link a notification carries; not signed in, so the sign-in page comes first.
      browser.get(console() + "/approvals/" + id + "?decision=approve");
      await(() -> browser.getCurrentUrl().contains("/login"), "the sign-in page");
      screenshot("01-sign-in");
      browser.findElement(By.id("user")).sendKeys("bob");
      browser.findElement(By.id("password")).sendKeys("wrong");
      browser.findElement(By.id("sign-in-button")).click();
      await(() -> text().contains("wrong user name or password"), "the refusal");
      browser.findElement(By.id("password")).sendKeys("bob-pw");
      browser.findElement(By.id("sign-in-button")).click();

      // Back on the request's page, with the statement and the requester's reason shown as text.
      await(() -> !browser.findElements(By.id("approve")).isEmpty(), "the request page");
      assertThat(browser.getCurrentUrl()).endsWith("/approvals/" + id + "?decision=approve");
      assertThat(browser.findElement(By.id("statement")).getText()).contains("DELETE FROM items");
      assertThat(text())
          .contains("alice")
          .contains("guarded-deletes")
          .contains("Rows it would change")
          .doesNotContain("null")
          .doesNotContain("undefined");
      assertThat(text()).contains("<script>window.pwned=1</script>").contains("onerror=");
      assertThat(browser.findElements(By.cssSelector("main script, main img"))).isEmpty();
      assertThat(((JavascriptExecutor) browser).executeScript("return window.pwned === undefined"))
          .isEqualTo(true);
      assertThat(browser.findElement(By.id("approve")).getAttribute("class")).contains("suggested");
      screenshot("02-request");

      // The inbox lists it.
      browser.get(console() + "/approvals");
      await(
          () -> !browser.findElements(By.cssSelector("tr[data-id='" + id + "']")).isEmpty(),
          "the request in the inbox");
      screenshot("03-inbox");

      // Approve from its page.
      browser.findElement(By.linkText(id)).click();
      await(() -> !browser.findElements(By.id("approve")).isEmpty(), "the request page");
      browser.findElement(By.id("comment")).sendKeys("checked with alice");
      browser.findElement(By.id("approve")).click();
      await(() -> text().contains("is now approved"), "the approval");
      screenshot("04-approved");
      ApprovalRequest approved = server.approvals().find(id).orElseThrow();
      assertThat(approved.status()).isEqualTo(ApprovalRequest.Status.APPROVED);
      assertThat(approved.reviews().getFirst().reviewer()).isEqualTo("bob");
      assertThat(approved.reviews().getFirst().comment()).isEqualTo("checked with alice");
      assertThat(count("id > 15")).isEqualTo(5);

      // The very same statement now runs, once.
      s.execute(delete);
      assertThat(count("id > 15")).isZero();
      assertThat(server.approvals().find(id).orElseThrow().status())
          .isEqualTo(ApprovalRequest.Status.USED);
      browser.navigate().refresh();
      await(() -> text().contains("used"), "the used request");
      assertThat(browser.findElements(By.id("approve"))).isEmpty();
    }
  }

  @Test
  void theRequesterSeesTheirRequestButCannotApproveIt() throws Exception {
    try (Connection alice = connect("alice", "alice-pw");
        Statement s = alice.createStatement()) {
      String id = refusal(() -> s.execute("DELETE FROM items WHERE id = 1 OR id = 2"));
      browser.get(console() + "/login?next=/approvals/" + id);
      browser.findElement(By.id("user")).sendKeys("alice");
      browser.findElement(By.id("password")).sendKeys("alice-pw");
      browser.findElement(By.id("sign-in-button")).click();
      await(() -> !browser.findElements(By.id("approve")).isEmpty(), "the request page");
      browser.findElement(By.id("approve")).click();
      await(() -> text().contains("cannot review it"), "the refusal of self-approval");
      screenshot("05-self-approval-refused");
      assertThat(server.approvals().find(id).orElseThrow().status())
          .isEqualTo(ApprovalRequest.Status.PENDING);
      assertThat(count("id IN (1, 2)")).isEqualTo(2);
    }
  }

  @Test
  void aSignInPageNeverSendsTheReviewerToAnotherSite() {
    browser.get(console() + "/login?next=//evil.example/x");
    browser.findElement(By.id("user")).sendKeys("bob");
    browser.findElement(By.id("password")).sendKeys("bob-pw");
    browser.findElement(By.id("sign-in-button")).click();
    await(() -> browser.getCurrentUrl().startsWith(console() + "/approvals"), "the inbox");
    assertThat(browser.getCurrentUrl()).doesNotContain("evil");
  }

  // ---- helpers --------------------------------------------------------------------------------

  private String console() {
    return "http://127.0.0.1:" + server.apiAddress().getPort();
  }

  private String text() {
    List<WebElement> main = browser.findElements(By.tagName("main"));
    return main.isEmpty() ? "" : main.getFirst().getText();
  }

  private static void await(BooleanSupplier condition, String what) {
    long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
    while (System.nanoTime() < deadline) {
      try {
        if (condition.getAsBoolean()) {
          return;
        }
      } catch (RuntimeException e) {
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
        "the browser did not show " + what + " in 15 s; it shows " + browser.getCurrentUrl());
  }

  private static void screenshot(String name) throws Exception {
    Path classes =
        Path.of(
            ConsoleBrowserTest.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    Path out = classes.getParent().resolve("console-screenshots");
    Files.createDirectories(out);
    File shot = browser.getScreenshotAs(OutputType.FILE);
    Files.copy(
        shot.toPath(),
        out.resolve(name + ".png"),
        java.nio.file.StandardCopyOption.REPLACE_EXISTING);
  }

  @FunctionalInterface
  interface Run {
    void run() throws SQLException;
  }

  private static String refusal(Run run) {
    try {
      run.run();
    } catch (SQLException e) {
      assertThat(e.getSQLState()).isEqualTo("42501");
      Matcher m = REQUEST.matcher(e.getMessage());
      assertThat(m.find()).as(e.getMessage()).isTrue();
      return m.group();
    }
    throw new AssertionError("the statement was not refused");
  }

  private void addUser(String name, String password, String... groups) {
    TestWarden.addUser(server, RANDOM, name, password, groups);
  }

  private Connection connect(String user, String password) throws SQLException {
    Properties p = new Properties();
    p.setProperty("user", user);
    p.setProperty("password", password);
    p.setProperty("sslmode", "disable");
    p.setProperty("preferQueryMode", "simple");
    return DriverManager.getConnection(
        "jdbc:postgresql://127.0.0.1:" + server.address().getPort() + "/" + database, p);
  }

  private Connection direct() throws SQLException {
    Properties p = new Properties();
    p.setProperty("user", "postgres");
    return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:5432/" + database, p);
  }

  private void sql(String statement) throws SQLException {
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

  private int count(String where) throws SQLException {
    try (Connection c = direct();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT count(*) FROM items WHERE " + where)) {
      rs.next();
      return rs.getInt(1);
    }
  }
}
