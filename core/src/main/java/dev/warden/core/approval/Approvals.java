package dev.warden.core.approval;

import dev.warden.core.approval.ApprovalException.Reason;
import dev.warden.core.approval.ApprovalRequest.Review;
import dev.warden.core.approval.ApprovalRequest.Status;
import dev.warden.core.environment.Environment;
import dev.warden.core.environment.Environments;
import dev.warden.core.environment.JustInTime;
import dev.warden.core.environment.RoleMapping;
import dev.warden.core.identity.Identity;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The rules of approving, the one service every channel (the proxy, the CLI, the REST API) goes
 * through: making a request, reviewing it (never by its requester, only by the requirement's
 * approver groups, each reviewer once, break-glass only with a justification), using an approval
 * once, cancelling, and expiry. The {@link ApprovalStore} only keeps requests; every change here is
 * a compare-and-set on it, so two reviewers, two sessions racing to use one approval, or the server
 * and the CLI in two processes, never both win.
 *
 * <p>Calls block on the store; keep them off event loops. Expiry is applied whenever a request is
 * touched and by {@link #expireDue()}; a request whose expiry has passed is never approved,
 * reviewed or used, whether or not it has been marked {@link Status#EXPIRED} yet.
 */
public final class Approvals implements AutoCloseable {
  /** What every request id starts with. */
  public static final String ID_PREFIX = "apr_";

  /** Random base32 characters after the prefix: 60 bits. */
  static final int ID_RANDOM_CHARS = 12;

  /** How often {@link #decided} looks for changes made by other processes (the CLI). */
  static final Duration POLL_INTERVAL = Duration.ofMillis(500);

  /** Longest reason or review comment, in characters. */
  public static final int MAX_TEXT = 2000;

  /** Shortest key {@link #binding} accepts, in bytes. */
  public static final int MIN_BINDING_KEY = 16;

  /** Compare-and-set attempts before a change is given up as {@link Reason#CONFLICT}. */
  private static final int MAX_TRIES = 5;

  private static final char[] BASE32 = "abcdefghijklmnopqrstuvwxyz234567".toCharArray();
  private static final byte[] BINDING_DOMAIN =
      "warden approval binding v1\0".getBytes(StandardCharsets.US_ASCII);
  private static final Logger log = LoggerFactory.getLogger(Approvals.class);

  private final ApprovalStore store;
  private final Clock clock;
  private final SecureRandom random;
  private final List<Consumer<ApprovalRequest>> listeners = new CopyOnWriteArrayList<>();

  /**
   * Serialises request() in this process, so one statement sent twice at once makes one request.
   */
  private final ReentrantLock creating = new ReentrantLock();

  /** Callers of decided(), by request id; guarded by itself. */
  private final Map<String, List<CompletableFuture<ApprovalRequest>>> waiters = new HashMap<>();

  private Thread poller;
  private boolean closed;

  /**
   * @param store where requests are kept
   * @param clock the time that decides expiry
   * @param random the source of request ids
   */
  public Approvals(ApprovalStore store, Clock clock, SecureRandom random) {
    this.store = Objects.requireNonNull(store, "store");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.random = Objects.requireNonNull(random, "random");
  }

  /**
   * What a new request is made of; the service adds its id, times and status.
   *
   * @param requester who asks
   * @param environment where
   * @param database the client's database name
   * @param statement the statement as reviewers see it (redacted as the audit trail stores it)
   * @param fingerprint the statement's fingerprint
   * @param binding {@link Approvals#binding} of the exact text and parameters
   * @param rule the policy rule that asked for approval
   * @param why the rule's message
   * @param reason the requester's reason; a blank one counts as none
   * @param rows the rows a change would change, when measured
   * @param requirement who must approve, and how the requester waits
   */
  public record Draft(
      Identity requester,
      String environment,
      String database,
      String statement,
      String fingerprint,
      String binding,
      String rule,
      String why,
      Optional<String> reason,
      OptionalLong rows,
      ApprovalRequirement requirement) {
    public Draft {
      Objects.requireNonNull(requester, "requester");
      requireText(environment, "environment");
      Objects.requireNonNull(database, "database");
      Objects.requireNonNull(statement, "statement");
      Objects.requireNonNull(fingerprint, "fingerprint");
      requireText(binding, "binding");
      Objects.requireNonNull(rule, "rule");
      Objects.requireNonNull(why, "why");
      reason =
          Objects.requireNonNull(reason, "reason").map(String::strip).filter(r -> !r.isEmpty());
      if (reason.isPresent() && reason.get().length() > MAX_TEXT) {
        throw new IllegalArgumentException(
            "the reason is " + reason.get().length() + " characters long; at most " + MAX_TEXT);
      }
      Objects.requireNonNull(rows, "rows");
      if (rows.isPresent() && rows.getAsLong() < 0) {
        throw new IllegalArgumentException("rows must not be negative, got " + rows.getAsLong());
      }
      Objects.requireNonNull(requirement, "requirement");
    }

    private static void requireText(String value, String what) {
      Objects.requireNonNull(value, what);
      if (value.isBlank()) {
        throw new IllegalArgumentException(what + " must not be blank");
      }
    }
  }

  /**
   * Calls {@code listener} after each change this service makes: a request made, reviewed, decided,
   * used, expired or cancelled, with the request as it now stands. Listeners run on the thread that
   * made the change, after it is stored; one that throws is logged and does not undo the change or
   * stop the others. Changes made by other processes are not reported here.
   */
  public void onChange(Consumer<ApprovalRequest> listener) {
    listeners.add(Objects.requireNonNull(listener, "listener"));
  }

  /**
   * Makes a pending request, open until now + the requirement's lifetime. When the same requester
   * already has an open pending request in the same environment with the same binding, that one is
   * returned instead: a statement sent again while it waits does not make a second request.
   *
   * @throws ApprovalException with {@link Reason#REASON_REQUIRED} when the requirement needs a
   *     reason and none was given
   */
  public ApprovalRequest request(Draft draft) {
    Objects.requireNonNull(draft, "draft");
    ApprovalRequirement requirement = draft.requirement();
    if (requirement.reasonRequired() && draft.reason().isEmpty()) {
      throw new ApprovalException(
          Reason.REASON_REQUIRED,
          "this statement needs approval and a reason: give one in a /* reason: ... */ comment"
              + " in the statement or with SET warden.reason = '...' before it, then send it"
              + " again");
    }
    String requester = draft.requester().name();
    creating.lock();
    try {
      Instant now = clock.instant();
      for (ApprovalRequest r : store.byBinding(requester, draft.environment(), draft.binding())) {
        if (r.status() == Status.PENDING && sameSubject(r, requester, draft)) {
          if (!expired(r, now)) {
            return r;
          }
          expire(r);
        }
      }
      ApprovalRequest created =
          new ApprovalRequest(
              newId(),
              requester,
              draft.requester().groups(),
              draft.environment(),
              draft.database(),
              draft.statement(),
              draft.fingerprint(),
              draft.binding(),
              draft.rule(),
              draft.why(),
              draft.reason(),
              draft.rows(),
              requirement,
              now,
              now.plus(requirement.lifetime()),
              Status.PENDING,
              List.of(),
              Optional.empty(),
              draft.requester().onBehalfOf());
      store.create(created);
      changed(created);
      return created;
    } finally {
      creating.unlock();
    }
  }

  /**
   * Records that the policy's automatic approval rule {@code rule} approved {@code draft}'s
   * statement, which runs now: the request is stored already used, with one review by {@code
   * warden} naming the rule, so that the trail and the reviewers' lists show every automatic
   * approval.
   */
  public ApprovalRequest autoApprove(Draft draft, String rule) {
    Objects.requireNonNull(draft, "draft");
    Objects.requireNonNull(rule, "rule");
    Instant now = clock.instant();
    ApprovalRequest used =
        new ApprovalRequest(
            newId(),
            draft.requester().name(),
            draft.requester().groups(),
            draft.environment(),
            draft.database(),
            draft.statement(),
            draft.fingerprint(),
            draft.binding(),
            draft.rule(),
            draft.why(),
            draft.reason(),
            draft.rows(),
            draft.requirement(),
            now,
            now.plus(draft.requirement().lifetime()),
            Status.USED,
            List.of(
                new ApprovalRequest.Review(
                    AUTOMATIC_REVIEWER,
                    Set.of(),
                    true,
                    now,
                    "auto-approved by rule " + rule,
                    false)),
            Optional.of(now),
            draft.requester().onBehalfOf());
    store.create(used);
    changed(used);
    return used;
  }

  /**
   * What an access request is made of.
   *
   * @param requester who asks
   * @param environment the environment's name
   * @param role the name of the environment's role mapping asked for
   * @param duration how long the window should last once approved
   * @param reason why; required, and shown to reviewers
   */
  public record AccessDraft(
      Identity requester,
      String environment,
      String role,
      Duration duration,
      Optional<String> reason) {
    public AccessDraft {
      Objects.requireNonNull(requester, "requester");
      Objects.requireNonNull(environment, "environment");
      Objects.requireNonNull(role, "role");
      Objects.requireNonNull(duration, "duration");
      reason =
          Objects.requireNonNull(reason, "reason").map(String::strip).filter(r -> !r.isEmpty());
      if (reason.isPresent() && reason.get().length() > MAX_TEXT) {
        throw new IllegalArgumentException(
            "the reason is " + reason.get().length() + " characters long; at most " + MAX_TEXT);
      }
    }
  }

  /** The rule an access request names. */
  public static final String ACCESS_RULE = "just-in-time";

  /**
   * Makes a pending access request: {@code draft}'s requester asks to log in as the role mapping
   * named {@code draft.role()} in {@code draft.environment()} for {@code draft.duration()} from its
   * approval. It is reviewed as any request (never by the requester or whom they act for, by the
   * role's approver groups, as many as it asks, break-glass only where the role allows it, one
   * denial decides) and stays open for review for {@link ApprovalRequirement#DEFAULT}'s lifetime.
   * Whether the environment admits the requester at all is the caller's question (policy).
   *
   * @param environments the configured environments, as they are now
   * @throws AccessRequestException for an unknown environment or role, a role not reachable just in
   *     time, a requester not among those who may ask, a duration beyond the role's {@code
   *     max-duration} (or under a minute), or no reason
   */
  public ApprovalRequest requestAccess(Environments environments, AccessDraft draft) {
    Objects.requireNonNull(environments, "environments");
    Objects.requireNonNull(draft, "draft");
    Environment environment =
        environments.all().stream()
            .filter(e -> e.name().equals(draft.environment()))
            .findFirst()
            .orElseThrow(
                () ->
                    new AccessRequestException(
                        AccessRequestException.Reason.UNKNOWN_ENVIRONMENT,
                        "there is no environment named " + draft.environment()));
    RoleMapping role =
        environment
            .role(draft.role())
            .orElseThrow(
                () ->
                    new AccessRequestException(
                        AccessRequestException.Reason.UNKNOWN_ROLE,
                        "environment "
                            + environment.name()
                            + " has no role named "
                            + draft.role()
                            + roleNames(environment)));
    JustInTime jit =
        role.justInTime()
            .orElseThrow(
                () ->
                    new AccessRequestException(
                        AccessRequestException.Reason.NOT_JUST_IN_TIME,
                        "role "
                            + draft.role()
                            + " in "
                            + environment.name()
                            + " cannot be asked for: it has no just-in-time access"
                            + roleNames(environment)));
    Identity requester = draft.requester();
    if (!jit.requestableBy(requester)) {
      throw new AccessRequestException(
          AccessRequestException.Reason.NOT_REQUESTABLE,
          requester.name()
              + " may not ask for role "
              + draft.role()
              + " in "
              + environment.name()
              + ": only members of "
              + String.join(" or ", sorted(jit.requestableBy()))
              + " may");
    }
    if (draft.duration().compareTo(jit.maxDuration()) > 0) {
      throw new AccessRequestException(
          AccessRequestException.Reason.BAD_DURATION,
          "role "
              + draft.role()
              + " in "
              + environment.name()
              + " is granted for at most "
              + JustInTime.format(jit.maxDuration())
              + ", not "
              + JustInTime.format(draft.duration())
              + "; ask for "
              + JustInTime.format(jit.maxDuration())
              + " or less");
    }
    if (draft.duration().compareTo(JustInTime.MIN_DURATION) < 0) {
      throw new AccessRequestException(
          AccessRequestException.Reason.BAD_DURATION,
          "an access window lasts at least 1m, not " + JustInTime.format(draft.duration()));
    }
    if (draft.reason().isEmpty()) {
      throw new AccessRequestException(
          AccessRequestException.Reason.REASON_REQUIRED,
          "an access request needs a reason reviewers can judge (--reason \"INC-123: ...\")");
    }
    ApprovalRequirement requirement =
        new ApprovalRequirement(
            jit.approvers(),
            jit.minApprovals(),
            false,
            ApprovalRequirement.Wait.ERROR,
            ApprovalRequirement.DEFAULT.holdTimeout(),
            ApprovalRequirement.DEFAULT.lifetime(),
            true,
            jit.breakGlass());
    Instant now = clock.instant();
    ApprovalRequest created =
        new ApprovalRequest(
            newId(),
            requester.name(),
            requester.groups(),
            environment.name(),
            "",
            "",
            "",
            ACCESS_BINDING_PREFIX + draft.role(),
            ACCESS_RULE,
            "an access window as role "
                + draft.role()
                + " in "
                + environment.name()
                + " for "
                + JustInTime.format(draft.duration())
                + " needs approval",
            draft.reason(),
            OptionalLong.empty(),
            requirement,
            now,
            now.plus(requirement.lifetime()),
            Status.PENDING,
            List.of(),
            Optional.empty(),
            requester.onBehalfOf(),
            Optional.of(ApprovalRequest.Access.asked(draft.role(), draft.duration())));
    store.create(created);
    changed(created);
    return created;
  }

  /**
   * The access window of {@code identity} in {@code environment} open at {@code at}, as its request
   * stands in the store; of several, the one that ends last.
   */
  public Optional<ApprovalRequest> openWindow(String identity, String environment, Instant at) {
    return store.openWindows(Optional.of(identity), Optional.of(environment), at).stream()
        .max(
            Comparator.comparing(
                (ApprovalRequest r) -> r.access().orElseThrow().end().orElseThrow()));
  }

  /** Every access window open at {@code at}, as the store has them. */
  public List<ApprovalRequest> openWindows(Instant at) {
    return store.openWindows(Optional.empty(), Optional.empty(), Objects.requireNonNull(at, "at"));
  }

  /** What an access request's binding starts with; a statement's binding is hex, never this. */
  static final String ACCESS_BINDING_PREFIX = "access:";

  private static String roleNames(Environment environment) {
    List<String> named =
        environment.roles().stream()
            .filter(r -> r.justInTime().isPresent())
            .map(RoleMapping::shownName)
            .sorted()
            .toList();
    return named.isEmpty()
        ? "; it has no roles that can be asked for"
        : "; roles that can be asked for: " + String.join(", ", named);
  }

  /** The reviewer named in automatic approvals. */
  public static final String AUTOMATIC_REVIEWER = "warden";

  /**
   * Records {@code reviewer}'s approval or denial. A denial decides at once; approvals decide when
   * enough distinct reviewers approved (with {@link ApprovalRequirement#allOfGroups()}, at least
   * one from each approver group); a break-glass approval decides at once and is marked for review
   * after the fact. A request whose requirement is {@link ApprovalRequirement#breakGlassOnly()} (a
   * statement a guardrail denies) is approved only by break-glass; it may be denied as any other.
   * An approved request keeps its expiry: it must be used before then.
   *
   * @param id the request
   * @param reviewer who reviews, as verified by the channel
   * @param approve true to approve, false to deny
   * @param comment what the reviewer writes; for break-glass, the required justification
   * @param breakGlass approve alone, whatever the requirement's count and groups say, if it allows
   *     break-glass
   * @return the request as it now stands
   * @throws ApprovalException saying why the review is refused
   */
  public ApprovalRequest review(
      String id, Identity reviewer, boolean approve, String comment, boolean breakGlass) {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(reviewer, "reviewer");
    String text = comment == null ? "" : comment.strip();
    if (text.length() > MAX_TEXT) {
      throw new IllegalArgumentException(
          "the comment is " + text.length() + " characters long; at most " + MAX_TEXT);
    }
    for (int attempt = 0; attempt < MAX_TRIES; attempt++) {
      ApprovalRequest current = openRequest(id);
      ApprovalRequirement requirement = current.requirement();
      boolean own = isRequester(reviewer, current.requester());
      if (own
          || current
              .requesterOnBehalfOf()
              .filter(person -> isRequester(reviewer, person))
              .isPresent()) {
        throw new ApprovalException(
            Reason.SELF_REVIEW,
            own
                ? reviewer.name()
                    + " asked for "
                    + id
                    + " and cannot review it; another approver must"
                : current.requester()
                    + " asked for "
                    + id
                    + " on behalf of "
                    + reviewer.name()
                    + ", who cannot review it; another approver must");
      }
      if (reviewer.groups().stream().noneMatch(requirement.approverGroups()::contains)) {
        throw new ApprovalException(
            Reason.NOT_AN_APPROVER,
            reviewer.name()
                + " may not review "
                + id
                + ": it needs a member of "
                + String.join(" or ", sorted(requirement.approverGroups())));
      }
      if (current.reviews().stream().anyMatch(r -> r.reviewer().equals(reviewer.name()))) {
        throw new ApprovalException(
            Reason.ALREADY_REVIEWED, reviewer.name() + " has already reviewed " + id);
      }
      if (approve && !breakGlass && requirement.breakGlassOnly()) {
        throw new ApprovalException(
            Reason.BREAK_GLASS_REQUIRED,
            "the rule "
                + current.rule()
                + " denies this statement; only a break-glass approval with a written"
                + " justification can let it through: approve "
                + id
                + " as break-glass, or deny it");
      }
      if (breakGlass) {
        if (!approve) {
          throw new ApprovalException(
              Reason.BREAK_GLASS_NOT_ALLOWED,
              "break-glass is a way to approve; to deny " + id + ", deny it without break-glass");
        }
        if (!requirement.breakGlass()) {
          throw new ApprovalException(
              Reason.BREAK_GLASS_NOT_ALLOWED,
              "the rule " + current.rule() + " does not allow break-glass approval of " + id);
        }
        if (text.isEmpty()) {
          throw new ApprovalException(
              Reason.JUSTIFICATION_REQUIRED,
              "break-glass approval of " + id + " needs a written justification");
        }
      }
      Instant now = clock.instant();
      List<Review> reviews = new ArrayList<>(current.reviews());
      reviews.add(new Review(reviewer.name(), reviewer.groups(), approve, now, text, breakGlass));
      Status status;
      if (!approve) {
        status = Status.DENIED;
      } else if (breakGlass || satisfied(requirement, reviews)) {
        status = Status.APPROVED;
      } else {
        status = Status.PENDING;
      }
      ApprovalRequest updated = opened(with(current, status, reviews, Optional.empty()), now);
      if (store.replace(current, updated)) {
        changed(updated);
        return updated;
      }
    }
    throw conflict(id);
  }

  /**
   * Uses an approval: the newest approved, unexpired request of {@code requester} in {@code
   * environment} with exactly {@code binding} becomes {@link Status#USED}. Atomic: of two sessions
   * sending the same approved statement at once, one gets it.
   *
   * @return the request that was used, or empty when there is no approval to use
   */
  public Optional<ApprovalRequest> consume(String requester, String environment, String binding) {
    Objects.requireNonNull(requester, "requester");
    Objects.requireNonNull(environment, "environment");
    Objects.requireNonNull(binding, "binding");
    for (int attempt = 0; attempt < MAX_TRIES; attempt++) {
      Instant now = clock.instant();
      boolean lost = false;
      for (ApprovalRequest r : store.byBinding(requester, environment, binding)) {
        // The store's filter is trusted for speed, not for safety.
        if (r.status() != Status.APPROVED
            || !r.requester().equals(requester)
            || !r.environment().equals(environment)
            || !r.binding().equals(binding)) {
          continue;
        }
        if (expired(r, now)) {
          expire(r);
          continue;
        }
        ApprovalRequest used = with(r, Status.USED, r.reviews(), Optional.of(now));
        if (store.replace(r, used)) {
          changed(used);
          return Optional.of(used);
        }
        lost = true;
      }
      if (!lost) {
        return Optional.empty();
      }
    }
    throw conflict(binding);
  }

  /**
   * The newest request of {@code requester} in {@code environment} with exactly {@code binding},
   * with expiry applied (a pending or approved one whose time has passed is marked expired first):
   * what the proxy tells a client who sends a statement that has no approval to use, e.g. still
   * pending, or denied by whom.
   */
  public Optional<ApprovalRequest> status(String requester, String environment, String binding) {
    for (ApprovalRequest r : store.byBinding(requester, environment, binding)) {
      if (r.requester().equals(requester)
          && r.environment().equals(environment)
          && r.binding().equals(binding)) {
        return Optional.of(open(r) && expired(r, clock.instant()) ? expire(r) : r);
      }
    }
    return Optional.empty();
  }

  /**
   * Withdraws a pending or approved, unused request; only its requester may.
   *
   * @return the cancelled request
   * @throws ApprovalException when not found, not the requester's, or no longer open
   */
  public ApprovalRequest cancel(String id, Identity requester) {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(requester, "requester");
    for (int attempt = 0; attempt < MAX_TRIES; attempt++) {
      ApprovalRequest current = find(id).orElseThrow(() -> notFound(id));
      if (!current.requester().equals(requester.name())) {
        throw new ApprovalException(
            Reason.NOT_REQUESTER, "only " + current.requester() + " may cancel " + id);
      }
      if (!open(current)) {
        throw notOpen(current);
      }
      Instant now = clock.instant();
      if (expired(current, now)) {
        expire(current);
        throw current.access().isPresent() && current.status() == Status.APPROVED
            ? new ApprovalException(Reason.NOT_PENDING, id + "'s access window has already ended")
            : expiredException(id);
      }
      ApprovalRequest cancelled =
          current.access().isPresent() && current.status() == Status.APPROVED
              // Withdrawing an open window ends it now.
              ? current.with(
                  Status.CANCELLED,
                  current.reviews(),
                  current.used(),
                  now,
                  current.access().map(a -> a.endedAt(now)))
              : with(current, Status.CANCELLED, current.reviews(), current.used());
      if (store.replace(current, cancelled)) {
        changed(cancelled);
        return cancelled;
      }
    }
    throw conflict(id);
  }

  /** The request with this id, as stored. */
  public Optional<ApprovalRequest> find(String id) {
    return store.find(Objects.requireNonNull(id, "id"));
  }

  /** Requests matching {@code filter}, newest first, as stored. */
  public List<ApprovalRequest> list(ApprovalStore.Filter filter) {
    return store.list(Objects.requireNonNull(filter, "filter"));
  }

  /**
   * Marks pending and approved requests whose time has passed as {@link Status#EXPIRED} (the newest
   * 1000 open ones each call; older ones are expired when touched); returns those it marked.
   */
  public List<ApprovalRequest> expireDue() {
    Instant now = clock.instant();
    List<ApprovalRequest> expired = new ArrayList<>();
    ApprovalStore.Filter open =
        new ApprovalStore.Filter(
            List.of(Status.PENDING, Status.APPROVED),
            Optional.empty(),
            Optional.empty(),
            Optional.empty(),
            1000);
    for (ApprovalRequest r : store.list(open)) {
      if (open(r) && expired(r, now)) {
        expire(r, expired);
      }
    }
    return List.copyOf(expired);
  }

  /**
   * Completes with the request once it is no longer pending: decided here, by another process
   * (looked for every {@link #POLL_INTERVAL} on a background virtual thread), or expired. Hold mode
   * waits on it, with its own timeout; cancelling the returned future stops the wait for this
   * caller only.
   *
   * @throws ApprovalException with {@link Reason#NOT_FOUND} (in the future) when there is no such
   *     request
   */
  public CompletableFuture<ApprovalRequest> decided(String id) {
    Objects.requireNonNull(id, "id");
    CompletableFuture<ApprovalRequest> future = new CompletableFuture<>();
    synchronized (waiters) {
      if (closed) {
        future.completeExceptionally(new CancellationException("approvals are closed"));
        return future;
      }
      waiters.computeIfAbsent(id, k -> new ArrayList<>()).add(future);
      if (poller == null) {
        poller = Thread.ofVirtual().name("warden-approvals-poll").start(this::poll);
      }
    }
    // After registering, so that a change made in between is not missed.
    try {
      check(id);
    } catch (RuntimeException e) {
      future.completeExceptionally(e);
    }
    return future;
  }

  /** Stops waiting: futures from {@link #decided} that are not complete are cancelled. */
  @Override
  public void close() {
    List<CompletableFuture<ApprovalRequest>> left = new ArrayList<>();
    Thread p;
    synchronized (waiters) {
      closed = true;
      waiters.values().forEach(left::addAll);
      waiters.clear();
      p = poller;
    }
    if (p != null) {
      p.interrupt();
    }
    left.forEach(f -> f.cancel(false));
  }

  /**
   * A keyed hash of exactly this statement text and these bind parameters, hex: an approval is used
   * only by the very same text with the very same parameters, so approved text sent with other
   * parameters never matches. Each part is length-prefixed (a NULL parameter is length -1, distinct
   * from an empty one) so that no two different statements encode alike. Keyed, so that a binding
   * shown to reviewers or kept in the audit trail does not let anyone test guesses of parameters.
   *
   * @param key a secret of at least {@value #MIN_BINDING_KEY} bytes, the same across restarts and
   *     instances (else approvals made before a restart are never used)
   * @param statementText the text exactly as the client sent it
   * @param parameters bind parameters as sent, {@code null} for SQL NULL; empty for simple queries
   */
  public static String binding(byte[] key, String statementText, List<byte[]> parameters) {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(statementText, "statementText");
    Objects.requireNonNull(parameters, "parameters");
    if (key.length < MIN_BINDING_KEY) {
      throw new IllegalArgumentException(
          "the binding key must be at least " + MIN_BINDING_KEY + " bytes, got " + key.length);
    }
    Mac mac;
    try {
      mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is not available", e);
    }
    mac.update(BINDING_DOMAIN);
    byte[] text = statementText.getBytes(StandardCharsets.UTF_8);
    mac.update(length(text.length));
    mac.update(text);
    mac.update(length(parameters.size()));
    for (byte[] p : parameters) {
      if (p == null) {
        mac.update(length(-1));
      } else {
        mac.update(length(p.length));
        mac.update(p);
      }
    }
    return HexFormat.of().formatHex(mac.doFinal());
  }

  private static byte[] length(int n) {
    return ByteBuffer.allocate(Integer.BYTES).putInt(n).array();
  }

  /** Whether the approvals so far meet the requirement (without break-glass). */
  static boolean satisfied(ApprovalRequirement requirement, List<Review> reviews) {
    Map<String, Review> approvers = new LinkedHashMap<>();
    for (Review r : reviews) {
      if (r.approve()) {
        approvers.putIfAbsent(r.reviewer(), r);
      }
    }
    if (approvers.size() < requirement.minApprovals()) {
      return false;
    }
    if (requirement.allOfGroups()) {
      for (String group : requirement.approverGroups()) {
        if (approvers.values().stream().noneMatch(r -> r.reviewerGroups().contains(group))) {
          return false;
        }
      }
    }
    return true;
  }

  /**
   * Never the requester, nor someone acting on the requester's behalf (an agent's token). Names are
   * compared ignoring case: a reviewer named like the requester but for case is refused rather than
   * trusted to be someone else.
   */
  private static boolean isRequester(Identity reviewer, String requester) {
    return reviewer.name().equalsIgnoreCase(requester)
        || reviewer.onBehalfOf().filter(requester::equalsIgnoreCase).isPresent();
  }

  /** The pending, unexpired request, or the exception saying why it is not. */
  private ApprovalRequest openRequest(String id) {
    ApprovalRequest current = find(id).orElseThrow(() -> notFound(id));
    if (current.status() == Status.EXPIRED) {
      throw expiredException(id);
    }
    if (current.status() != Status.PENDING) {
      throw notOpen(current);
    }
    if (expired(current, clock.instant())) {
      expire(current);
      throw expiredException(id);
    }
    return current;
  }

  /**
   * Marks {@code r} expired if it is still as read; returns the request as it then stands (expired,
   * or whatever another change made of it).
   */
  private ApprovalRequest expire(ApprovalRequest r) {
    return expire(r, new ArrayList<>());
  }

  /** {@link #expire(ApprovalRequest)}, adding the request to {@code marked} if this marked it. */
  private ApprovalRequest expire(ApprovalRequest r, List<ApprovalRequest> marked) {
    ApprovalRequest current = r;
    for (int attempt = 0; attempt < MAX_TRIES; attempt++) {
      if (!open(current)) {
        return current;
      }
      ApprovalRequest expired =
          current.access().isPresent() && current.status() == Status.APPROVED
              // An access window that has run its time was used, not missed.
              ? with(current, Status.USED, current.reviews(), Optional.of(current.expires()))
              : with(current, Status.EXPIRED, current.reviews(), current.used());
      if (store.replace(current, expired)) {
        marked.add(expired);
        changed(expired);
        return expired;
      }
      Optional<ApprovalRequest> now = store.find(r.id());
      if (now.isEmpty()) {
        return current;
      }
      current = now.get();
    }
    return current;
  }

  private void changed(ApprovalRequest r) {
    for (Consumer<ApprovalRequest> listener : listeners) {
      try {
        listener.accept(r);
      } catch (RuntimeException e) {
        // The change is stored; a failing listener must not make it look undone.
        log.warn("an approval listener failed on {} ({}): {}", r.id(), r.status(), e.toString());
      }
    }
    if (r.status() != Status.PENDING) {
      settle(r);
    }
  }

  private void settle(ApprovalRequest r) {
    List<CompletableFuture<ApprovalRequest>> done;
    synchronized (waiters) {
      done = waiters.remove(r.id());
    }
    if (done != null) {
      done.forEach(f -> f.complete(r));
    }
  }

  private void fail(String id, RuntimeException e) {
    List<CompletableFuture<ApprovalRequest>> done;
    synchronized (waiters) {
      done = waiters.remove(id);
    }
    if (done != null) {
      done.forEach(f -> f.completeExceptionally(e));
    }
  }

  /** Settles the waiters of {@code id} if it is no longer pending, expiring it if due. */
  private void check(String id) {
    Optional<ApprovalRequest> found = store.find(id);
    if (found.isEmpty()) {
      fail(id, notFound(id));
      return;
    }
    ApprovalRequest r = found.get();
    if (r.status() != Status.PENDING) {
      settle(r);
    } else if (expired(r, clock.instant())) {
      settle(expire(r));
    }
  }

  /** The background loop of {@link #decided}: one thread for all waiters, gone when none wait. */
  private void poll() {
    while (true) {
      List<String> ids;
      synchronized (waiters) {
        waiters
            .values()
            .removeIf(
                list -> {
                  list.removeIf(CompletableFuture::isDone);
                  return list.isEmpty();
                });
        if (closed || waiters.isEmpty()) {
          poller = null;
          return;
        }
        ids = List.copyOf(waiters.keySet());
      }
      for (String id : ids) {
        try {
          check(id);
        } catch (RuntimeException e) {
          // The store may be briefly busy (another process writing); the next round tries again.
          log.debug("looking for a decision on {} failed: {}", id, e.toString());
        }
      }
      try {
        Thread.sleep(POLL_INTERVAL);
      } catch (InterruptedException e) {
        synchronized (waiters) {
          if (closed) {
            poller = null;
            return;
          }
        }
      }
    }
  }

  private String newId() {
    StringBuilder id = new StringBuilder(ID_PREFIX.length() + ID_RANDOM_CHARS).append(ID_PREFIX);
    for (int i = 0; i < ID_RANDOM_CHARS; i++) {
      id.append(BASE32[random.nextInt(BASE32.length)]);
    }
    return id.toString();
  }

  private static boolean sameSubject(ApprovalRequest r, String requester, Draft draft) {
    return r.requester().equals(requester)
        && r.environment().equals(draft.environment())
        && r.binding().equals(draft.binding());
  }

  private static boolean open(ApprovalRequest r) {
    return r.status() == Status.PENDING || r.status() == Status.APPROVED;
  }

  private static boolean expired(ApprovalRequest r, Instant now) {
    return !now.isBefore(r.expires());
  }

  private static ApprovalRequest with(
      ApprovalRequest r, Status status, List<Review> reviews, Optional<Instant> used) {
    return r.with(status, reviews, used, r.expires(), r.access());
  }

  /**
   * An access request just approved, with its window opened at {@code now} for the duration asked
   * for: it expires (it stops being usable) when the window ends. Anything else as it is.
   */
  private static ApprovalRequest opened(ApprovalRequest r, Instant now) {
    if (r.status() != Status.APPROVED
        || r.access().isEmpty()
        || r.access().get().start().isPresent()) {
      return r;
    }
    ApprovalRequest.Access window = r.access().get().openedAt(now);
    return r.with(
        r.status(), r.reviews(), r.used(), window.end().orElseThrow(), Optional.of(window));
  }

  private static List<String> sorted(Set<String> groups) {
    return groups.stream().sorted().toList();
  }

  private static ApprovalException notFound(String id) {
    return new ApprovalException(Reason.NOT_FOUND, "no approval request has the id " + id);
  }

  private static ApprovalException expiredException(String id) {
    return new ApprovalException(
        Reason.EXPIRED, id + " has expired; send the statement again to ask anew");
  }

  private static ApprovalException notOpen(ApprovalRequest r) {
    String what =
        switch (r.status()) {
          case APPROVED -> "already approved";
          case DENIED -> "already denied";
          case USED -> "already approved and used";
          case CANCELLED -> "cancelled by " + r.requester();
          case EXPIRED -> "expired";
          case PENDING -> "pending";
        };
    return new ApprovalException(Reason.NOT_PENDING, r.id() + " is " + what);
  }

  private static ApprovalException conflict(String what) {
    return new ApprovalException(
        Reason.CONFLICT, what + " kept changing while this change was made; try again");
  }
}
