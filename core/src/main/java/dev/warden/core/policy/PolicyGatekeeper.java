package dev.warden.core.policy;

import dev.warden.core.approval.ApprovalRequirement;
import dev.warden.core.gate.Admission;
import dev.warden.core.gate.Decision;
import dev.warden.core.gate.Gatekeeper;
import dev.warden.core.gate.SessionContext;
import dev.warden.core.gate.StatementPath;
import dev.warden.core.gate.StatementRequest;
import dev.warden.core.gate.Verdict;
import dev.warden.core.identity.IdentitySettings;
import dev.warden.core.masking.DataMap;
import dev.warden.core.masking.DataMaps;
import dev.warden.core.masking.MaskingJudge;
import dev.warden.core.masking.MaskingRules;
import dev.warden.core.masking.SessionMasking;
import dev.warden.core.masking.StatementResultMasking;
import dev.warden.core.statement.Analysis;
import dev.warden.core.statement.PreparedStatements;
import dev.warden.core.statement.ReasonSetting;
import dev.warden.core.statement.Relations;
import dev.warden.core.statement.SqlAnalyzer;
import dev.warden.core.statement.Statement;
import dev.warden.core.statement.StatementFlag;
import dev.warden.core.statement.StatementKind;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * The decision point with a policy behind it: analyses each statement, judges every statement the
 * text holds (a string of several is refused if any one is), and turns the judgements into one
 * {@link Decision}.
 *
 * <p>The policy comes from a supplier read once per decision, so a reload that swaps it applies to
 * the next statement as a whole, never to half of one. Environments named in {@code
 * observedEnvironments} are in observe-only mode: what would be refused runs, marked observed.
 *
 * <p>With {@link DataMaps}, every decision for an identity that is not exempt carries a {@link
 * StatementResultMasking}: what the proxy masks in the results, judged by {@link MaskingJudge}
 * against the database's current data map, and masking's refusals (rule {@value #MASKING_RULE},
 * SQLSTATE {@value #MASKING_SQLSTATE}) turn an allow into a deny. A decision depends on the map's
 * version and on when the identity's exemption next begins or ends; cached and prepared decisions
 * are judged again once either has changed. Without data maps ({@link DataMaps#NONE}) nothing is
 * masked.
 *
 * <p>A statement that changes a {@code warden.*} setting ({@link
 * StatementFlag#CHANGES_IDENTITY_SETTING}), which carries the verified identity to the database, is
 * refused for everyone whatever the policy, observe-only environments included (rule {@value
 * #IDENTITY_SETTING_RULE}, SQLSTATE {@value #IDENTITY_SETTING_SQLSTATE}). {@code SET warden.reason}
 * is not one ({@link Statement#reasonSetting()}): the session's reason for its statements, which
 * the proxy remembers for the approval gate. It too is refused whatever the policy (rule {@value
 * #REASON_SETTING_RULE}) where the proxy could not follow it: {@code SET LOCAL}, a text of several
 * statements that sets one, a reason longer than {@link IdentitySettings#MAX_REASON_LENGTH}.
 *
 * <p>A statement a {@code require_approval} rule decides gets that rule's refusal with {@link
 * Decision#withApproval} its approval requirement; in a text of several, one statement denied
 * outright denies the whole without approval, and otherwise the first statement needing approval
 * makes the whole wait for its rule's approval. {@link #autoApproval} says whether the rule's
 * automatic approvals let it run without a person. A statement a {@code break_glass} deny rule
 * denies keeps the rule's refusal and carries its break-glass-only requirement, so that a reviewer
 * may let it through once; automatic approvals never do.
 *
 * <p>{@link #admit} asks the policy's access rules whether a session may begin at all.
 *
 * <p>Nothing thrown by the analyser or the policy escapes: it refuses the statement (fail closed).
 */
public final class PolicyGatekeeper implements Gatekeeper {
  private final SqlAnalyzer analyzer;
  private final Supplier<Policy> policy;
  private final Set<String> observedEnvironments;
  private final InstantSource clock;
  private final DataMaps maps;

  /** The rule name masking's refusals carry. */
  public static final String MASKING_RULE = "masking";

  /** The SQLSTATE of masking's refusals: insufficient_privilege. */
  public static final String MASKING_SQLSTATE = "42501";

  /** The rule name of the refusal of a statement that changes a {@code warden.*} setting. */
  public static final String IDENTITY_SETTING_RULE = "identity-setting";

  /** The SQLSTATE of that refusal: insufficient_privilege. */
  public static final String IDENTITY_SETTING_SQLSTATE = "42501";

  /**
   * The rule name of the refusal of a {@code SET warden.reason} Warden cannot follow (see the class
   * comment); its SQLSTATE is feature_not_supported, or invalid_parameter_value for a reason that
   * is too long.
   */
  public static final String REASON_SETTING_RULE = "reason-setting";

  /** PostgreSQL's {@code set_config(text, text, boolean)}: built-in object ids never change. */
  static final long SET_CONFIG_OID = 2078;

  private static final Verdict.Deny IDENTITY_SETTING_DENIAL =
      new Verdict.Deny(
          IDENTITY_SETTING_SQLSTATE,
          "Warden refused this statement: warden.* settings carry your verified identity to the"
              + " database and cannot be changed (rule \""
              + IDENTITY_SETTING_RULE
              + "\")",
          "Warden sets them for every session from the identity you authenticated as; row-level"
              + " security and audit in the database rely on them. Remove the warden.* setting"
              + " (SET, RESET, set_config, or a SET clause of a function or role) from the"
              + " statement. Only SET warden.reason = '...' (the reason for your statements) and"
              + " RESET warden.reason are allowed.");

  private static final Verdict.Deny REASON_SETTING_LOCAL =
      new Verdict.Deny(
          "0A000",
          "Warden refused this statement: SET LOCAL warden.reason is not supported (rule \""
              + REASON_SETTING_RULE
              + "\")",
          "Warden keeps the reason for the session, not for a transaction. Use SET warden.reason ="
              + " '...' (and RESET warden.reason when done), or a /* reason: ... */ comment in the"
              + " statement.");

  private static final Verdict.Deny REASON_SETTING_WITH_OTHERS =
      new Verdict.Deny(
          "0A000",
          "Warden refused this statement: SET warden.reason must be sent as a statement of its own,"
              + " not in a text with other statements (rule \""
              + REASON_SETTING_RULE
              + "\")",
          "Send SET warden.reason = '...' first, on its own, then the other statements; or give"
              + " the reason in a /* reason: ... */ comment in the statement it is for.");

  /** Decisions already made, for statements and sessions seen before; past it, starts over. */
  private static final int DECISION_CACHE_LIMIT = 50_000;

  private final ConcurrentHashMap<DecisionKey, Decision> decisions = new ConcurrentHashMap<>();
  private volatile long decisionsVersion;

  private final ConcurrentHashMap<ResolvedKey, Analysis> resolvedAnalyses =
      new ConcurrentHashMap<>();

  /** For each resolved analysis, what it was resolved from and with which snapshot. */
  private final ConcurrentHashMap<Same, ResolvedKey> origins = new ConcurrentHashMap<>();

  /**
   * A decision point that masks results by {@code maps} (the data maps of every environment's
   * databases) and policy's masking rules.
   */
  public PolicyGatekeeper(
      SqlAnalyzer analyzer,
      Supplier<Policy> policy,
      Set<String> observedEnvironments,
      InstantSource clock,
      DataMaps maps) {
    this.analyzer = Objects.requireNonNull(analyzer, "analyzer");
    this.policy = Objects.requireNonNull(policy, "policy");
    this.observedEnvironments = Set.copyOf(observedEnvironments);
    this.clock = Objects.requireNonNull(clock, "clock");
    this.maps = Objects.requireNonNull(maps, "maps");
  }

  /** A decision point that masks nothing. */
  public PolicyGatekeeper(
      SqlAnalyzer analyzer,
      Supplier<Policy> policy,
      Set<String> observedEnvironments,
      InstantSource clock) {
    this(analyzer, policy, observedEnvironments, clock, DataMaps.NONE);
  }

  /** Every environment enforcing, on the system clock. */
  public PolicyGatekeeper(SqlAnalyzer analyzer, Supplier<Policy> policy) {
    this(analyzer, policy, Set.of(), InstantSource.system());
  }

  /**
   * Whether {@code session} may begin, by the access rules of the policy in force at this moment;
   * refused (fail closed) when there is no policy or it cannot be asked. Enforced in observe-only
   * environments too: observe-only mode is about statements, and an admission has no observed state
   * to record.
   */
  @Override
  public Admission admit(SessionContext session) {
    try {
      Policy current = Objects.requireNonNull(policy.get(), "no policy");
      return current.admit(session, clock.instant());
    } catch (RuntimeException e) {
      return new Admission(
          false, "", "its access could not be decided (Warden fails closed): " + e);
    }
  }

  @Override
  public Decision decide(StatementRequest request) {
    Policy current;
    try {
      current = Objects.requireNonNull(policy.get(), "no policy");
    } catch (RuntimeException e) {
      return refused(Analysis.unknown("no policy"), "no policy is available (" + e + ")", 0);
    }
    Analysis analysis;
    try {
      analysis =
          request.path() == StatementPath.FUNCTION_CALL
              ? functionCall(request.functionOid().orElseThrow())
              : Objects.requireNonNull(
                  analyzer.analyze(request.sql(), request.lexical()), "no analysis");
    } catch (RuntimeException e) {
      return refused(
          Analysis.unknown("the analyser failed: " + e),
          "it could not be analysed (" + e + ")",
          current.version());
    }
    try {
      boolean cacheable = !current.readsTime() && !analysis.definesOrRunsPrepared();
      DecisionKey key = null;
      if (cacheable) {
        if (decisionsVersion != current.version()) {
          decisions.clear();
          decisionsVersion = current.version();
        }
        key = new DecisionKey(analysis, request.session(), request.path(), request.relations());
        Decision known = decisions.get(key);
        if (known != null && maskingHolds(known)) {
          return known; // the same text again in the same session: a hash lookup
        }
      }
      analysis = resolved(analysis, request.relations());
      PolicyInput input =
          new PolicyInput(
              request.session(),
              request.path(),
              current.readsTime() ? clock.instant() : Instant.EPOCH);
      Decision decision =
          masked(
              current,
              judge(current, analysis, input, request.prepared()),
              request.session(),
              request.prepared());
      if (decision.verdict() instanceof Verdict.Allow) {
        remember(analysis, request.prepared());
      }
      if (key != null) {
        if (decisions.size() >= DECISION_CACHE_LIMIT) {
          decisions.clear(); // cheap, and never wrong
        }
        decisions.put(key, decision);
      }
      return decision;
    } catch (RuntimeException e) {
      return refused(analysis, "it could not be judged (" + e + ")", current.version());
    }
  }

  /**
   * Returns {@code earlier} while the policy is unchanged, the decision does not depend on the time
   * and its masking still holds (same data map version, the identity's exemption status unchanged);
   * otherwise judges its analysis again, an {@code EXECUTE name} as what the session's {@code
   * prepared} statements say it may run.
   */
  @Override
  public Decision recheck(
      SessionContext session, PreparedStatements prepared, Relations relations, Decision earlier) {
    Policy current;
    try {
      current = Objects.requireNonNull(policy.get(), "no policy");
    } catch (RuntimeException e) {
      return refused(earlier.analysis(), "no policy is available (" + e + ")", 0);
    }
    Analysis analysis = earlier.analysis();
    ResolvedKey origin = origins.get(new Same(analysis));
    if (origin != null && origin.relations() != relations) {
      // Prepared under another snapshot of the catalogue: its names may resolve elsewhere now.
      analysis = resolved(origin.analysis(), relations);
    }
    if (analysis == earlier.analysis()
        && earlier.reusable()
        && earlier.policyVersion() == current.version()
        && maskingHolds(earlier)) {
      return earlier;
    }
    try {
      // Only a simple query is offered break-glass: judged again, it stays one.
      StatementPath path =
          earlier.approval().filter(ApprovalRequirement::breakGlassOnly).isPresent()
              ? StatementPath.SIMPLE
              : StatementPath.PREPARED;
      PolicyInput input = new PolicyInput(session, path, clock.instant());
      return masked(current, judge(current, analysis, input, prepared), session, prepared);
    } catch (RuntimeException e) {
      return refused(analysis, "it could not be judged (" + e + ")", current.version());
    }
  }

  /**
   * {@link #autoApproval(Decision, SessionContext, StatementPath, PreparedStatements, long,
   * String)} for a caller that knows neither the protocol path nor the session's prepared
   * statements (an approval gate): an automatic approval must hold whichever path the statement
   * came by (a condition that reads {@code request.path} approves only if it holds for both the
   * simple and the extended protocol), and an {@code EXECUTE} of a statement prepared earlier in
   * the session is not approved automatically (Warden cannot tell here what it runs).
   */
  public Optional<String> autoApproval(
      Decision decision, SessionContext session, long rows, String reason) {
    PreparedStatements none = new PreparedStatements();
    List<Statement> statements = decision.analysis().statements();
    if (statements.size() == 1 && statements.getFirst().command().equals("FUNCTION CALL")) {
      return autoApproval(decision, session, StatementPath.FUNCTION_CALL, none, rows, reason);
    }
    Optional<String> simple =
        autoApproval(decision, session, StatementPath.SIMPLE, none, rows, reason);
    if (simple.isEmpty()
        || autoApproval(decision, session, StatementPath.PREPARED, none, rows, reason).isEmpty()) {
      return Optional.empty();
    }
    return simple;
  }

  /**
   * Whether the policy's automatic approvals let {@code decision}, which waits for approval, run
   * without a person: every statement of its text that policy says needs approval (each statement,
   * the one a {@code PREPARE} defines, what an {@code EXECUTE} may run) must be approved by one of
   * the automatic approvals of the rule that decided it. Conditions read the time now and the
   * {@code rows} and {@code request.reason} given here; nothing is cached.
   *
   * <p>For an allowed decision whose change went over its row limit ({@link
   * Decision#rowLimitApproval()}), the automatic approvals of the rule whose limit it is are tried
   * instead, with {@code rows} the rows the change made.
   *
   * <p>Empty, so that a person must approve, when the decision needs no approval, when the policy
   * changed since it was made (the proxy judges the statement again before it runs anything), when
   * a statement of the text is now denied outright, or when the policy's default (no rule) asked
   * for the approval.
   *
   * @param decision a decision this gatekeeper made, with {@link Decision#approval()} present
   * @param session the session the statement came from
   * @param path how it arrived (what {@code request.path} reads)
   * @param prepared the session's prepared statements, for what an {@code EXECUTE} may run
   * @param rows the rows the statement would change, as the proxy measured them; -1 when not
   *     measured
   * @param reason the requester's reason; {@code ""} when none was given
   * @return the name of the automatic approval that approved it; with several statements approved
   *     by different ones, their names in order, separated by {@code ", "}
   */
  public Optional<String> autoApproval(
      Decision decision,
      SessionContext session,
      StatementPath path,
      PreparedStatements prepared,
      long rows,
      String reason) {
    Objects.requireNonNull(decision, "decision");
    Objects.requireNonNull(session, "session");
    Objects.requireNonNull(path, "path");
    Objects.requireNonNull(prepared, "prepared");
    Objects.requireNonNull(reason, "reason");
    if (decision.verdict() instanceof Verdict.Allow) {
      // An allowed statement waits only when its change went over its row limit.
      return decision.rowLimitApproval().isPresent()
          ? overLimitAutoApproval(decision, session, path, prepared, rows, reason)
          : Optional.empty();
    }
    if (decision.approval().isEmpty()) {
      return Optional.empty();
    }
    try {
      Policy current = policy.get();
      if (current == null || current.version() != decision.policyVersion()) {
        return Optional.empty();
      }
      Analysis analysis = decision.analysis();
      if (changesIdentitySetting(analysis, prepared)) {
        return Optional.empty();
      }
      PolicyInput input = new PolicyInput(session, path, clock.instant());
      boolean multi = analysis.multiStatement();
      List<String> names = new ArrayList<>();
      PreparedStatements sameText = new PreparedStatements();
      for (Statement statement : analysis.statements()) {
        if (isPrepare(statement) && statement.inner().isPresent()) {
          sameText.prepared(statement.preparedName(), statement.inner().get());
        }
        for (Statement unit : units(statement, prepared, sameText)) {
          Judgement j = current.judge(unit, multi, input);
          if (j.action() == PolicyAction.DENY) {
            return Optional.empty();
          }
          if (j.action() != PolicyAction.REQUIRE_APPROVAL) {
            continue;
          }
          if (j.rule().isEmpty()) {
            return Optional.empty();
          }
          Optional<String> auto =
              current.autoApprove(j.ruleName(), unit, multi, input, rows, reason);
          if (auto.isEmpty()) {
            return Optional.empty();
          }
          if (!names.contains(auto.get())) {
            names.add(auto.get());
          }
        }
      }
      return names.isEmpty() ? Optional.empty() : Optional.of(String.join(", ", names));
    } catch (RuntimeException e) {
      return Optional.empty(); // what cannot be evaluated is not approved; a person still can
    }
  }

  /**
   * Whether an automatic approval of the rule whose row limit {@code decision} carries approves a
   * change over that limit: the rule is found as {@link #judge} found it (of the statements that
   * change rows, the one whose allow or observe rule has the smallest {@code max_rows}), and its
   * {@code auto_approve} conditions are tried with {@code rows} as measured. Empty when the policy
   * changed since the decision, or the rule does not let such a change wait for approval.
   */
  private Optional<String> overLimitAutoApproval(
      Decision decision,
      SessionContext session,
      StatementPath path,
      PreparedStatements prepared,
      long rows,
      String reason) {
    try {
      Policy current = policy.get();
      if (current == null || current.version() != decision.policyVersion()) {
        return Optional.empty();
      }
      Analysis analysis = decision.analysis();
      if (changesIdentitySetting(analysis, prepared)) {
        return Optional.empty();
      }
      PolicyInput input = new PolicyInput(session, path, clock.instant());
      boolean multi = analysis.multiStatement();
      Judgement limiting = null;
      PreparedStatements sameText = new PreparedStatements();
      for (Statement statement : analysis.statements()) {
        if (isPrepare(statement) && statement.inner().isPresent()) {
          sameText.prepared(statement.preparedName(), statement.inner().get());
        }
        for (Statement unit : units(statement, prepared, sameText)) {
          Judgement j = current.judge(unit, multi, input);
          if (!j.refuses()
              && unit.changesRows()
              && j.rule().isPresent()
              && j.rule().get().maxRows().isPresent()
              && (limiting == null || maxRows(j) < maxRows(limiting))) {
            limiting = j;
          }
        }
      }
      if (limiting == null || !limiting.rule().orElseThrow().approvesOverMaxRows()) {
        return Optional.empty();
      }
      return current.autoApprove(
          limiting.ruleName(), limiting.statement(), multi, input, rows, reason);
    } catch (RuntimeException e) {
      return Optional.empty(); // what cannot be evaluated is not approved; a person still can
    }
  }

  /**
   * Judges every statement of {@code analysis}: each statement, the statement a {@code PREPARE}
   * defines, and every statement an {@code EXECUTE} may run.
   */
  Decision judge(
      Policy current, Analysis analysis, PolicyInput input, PreparedStatements prepared) {
    if (changesIdentitySetting(analysis, prepared)) {
      // Not a policy verdict but Warden's integrity: no rule, exemption or observe-only mode
      // lets it through. It depends on nothing but the statement, so it may be reused.
      return new Decision(
          IDENTITY_SETTING_DENIAL,
          analysis,
          IDENTITY_SETTING_RULE,
          false,
          OptionalLong.empty(),
          null,
          current.version(),
          true);
    }
    Optional<Verdict.Deny> reasonRefusal = reasonSettingRefusal(analysis);
    if (reasonRefusal.isPresent()) {
      // Like the identity setting: Warden's own rule, which depends on the text alone.
      return new Decision(
          reasonRefusal.get(),
          analysis,
          REASON_SETTING_RULE,
          false,
          OptionalLong.empty(),
          null,
          current.version(),
          true);
    }
    boolean multi = analysis.multiStatement();
    Judgement first = null;
    Judgement denial = null;
    Judgement approval = null;
    Judgement observe = null;
    Judgement limiting = null;
    List<Judgement> denials = new ArrayList<>();
    List<Judgement> approvals = new ArrayList<>();
    // A PREPARE earlier in the same text defines what a later EXECUTE in it may run.
    PreparedStatements sameText = new PreparedStatements();
    for (Statement statement : analysis.statements()) {
      if (isPrepare(statement) && statement.inner().isPresent()) {
        sameText.prepared(statement.preparedName(), statement.inner().get());
      }
      for (Statement unit : units(statement, prepared, sameText)) {
        Judgement j = current.judge(unit, multi, input);
        if (first == null) {
          first = j;
        }
        if (j.action() == PolicyAction.DENY) {
          if (denial == null) {
            denial = j;
          }
          denials.add(j);
        } else if (j.action() == PolicyAction.REQUIRE_APPROVAL) {
          if (approval == null) {
            approval = j;
          }
          approvals.add(j);
        } else {
          if (j.action() == PolicyAction.OBSERVE && observe == null) {
            observe = j;
          }
          if (unit.changesRows()
              && j.rule().isPresent()
              && j.rule().get().maxRows().isPresent()
              && (limiting == null || maxRows(j) < maxRows(limiting))) {
            limiting = j;
          }
        }
      }
    }
    boolean reusable = !current.readsTime();
    long version = current.version();
    boolean observeOnly = observedEnvironments.contains(input.session().environment().name());
    // A statement denied outright denies the whole text: no approval can lift that, unless every
    // refusal of the text may be lifted by one break-glass approval. Otherwise the first statement
    // needing approval makes the whole wait for it, as its rule says.
    Judgement refusal = denial != null ? denial : approval;
    if (refusal != null) {
      if (!observeOnly && denial != null && !breakGlass(denials, approvals, input.path())) {
        return new Decision(
            refusal.denial(),
            analysis,
            refusal.ruleName(),
            false,
            OptionalLong.empty(),
            null,
            version,
            reusable);
      }
      if (!observeOnly) {
        // Once approved (for a denial: as break-glass) it runs as an allowed statement would:
        // within the row limit of any other statement of the text that an allow rule limits.
        OptionalLong limit =
            limiting == null ? OptionalLong.empty() : OptionalLong.of(maxRows(limiting));
        return limitApproval(
            new Decision(
                    refusal.denial(),
                    analysis,
                    refusal.ruleName(),
                    false,
                    limit,
                    limiting == null ? null : overLimit(limiting),
                    version,
                    reusable)
                .withApproval(refusal.approvalRequirement()),
            limiting);
      }
      // Observe-only: it runs, and the audit trail records the rule that would have refused it.
      return new Decision(
          Verdict.ALLOW,
          analysis,
          refusal.ruleName(),
          true,
          OptionalLong.empty(),
          null,
          version,
          reusable);
    }
    Judgement deciding = observe != null ? observe : first;
    String rule = deciding == null ? "" : deciding.ruleName();
    if (limiting == null || observeOnly) {
      // Observe-only sets no row limit: going over it would refuse the statement.
      return new Decision(
          Verdict.ALLOW,
          analysis,
          rule,
          observe != null,
          OptionalLong.empty(),
          null,
          version,
          reusable);
    }
    return limitApproval(
        new Decision(
            Verdict.ALLOW,
            analysis,
            rule,
            observe != null,
            OptionalLong.of(maxRows(limiting)),
            overLimit(limiting),
            version,
            reusable),
        limiting);
  }

  /**
   * {@code decision} with the approval a change over its row limit waits for, when {@code
   * limiting}'s rule says {@code over_max_rows: require_approval}.
   */
  private static Decision limitApproval(Decision decision, Judgement limiting) {
    if (limiting == null || !limiting.rule().orElseThrow().approvesOverMaxRows()) {
      return decision;
    }
    return decision.withRowLimitApproval(limiting.rule().get().approvalRequirement());
  }

  /**
   * Whether one break-glass approval may lift every refusal of a text: each statement denied is
   * denied by a {@code break_glass} rule (not the policy's default, not a condition that failed to
   * evaluate), all of them and every statement needing approval name the same approver groups and
   * allow break-glass, and the statement did not come as a FunctionCall message, which runs a
   * function Warden cannot read by object id (Warden's integrity, like a {@code warden.*} setting,
   * which is refused before policy is asked: never break-glass). Only a simple query is offered it:
   * with the extended protocol a statement waiting for approval is parsed and bound upstream before
   * Warden asks at Execute (PostgreSQL starts a query's executor at Bind), and a pipeline may hold
   * several such statements; what a guardrail denies there is refused at Parse, as before.
   */
  private static boolean breakGlass(
      List<Judgement> denials, List<Judgement> approvals, StatementPath path) {
    if (denials.isEmpty() || path != StatementPath.SIMPLE) {
      return false;
    }
    Set<String> groups = denials.getFirst().approvalRequirement().approverGroups();
    for (Judgement j : denials) {
      if (!j.error().isEmpty()
          || !j.rule().map(Rule::breakGlass).orElse(false)
          || !j.approvalRequirement().approverGroups().equals(groups)) {
        return false;
      }
    }
    for (Judgement j : approvals) {
      ApprovalRequirement r = j.approvalRequirement();
      if (!r.breakGlass() || !r.approverGroups().equals(groups)) {
        return false;
      }
    }
    return true;
  }

  /** The refusal of a statement that changed more rows than {@code limiting}'s rule allows. */
  private static Verdict.Deny overLimit(Judgement limiting) {
    long limit = maxRows(limiting);
    Rule limitRule = limiting.rule().orElseThrow();
    return new Verdict.Deny(
        limitRule.sqlState(),
        "Warden refused this statement: it changed more than "
            + limit
            + (limit == 1 ? " row" : " rows")
            + "; Warden rolled it back (rule \""
            + limitRule.name()
            + "\")",
        limitRule.hint().isEmpty()
            ? "Change at most "
                + limit
                + (limit == 1 ? " row" : " rows")
                + " at a time (narrow the WHERE clause), or ask for approval."
            : limitRule.hint());
  }

  /**
   * {@code decision} with masking for {@code session}'s identity: its results' masks, or masking's
   * refusal. A decision policy refused stays as it is (nothing runs, nothing to mask), except one
   * that waits for approval: it runs once approved, masked as it would be if allowed, and masking's
   * refusal of it is final (no approval lifts it).
   */
  Decision masked(
      Policy current, Decision decision, SessionContext session, PreparedStatements prepared) {
    if (maps == DataMaps.NONE
        || (decision.verdict() instanceof Verdict.Deny
            && !decision.observed()
            && decision.approval().isEmpty())) {
      return decision;
    }
    String environment = session.environment().name();
    String database = session.database();
    Instant now = clock.instant();
    MaskingRules rules = current.masking();
    Optional<SessionMasking> sm =
        rules.forSession(session.identity(), environment, session.environment().tags(), now);
    DataMap basis = maps.current(environment, database).orElse(null);
    if (sm.isEmpty()) {
      return decision.withMasking(
          StatementResultMasking.exempt(
              maps,
              environment,
              database,
              basis,
              rules.validUntil(
                  session.identity(), environment, session.environment().tags(), now)));
    }
    SessionMasking masking = sm.get();
    DataMap overlay = basis == null ? null : masking.overlay(basis);
    MaskingJudge.Judgement judgement =
        MaskingJudge.judge(
            maskingUnits(decision.analysis(), prepared), overlay, masking.denyInference());
    StatementResultMasking result =
        StatementResultMasking.masked(
            maps, environment, database, masking, basis, overlay, judgement);
    if (judgement.refusal().isEmpty() || decision.observed()) {
      return decision.withMasking(result);
    }
    MaskingJudge.Refusal refusal = judgement.refusal().get();
    if (observedEnvironments.contains(environment)) {
      // Observe-only: it runs, masked, and the audit trail records that masking would refuse it.
      return new Decision(
          Verdict.ALLOW,
          decision.analysis(),
          MASKING_RULE,
          true,
          OptionalLong.empty(),
          null,
          decision.policyVersion(),
          decision.reusable(),
          result);
    }
    return new Decision(
        new Verdict.Deny(MASKING_SQLSTATE, refusal.message(), refusal.hint()),
        decision.analysis(),
        MASKING_RULE,
        false,
        OptionalLong.empty(),
        null,
        decision.policyVersion(),
        decision.reusable(),
        result);
  }

  /**
   * Whether {@code decision}'s masking still holds; a decision without masking of ours holds when
   * nothing is masked here or it is a refusal (made before masking was looked at).
   */
  private boolean maskingHolds(Decision decision) {
    if (maps == DataMaps.NONE) {
      return true;
    }
    if (decision.masking() instanceof StatementResultMasking m) {
      return m.holds(clock);
    }
    return !(decision.verdict() instanceof Verdict.Allow);
  }

  /**
   * The statements masking judges for {@code analysis}: each statement, and with an EXECUTE what it
   * may run (a PREPARE's statement is the judge's to find).
   */
  private static List<Statement> maskingUnits(Analysis analysis, PreparedStatements prepared) {
    List<Statement> out = new ArrayList<>();
    PreparedStatements sameText = new PreparedStatements();
    for (Statement statement : analysis.statements()) {
      if (isPrepare(statement) && statement.inner().isPresent()) {
        sameText.prepared(statement.preparedName(), statement.inner().get());
      }
      out.add(statement); // an EXECUTE's results are described by a statement not in the text
      if (isExecute(statement)) {
        out.addAll(units(statement, prepared, sameText));
      }
    }
    return out;
  }

  /**
   * Whether any statement of {@code analysis} changes a {@code warden.*} setting: each statement
   * and those inside it (a PREPARE's, an EXPLAIN's, a CREATE TABLE AS's query), and what an EXECUTE
   * may run.
   */
  static boolean changesIdentitySetting(Analysis analysis, PreparedStatements prepared) {
    PreparedStatements sameText = new PreparedStatements();
    for (Statement statement : analysis.statements()) {
      if (isPrepare(statement) && statement.inner().isPresent()) {
        sameText.prepared(statement.preparedName(), statement.inner().get());
      }
      for (Statement unit : units(statement, prepared, sameText)) {
        for (Statement s = unit; s != null; s = s.inner().orElse(null)) {
          if (s.has(StatementFlag.CHANGES_IDENTITY_SETTING)) {
            return true;
          }
        }
      }
    }
    return false;
  }

  /**
   * Why a statement of {@code analysis} that sets {@code warden.reason} is refused, if it is: the
   * proxy remembers a reason once the server confirms the SET, which it can tell only for a SET for
   * the session sent on its own (a reset, also by RESET ALL or DISCARD ALL among other statements,
   * is forgotten as it is sent); and a reason is at most {@link IdentitySettings#MAX_REASON_LENGTH}
   * characters, as a reason comment is.
   */
  static Optional<Verdict.Deny> reasonSettingRefusal(Analysis analysis) {
    for (Statement s : analysis.statements()) {
      if (s.reasonSetting().isEmpty()) {
        continue;
      }
      ReasonSetting reason = s.reasonSetting().get();
      if (reason.local()) {
        return Optional.of(REASON_SETTING_LOCAL);
      }
      if (reason.value().isEmpty()) {
        continue;
      }
      if (analysis.multiStatement()) {
        return Optional.of(REASON_SETTING_WITH_OTHERS);
      }
      int length = reason.value().get().length();
      if (length > IdentitySettings.MAX_REASON_LENGTH) {
        return Optional.of(
            new Verdict.Deny(
                "22023",
                "Warden refused this statement: the reason is "
                    + length
                    + " characters long, and warden.reason holds at most "
                    + IdentitySettings.MAX_REASON_LENGTH
                    + " (rule \""
                    + REASON_SETTING_RULE
                    + "\")",
                "Give a shorter reason, such as the ticket it is for (a /* reason: ... */"
                    + " comment has the same limit)."));
      }
    }
    return Optional.empty();
  }

  private static long maxRows(Judgement j) {
    return j.rule().orElseThrow().maxRows().orElseThrow();
  }

  /** The statements judged for {@code statement}: an EXECUTE stands for what it may run. */
  private static List<Statement> units(
      Statement statement, PreparedStatements prepared, PreparedStatements sameText) {
    if (isExecute(statement)) {
      List<Statement> candidates = new ArrayList<>(prepared.lookup(statement.preparedName()));
      for (Statement s : sameText.lookup(statement.preparedName())) {
        if (!candidates.contains(s)) {
          candidates.add(s);
        }
      }
      if (candidates.isEmpty()) {
        return List.of(
            Statement.unknown(
                "EXECUTE",
                "EXECUTE "
                    + statement.preparedName()
                    + ": Warden did not see this prepared statement being prepared"));
      }
      return candidates;
    }
    if (statement.inner().isPresent() && isPrepare(statement)) {
      return List.of(statement, statement.inner().get());
    }
    return List.of(statement);
  }

  private static void remember(Analysis analysis, PreparedStatements prepared) {
    for (Statement s : analysis.statements()) {
      if (isPrepare(s) && s.inner().isPresent()) {
        prepared.prepared(s.preparedName(), s.inner().get());
      }
    }
  }

  /**
   * {@code analysis} with its relation names resolved through the session's catalogue snapshot; the
   * same instance for the same analysis and snapshot, so that decisions stay cached.
   */
  private Analysis resolved(Analysis analysis, Relations relations) {
    if (!relations.known()) {
      remember(analysis, analysis, relations);
      return analysis;
    }
    ResolvedKey key = new ResolvedKey(analysis, relations);
    Analysis known = resolvedAnalyses.get(key);
    if (known != null) {
      return known;
    }
    Analysis r = relations.resolve(analysis);
    if (resolvedAnalyses.size() >= DECISION_CACHE_LIMIT) {
      resolvedAnalyses.clear();
    }
    resolvedAnalyses.put(key, r);
    remember(r, analysis, relations);
    return r;
  }

  /** Records what {@code resolved} was resolved from, so that a recheck can resolve it again. */
  private void remember(Analysis resolved, Analysis from, Relations relations) {
    if (origins.size() >= DECISION_CACHE_LIMIT) {
      origins.clear(); // a decision whose origin is forgotten keeps its names as resolved
    }
    origins.put(new Same(resolved), new ResolvedKey(from, relations));
  }

  /** An analysis by identity. */
  private record Same(Analysis analysis) {
    @Override
    public boolean equals(Object o) {
      return o instanceof Same s && s.analysis == analysis;
    }

    @Override
    public int hashCode() {
      return System.identityHashCode(analysis);
    }
  }

  /** An analysis and a catalogue snapshot, both by identity. */
  private record ResolvedKey(Analysis analysis, Relations relations) {
    @Override
    public boolean equals(Object o) {
      return o instanceof ResolvedKey k && k.analysis == analysis && k.relations == relations;
    }

    @Override
    public int hashCode() {
      return 31 * System.identityHashCode(analysis) + System.identityHashCode(relations);
    }
  }

  /**
   * A decision's cache key: the analysis and the session by identity (the analyser returns the same
   * instance for a repeated text; a session's context is one object), and the path.
   */
  private static final class DecisionKey {
    private final Analysis analysis;
    private final SessionContext session;
    private final StatementPath path;
    private final Relations relations;
    private final int hash;

    DecisionKey(
        Analysis analysis, SessionContext session, StatementPath path, Relations relations) {
      this.analysis = analysis;
      this.session = session;
      this.path = path;
      this.relations = relations;
      this.hash =
          31 * (31 * System.identityHashCode(analysis) + System.identityHashCode(session))
              + path.ordinal();
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof DecisionKey k
          && k.analysis == analysis
          && k.session == session
          && k.path == path
          && k.relations == relations;
    }

    @Override
    public int hashCode() {
      return hash;
    }
  }

  private static boolean isExecute(Statement s) {
    return s.command().equals("EXECUTE") && !s.preparedName().isEmpty();
  }

  private static boolean isPrepare(Statement s) {
    return s.command().equals("PREPARE") && !s.preparedName().isEmpty();
  }

  /**
   * A FunctionCall message: no SQL to analyse, only a function's object id. A call of {@code
   * set_config} by its id is marked as changing a {@code warden.*} setting: its arguments are not
   * analysed, so the name it sets is unknown.
   */
  static Analysis functionCall(long oid) {
    if (oid == SET_CONFIG_OID) {
      return new Analysis(
          List.of(
              new Statement(
                  StatementKind.UNKNOWN,
                  "FUNCTION CALL",
                  Set.of(),
                  Set.of(),
                  Set.of(),
                  Set.of(),
                  Set.of("pg_catalog.set_config"),
                  true,
                  false,
                  Set.of(StatementFlag.CHANGES_IDENTITY_SETTING),
                  "a FunctionCall message calls set_config (OID "
                      + oid
                      + ") directly, with arguments Warden does not analyse",
                  "",
                  Optional.empty())),
          "");
    }
    return new Analysis(
        List.of(
            Statement.unknown(
                "FUNCTION CALL",
                "a FunctionCall message calls the function with OID "
                    + oid
                    + " directly, with no SQL to analyse")),
        "");
  }

  private static Decision refused(Analysis analysis, String why, long version) {
    return new Decision(
        new Verdict.Deny(
            Rule.DEFAULT_SQLSTATE,
            "Warden refused this statement: " + why,
            "This is a fault in Warden, not in the statement: report it to a Warden"
                + " administrator."),
        analysis,
        "",
        false,
        OptionalLong.empty(),
        null,
        version,
        false);
  }
}
