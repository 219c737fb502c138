package dev.warden.server.api;

import dev.warden.core.audit.AuditEvent;
import dev.warden.core.audit.AuditTrail;
import dev.warden.core.audit.Durability;
import dev.warden.core.identity.Identity;
import dev.warden.core.identity.LocalUser;
import dev.warden.core.identity.ScramAccount;
import dev.warden.core.identity.UserDirectory;
import io.javalin.http.Context;
import io.javalin.http.Cookie;
import io.javalin.http.SameSite;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Iterator;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Signed-in web console sessions: a random id in an {@code HttpOnly} cookie, kept in memory (a
 * restart signs everyone out), ending after {@link #IDLE} without use or {@link #ABSOLUTE} after
 * sign-in, whichever comes first. Each session has its own CSRF token, which every request that
 * changes something must echo in a header.
 *
 * <p>A local user's session holds the user's name, not a copy of the user: each use looks the user
 * up again, so a removed user is signed out and changed groups take effect at once. A person signed
 * in through the identity provider has the identity its ID token proved, until that token expires
 * (or the session's own limits end it first).
 */
final class ConsoleSessions {
  private static final Logger LOG = LoggerFactory.getLogger(ConsoleSessions.class);

  /** The session cookie's name. */
  static final String COOKIE = "warden_session";

  /** The header that carries the CSRF token. */
  static final String CSRF_HEADER = "X-CSRF-Token";

  static final Duration IDLE = Duration.ofMinutes(30);
  static final Duration ABSOLUTE = Duration.ofHours(12);

  /**
   * Sessions kept at most; beyond it the oldest are ended (a flood of sign-ins cannot fill memory).
   */
  static final int MAX_SESSIONS = 10_000;

  /** One signed-in session. */
  static final class Session {
    final String id;
    final String user;
    final String csrf;
    final Instant created;
    volatile Instant lastUsed;

    /** For a sign-in through the identity provider: who, and until when; null for a local user. */
    final Identity external;

    final Instant externalUntil;

    Session(String id, String user, String csrf, Instant created) {
      this(id, user, csrf, created, null, null);
    }

    Session(
        String id,
        String user,
        String csrf,
        Instant created,
        Identity external,
        Instant externalUntil) {
      this.id = id;
      this.user = user;
      this.csrf = csrf;
      this.created = created;
      this.lastUsed = created;
      this.external = external;
      this.externalUntil = externalUntil;
    }

    /** Whether {@code token} is this session's CSRF token (compared in constant time). */
    boolean csrfMatches(String token) {
      return token != null
          && MessageDigest.isEqual(
              token.getBytes(java.nio.charset.StandardCharsets.US_ASCII),
              csrf.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    }
  }

  private final Map<String, Session> sessions = new ConcurrentHashMap<>();
  private final UserDirectory users;
  private final Clock clock;
  private final SecureRandom random;

  ConsoleSessions(UserDirectory users, Clock clock, SecureRandom random) {
    this.users = Objects.requireNonNull(users, "users");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.random = Objects.requireNonNull(random, "random");
  }

  /** Signs the local user {@code user} in: a new session with fresh id and CSRF token. */
  Session create(String user) {
    prune();
    Session s = new Session(token(), user, token(), clock.instant());
    sessions.put(s.id, s);
    return s;
  }

  /**
   * Signs in {@code identity}, proved by the identity provider until {@code until}: a new session
   * that ends then at the latest.
   */
  Session createExternal(Identity identity, Instant until) {
    prune();
    Session s = new Session(token(), identity.name(), token(), clock.instant(), identity, until);
    sessions.put(s.id, s);
    return s;
  }

  /**
   * The live session with this cookie value and its user as the directory has them now (or, for a
   * sign-in through the identity provider, as its token proved it); empty for an unknown, expired
   * or signed-out session, or a local user who no longer exists.
   */
  Optional<Signed> find(String cookie) {
    if (cookie == null || cookie.length() != 43) {
      return Optional.empty();
    }
    Session s = sessions.get(cookie);
    if (s == null) {
      return Optional.empty();
    }
    Instant now = clock.instant();
    if (expired(s, now)) {
      sessions.remove(s.id, s);
      return Optional.empty();
    }
    if (s.external != null) {
      s.lastUsed = now;
      return Optional.of(new Signed(s, s.external));
    }
    Optional<LocalUser> user = users.find(s.user);
    if (user.isEmpty()) {
      sessions.remove(s.id, s);
      return Optional.empty();
    }
    s.lastUsed = now;
    return Optional.of(new Signed(s, ScramAccount.of(user.get()).identity()));
  }

  /** A session and who it belongs to. */
  record Signed(Session session, Identity user) {}

  /** Signs the session out. */
  void end(String id) {
    sessions.remove(id);
  }

  int size() {
    return sessions.size();
  }

  private boolean expired(Session s, Instant now) {
    return now.isAfter(s.lastUsed.plus(IDLE))
        || now.isAfter(s.created.plus(ABSOLUTE))
        || (s.externalUntil != null && !now.isBefore(s.externalUntil));
  }

  private void prune() {
    Instant now = clock.instant();
    sessions.values().removeIf(s -> expired(s, now));
    if (sessions.size() < MAX_SESSIONS) {
      return;
    }
    // Still full of live sessions: end the least recently used ones.
    Session oldest = null;
    while (sessions.size() >= MAX_SESSIONS) {
      for (Iterator<Session> it = sessions.values().iterator(); it.hasNext(); ) {
        Session s = it.next();
        if (oldest == null || s.lastUsed.isBefore(oldest.lastUsed)) {
          oldest = s;
        }
      }
      if (oldest == null) {
        return;
      }
      sessions.remove(oldest.id);
      oldest = null;
    }
  }

  /**
   * Gives the browser {@code session}'s cookie: {@code HttpOnly}, {@code SameSite=Lax}, for the
   * whole console, and {@code Secure} over HTTPS.
   */
  static void setCookie(Context ctx, Session session) {
    Cookie cookie = new Cookie(COOKIE, session.id);
    cookie.setHttpOnly(true);
    cookie.setSameSite(SameSite.LAX);
    cookie.setPath("/");
    cookie.setSecure("https".equalsIgnoreCase(ctx.scheme()));
    ctx.cookie(cookie);
  }

  /**
   * Records a sign-in to the console as an {@code authenticate} event by {@code user} (empty when
   * none is known) with {@code details}, without waiting for it: a refused sign-in must not be able
   * to make Warden wait for a disk.
   */
  static void recordSignIn(
      AuditTrail trail, Clock clock, String user, boolean success, Map<String, String> details) {
    trail
        .append(
            new AuditEvent(
                clock.instant(), "authenticate", success, user, Optional.empty(), details),
            Durability.BOUNDED)
        .exceptionally(
            e -> {
              LOG.warn("console: a sign-in could not be recorded: {}", e.getMessage());
              return null;
            });
  }

  /** 256 random bits, base64url without padding (43 characters). */
  private String token() {
    byte[] bytes = new byte[32];
    random.nextBytes(bytes);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }
}
