package dev.warden.proxy.postgres;

import dev.warden.core.audit.AuditDurability;
import dev.warden.core.audit.Durability;
import dev.warden.core.audit.StatementIntent;
import dev.warden.core.gate.ApprovalGate;
import dev.warden.core.gate.Decision;
import dev.warden.core.gate.Gatekeeper;
import dev.warden.core.gate.StatementPath;
import dev.warden.core.gate.StatementRequest;
import dev.warden.core.gate.Verdict;
import dev.warden.core.masking.DataMaps;
import dev.warden.core.masking.ResultMasking;
import dev.warden.core.statement.LexicalSettings;
import dev.warden.core.statement.ReasonSetting;
import dev.warden.core.statement.Relations;
import dev.warden.core.statement.Statement;
import dev.warden.core.statement.StatementFlag;
import dev.warden.core.statement.StatementKind;
import dev.warden.protocol.postgres.Bind;
import dev.warden.protocol.postgres.Close;
import dev.warden.protocol.postgres.Describe;
import dev.warden.protocol.postgres.Execute;
import dev.warden.protocol.postgres.Frames;
import dev.warden.protocol.postgres.FrontendMessage;
import dev.warden.protocol.postgres.FrontendMessages;
import dev.warden.protocol.postgres.FunctionCall;
import dev.warden.protocol.postgres.Limits;
import dev.warden.protocol.postgres.Parse;
import dev.warden.protocol.postgres.ProtocolException;
import dev.warden.protocol.postgres.Query;
import dev.warden.protocol.postgres.Sync;
import dev.warden.protocol.postgres.Terminate;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import java.nio.charset.Charset;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The client-to-upstream leg of a ready session. Every statement-bearing message (Query, Parse,
 * FunctionCall) is decoded and put to the decision point before its bytes go upstream; everything
 * else is streamed.
 *
 * <p>A refused message is not simply dropped: it is replaced by a message of the same kind whose
 * text is a per-session marker that PostgreSQL rejects as a syntax error before executing anything
 * (a Query for Query and FunctionCall, a Parse of the same statement name for Parse). The server
 * then does exactly what it does after any error at that point, in any pipeline, COPY or
 * transaction state: it aborts the transaction block, discards the rest of an extended batch up to
 * Sync, and answers with ReadyForQuery where it would have. {@link BackendRelay} swaps the server's
 * syntax error for the refusal. Warden therefore never has to predict the server's response stream
 * (THREATS S06: "same error semantics as the server").
 */
final class FrontendRelay extends RelayHandler {
  private static final Logger log = LoggerFactory.getLogger(FrontendRelay.class);

  private final ProxySession session;

  private static final byte[] TERMINATE = {'X', 0, 0, 0, 4};

  private final Gatekeeper gatekeeper;
  private final UpstreamPool upstreamPool;
  private ChannelHandlerContext ctx;

  /** The statement whose message is held until its intent is durable, if one is. */
  private StatementAudit held;

  private final LastText lastParse = new LastText();
  private final LastText lastQuery = new LastText();

  /** True between the first extended-protocol message of a batch and its Sync. */
  private boolean inBatch;

  /** True when the current batch ran transaction control: no row guard can join it. */
  private boolean batchHasTransactionControl;

  /** The row guard of the current extended-protocol batch, if a guarded Execute is in it. */
  private RowGuard batchGuard;

  FrontendRelay(
      ProxySession session, Gatekeeper gatekeeper, Limits limits, UpstreamPool upstreamPool) {
    super(limits.maxMessageBytes());
    this.session = session;
    this.gatekeeper = gatekeeper;
    this.upstreamPool = upstreamPool;
  }

  @Override
  Channel peer() {
    return session.upstream;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
  }

  /** Reads from the client again after a pause (a row-count guard has finished). */
  void resumeReading() {
    if (ctx != null) {
      resume(ctx);
    }
  }

  @Override
  Route route(byte type, long length) {
    Frames.checkFrontend(type, length, STREAMED);
    if (session.clientTerminated || session.terminating) {
      // Nothing after Terminate is read, as the server reads nothing; nor once Warden ends it.
      return Route.DISCARD;
    }
    return switch (type) {
      case Query.TYPE, Parse.TYPE, FunctionCall.TYPE, Execute.TYPE, Close.TYPE -> Route.INSPECT;
      case Bind.TYPE -> Route.PEEK;
      case Describe.TYPE -> {
        session.exchanges.add(Exchanges.DESCRIBE);
        inBatch = true;
        yield Route.STREAM;
      }
      case Sync.TYPE -> {
        if (batchGuard != null) {
          session.exchanges.add(Exchanges.SYNC, Exchanges.CLIENT, batchGuard.sync);
          batchGuard = null;
          pauseAfterThisMessage(); // the guard's COMMIT or ROLLBACK must come before anything else
        } else {
          session.exchanges.add(Exchanges.SYNC);
        }
        inBatch = false;
        batchHasTransactionControl = false;
        yield Route.STREAM;
      }
      case Terminate.TYPE -> {
        // Not forwarded: whether the upstream connection ends too is decided when the client
        // leaves (it may be reset and reused).
        session.clientTerminated = true;
        yield Route.DISCARD;
      }
      default -> Route.STREAM;
    };
  }

  @Override
  void onPeek(ChannelHandlerContext ctx, byte type, ByteBuf head, long length) {
    // Bind: the portal and statement names lead the message; the parameters are streamed (and their
    // first bytes read only when the audit trail records them).
    boolean whole = head.readableBytes() == length - 4;
    String portal = cString(head, whole, "portal name", text());
    String statement = cString(head, whole, "statement name", text());
    // An approval binds exactly the parameters; beyond the peeked head they are not known.
    boolean keep = session.approvals != ApprovalGate.NONE && session.names.needsApproval(statement);
    byte[] kept = null;
    if (keep && whole) {
      kept = new byte[head.readableBytes()];
      head.getBytes(head.readerIndex(), kept);
    }
    session.names.bound(
        portal,
        statement,
        session.audit.recordParameters() ? BindParameters.read(head, text()) : List.of());
    if (keep) {
      session.names.approvalParameters(portal, kept);
    }
    session.exchanges.add(Exchanges.BIND);
    inBatch = true;
  }

  /** The charset of the session's client encoding, in which statement text and names arrive. */
  private Charset text() {
    return session.charset();
  }

  private static String cString(ByteBuf head, boolean whole, String what, Charset text) {
    int nul = head.bytesBefore((byte) 0);
    if (nul < 0) {
      throw new ProtocolException(
          whole
              ? "Bind message: " + what + " is not NUL-terminated"
              : "Bind message: the portal and statement names exceed "
                  + PEEK_BYTES
                  + " bytes, Warden's limit");
    }
    if (nul == 0) {
      head.skipBytes(1);
      return ""; // the unnamed statement or portal: the common case
    }
    byte[] bytes = new byte[nul];
    head.readBytes(bytes);
    head.skipBytes(1);
    return FrontendMessages.decodeText(bytes, text, "Bind", what);
  }

  @Override
  Outcome onMessage(ChannelHandlerContext ctx, byte type, ByteBuf body) {
    if (type == Query.TYPE || type == Parse.TYPE || type == FunctionCall.TYPE) {
      CompletableFuture<?> map = dataMapPending();
      if (map != null) {
        // The first statement on a database (or the first after a schema change) waits for its
        // data map, so that what it returns is masked by the map of what is there now.
        return hold(ctx, body, map, again -> onMessage(ctx, type, again));
      }
    }
    return switch (type) {
      case Query.TYPE -> onQuery(ctx, body);
      case Parse.TYPE -> {
        if (!inBatch && body.isReadable() && body.getByte(body.readerIndex()) == 0) {
          // A Parse of the unnamed statement, outside a batch: the unnamed statement is about to
          // be replaced, and outside a transaction (claimCatalogueLoad checks) no portal is open,
          // so a Query of Warden's before it goes unnoticed.
          readCatalogueFirst();
        }
        inBatch = true;
        Decision decision;
        String name;
        String sql;
        if (lastParse.matches(body, session.lexical, session.relations())) {
          // The same Parse as the last one (a driver preparing the same statement again): judged
          // as before unless the policy changed, without decoding or analysing it again.
          decision =
              gatekeeper.recheck(
                  session.context, session.sqlPrepared, session.relations(), lastParse.decision);
          name = lastParse.name;
          sql = lastParse.text;
        } else {
          ByteBuf raw = body.duplicate(); // decoding moves body's reader index
          Parse parse = (Parse) FrontendMessages.decode(type, body, text());
          StatementRequest request =
              StatementRequest.sql(
                  session.context,
                  parse.sql(),
                  Optional.of(parse.statementName()),
                  StatementPath.PREPARED,
                  session.lexical,
                  session.sqlPrepared,
                  session.relations());
          decision = gatekeeper.decide(request);
          name = parse.statementName();
          sql = parse.sql();
          lastParse.remember(raw, session.lexical, session.relations(), decision, name, sql);
        }
        session.exchanges.add(Exchanges.PARSE);
        if (decision.verdict() instanceof Verdict.Deny deny && !awaitsApproval(decision)) {
          recordRefused(StatementPath.PREPARED, sql, name, decision);
          session.names.refused(name);
          yield refuse(ctx, deny, marker -> new Parse(name, marker, List.of()));
        }
        // A statement that needs approval is prepared (nothing runs) and asked about at Execute,
        // when its parameters are known.
        session.names.parsed(name, sql, decision);
        noteEffects(decision);
        yield Outcome.FORWARD;
      }
      case FunctionCall.TYPE -> {
        FunctionCall call = (FunctionCall) FrontendMessages.decode(type, body);
        StatementRequest request =
            StatementRequest.functionCall(
                session.context, Integer.toUnsignedLong(call.functionOid()), session.sqlPrepared);
        Decision decision = gatekeeper.decide(request);
        String text = "function call: oid " + Integer.toUnsignedString(call.functionOid());
        if (decision.verdict() instanceof Verdict.Deny deny) {
          recordRefused(StatementPath.FUNCTION_CALL, text, "", decision);
          session.exchanges.add(Exchanges.QUERY); // the marker goes as a Query
          yield refuse(ctx, deny, Query::new);
        }
        Recorded recorded =
            record(StatementPath.FUNCTION_CALL, text, "", decision, List.of(), decision.masking());
        yield afterIntent(
            ctx,
            body,
            recorded,
            Exchanges.QUERY, // the marker goes as a Query
            Query::new,
            () -> {
              session.exchanges.add(
                  Exchanges.FUNCTION_CALL, Exchanges.CLIENT, null, recorded.audit());
              return Outcome.FORWARD;
            });
      }
      case Execute.TYPE ->
          onExecute(ctx, body, (Execute) FrontendMessages.decode(type, body.duplicate()));
      case Close.TYPE -> {
        Close close = (Close) FrontendMessages.decode(type, body);
        inBatch = true;
        session.exchanges.add(Exchanges.CLOSE, Exchanges.CLIENT, close);
        yield Outcome.FORWARD;
      }
      default -> throw new ProtocolException("unexpected message type " + (char) type);
    };
  }

  /** Sends the catalogue query ahead of the message being inspected, if one is due. */
  private void readCatalogueFirst() {
    if (session.claimCatalogueLoad()) {
      forwardUpTo(currentMessageStart());
      session.sendCatalogueQuery(peer().alloc());
    }
  }

  private Outcome onQuery(ChannelHandlerContext ctx, ByteBuf body) {
    if (!inBatch) {
      // An idle moment the client cannot notice (a Query drops the unnamed statement and portal
      // anyway): read the catalogue again first if it is old.
      readCatalogueFirst();
    }
    Decision decision;
    String text;
    if (lastQuery.matches(body, session.lexical, session.relations())) {
      decision =
          gatekeeper.recheck(
              session.context, session.sqlPrepared, session.relations(), lastQuery.decision);
      text = lastQuery.text;
    } else {
      ByteBuf raw = body.duplicate(); // decoding moves body's reader index
      Query query = (Query) FrontendMessages.decode(Query.TYPE, body, text());
      StatementRequest request =
          StatementRequest.sql(
              session.context,
              query.sql(),
              Optional.empty(),
              StatementPath.SIMPLE,
              session.lexical,
              session.sqlPrepared,
              session.relations());
      decision = gatekeeper.decide(request);
      text = query.sql();
      lastQuery.remember(raw, session.lexical, session.relations(), decision, "", text);
    }
    if (awaitsApproval(decision)) {
      String sql = text;
      return awaitApproval(
          ctx,
          body,
          StatementPath.SIMPLE,
          sql,
          "",
          decision,
          List.of(),
          Exchanges.QUERY,
          Query::new,
          (approved, again) -> runQuery(ctx, again, approved, sql));
    }
    if (decision.verdict() instanceof Verdict.Deny deny) {
      recordRefused(StatementPath.SIMPLE, text, "", decision);
      session.exchanges.add(Exchanges.QUERY);
      return refuse(ctx, deny, Query::new);
    }
    if (mayHaveOverLimitApproval(decision, text, List.of())) {
      Decision limited = decision;
      String sql = text;
      return useOverLimitApproval(
          ctx, body, limited, sql, List.of(), (now, again) -> runQuery(ctx, again, now, sql));
    }
    return runQuery(ctx, body, decision, text);
  }

  /** Records an allowed Query's intent and forwards it once the record is durable enough. */
  private Outcome runQuery(
      ChannelHandlerContext ctx, ByteBuf body, Decision decision, String text) {
    Recorded recorded =
        record(StatementPath.SIMPLE, text, "", decision, List.of(), decision.masking());
    return afterIntent(
        ctx,
        body,
        recorded,
        Exchanges.QUERY,
        Query::new,
        () -> forwardQuery(ctx, decision, recorded.audit(), text));
  }

  /** Forwards an allowed Query whose intent is recorded, with a row guard where it needs one. */
  private Outcome forwardQuery(
      ChannelHandlerContext ctx, Decision decision, StatementAudit audit, String text) {
    boolean transactionControl = decision.analysis().kinds().contains(StatementKind.TRANSACTION);
    if (decision.rowLimit().isPresent()) {
      if (transactionControl || inBatch) {
        session.exchanges.add(Exchanges.QUERY);
        return refuse(ctx, unguardable(transactionControl), Query::new, audit);
      }
      RowGuard guard = new RowGuard();
      beginGuard(guard, false);
      RowGuard.Limit limit =
          new RowGuard.Limit(
              decision.rowLimit().getAsLong(),
              decision.rowLimitDenial(),
              overLimit(decision, text, List.of()));
      session.exchanges.add(Exchanges.QUERY, Exchanges.CLIENT, guard.statement(limit), audit);
      noteEffects(decision);
      return Outcome.FORWARD_THEN_PAUSE; // the guard's COMMIT or ROLLBACK comes next upstream
    }
    if (inBatch && transactionControl) {
      batchHasTransactionControl = true;
      if (batchGuard != null) {
        session.exchanges.add(Exchanges.QUERY);
        return refuse(ctx, unguardable(true), Query::new, audit);
      }
    }
    session.exchanges.add(Exchanges.QUERY, Exchanges.CLIENT, watch(decision), audit);
    noteEffects(decision);
    return Outcome.FORWARD;
  }

  private Outcome onExecute(ChannelHandlerContext ctx, ByteBuf body, Execute execute) {
    inBatch = true;
    List<StatementNames.Parsed> candidates = session.names.portal(execute.portalName());
    if (candidates == null || candidates.isEmpty()) {
      // Not a portal Warden saw bound: a cursor opened by DECLARE (judged and recorded then), or
      // none at all, or one bound to a statement that does not exist (the server says so).
      session.exchanges.add(Exchanges.EXECUTE);
      if (session.masking != null) {
        // Its rows would come with no statement of Warden's to mask them by.
        return refuse(ctx, UNMASKABLE_PORTAL, marker -> new Execute(marker, 0));
      }
      return Outcome.FORWARD;
    }
    String portal = execute.portalName();
    String text = texts(candidates);
    List<Decision> decisions = new ArrayList<>(candidates.size());
    int needsApproval = -1;
    for (StatementNames.Parsed earlier : candidates) {
      Decision now =
          gatekeeper.recheck(
              session.context, session.sqlPrepared, session.relations(), earlier.decision());
      if (awaitsApproval(now) && needsApproval < 0 && candidates.size() == 1) {
        needsApproval = decisions.size();
      } else if (now.verdict() instanceof Verdict.Deny deny) {
        recordRefused(StatementPath.PREPARED, text, portal, now);
        session.exchanges.add(Exchanges.EXECUTE);
        return refuse(ctx, deny, marker -> new Execute(marker, 0));
      }
      decisions.add(now);
    }
    if (needsApproval >= 0) {
      byte[] parameters = session.names.approvalParameters(portal);
      if (parameters == null) {
        Decision now = decisions.get(needsApproval);
        recordRefused(StatementPath.PREPARED, text, portal, now);
        session.exchanges.add(Exchanges.EXECUTE);
        return refuse(ctx, APPROVAL_PARAMETERS_TOO_LARGE, marker -> new Execute(marker, 0));
      }
      int index = needsApproval;
      List<byte[]> bound = new ArrayList<>(1);
      bound.add(parameters);
      return awaitApproval(
          ctx,
          body,
          StatementPath.PREPARED,
          text,
          portal,
          decisions.get(index),
          bound,
          Exchanges.EXECUTE,
          marker -> new Execute(marker, 0),
          (approved, again) -> {
            decisions.set(index, approved);
            return runExecute(ctx, again, decisions, text, portal);
          });
    }
    if (decisions.size() == 1) {
      byte[] parameters = session.names.approvalParameters(portal);
      List<byte[]> bound = new ArrayList<>(1);
      bound.add(parameters);
      if (parameters != null && mayHaveOverLimitApproval(decisions.getFirst(), text, bound)) {
        return useOverLimitApproval(
            ctx,
            body,
            decisions.getFirst(),
            text,
            bound,
            (now, again) -> {
              decisions.set(0, now);
              return runExecute(ctx, again, decisions, text, portal);
            });
      }
    }
    return runExecute(ctx, body, decisions, text, portal);
  }

  /**
   * Whether {@code decision}'s change over its row limit would wait for approval here, and a
   * request for exactly this statement may be open: the gate answers from memory, so that the
   * statements with no request (nearly all) cost no more than a lookup.
   */
  private boolean mayHaveOverLimitApproval(
      Decision decision, String text, List<byte[]> parameters) {
    return decision.verdict() instanceof Verdict.Allow
        && decision.rowLimitApproval().isPresent()
        && session.approvals != ApprovalGate.NONE
        && session.approvals.mayHaveApproval(session.context, text, parameters);
  }

  /**
   * Uses an approval of a change over its row limit for exactly this statement, holding it (and
   * everything after it) while the gate looks: with one, it runs once without the limit; without,
   * it runs as decided, under its limit.
   */
  private Outcome useOverLimitApproval(
      ChannelHandlerContext ctx,
      ByteBuf body,
      Decision decision,
      String text,
      List<byte[]> parameters,
      Approved then) {
    CompletableFuture<Optional<ApprovalGate.Answer.Approved>> used;
    try {
      used = session.approvals.useApproval(session.context, text, parameters);
    } catch (RuntimeException e) {
      used = CompletableFuture.failedFuture(e);
    }
    CompletableFuture<Optional<ApprovalGate.Answer.Approved>> asked = used;
    return hold(
        ctx,
        body,
        asked,
        again -> {
          if (asked.isCompletedExceptionally()) {
            // No approval could be looked for: it runs under its limit, as without one.
            log.warn(
                "session {}: looking for an approval over a row limit failed: {}",
                session.context.id(),
                asked.exceptionNow().toString());
            return then.run(decision, again);
          }
          Optional<ApprovalGate.Answer.Approved> ok = asked.join();
          return then.run(ok.isPresent() ? overLimitApproved(decision, ok.get()) : decision, again);
        });
  }

  /**
   * The decision a statement runs with once its change over the row limit is approved: without the
   * limit, never reused, its rule naming the approval and the request.
   */
  private static Decision overLimitApproved(Decision decision, ApprovalGate.Answer.Approved ok) {
    return new Decision(
        Verdict.ALLOW,
        decision.analysis(),
        decision.rule() + " (over its row limit: " + ok.how() + ", request " + ok.requestId() + ")",
        decision.observed(),
        OptionalLong.empty(),
        null,
        decision.policyVersion(),
        false,
        decision.masking());
  }

  /**
   * What the backend relay asks the gate about when {@code decision}'s statement goes over its row
   * limit; null when that is refused for good (no approval for it, or no gate here).
   */
  private RowGuard.OverLimit overLimit(Decision decision, String text, List<byte[]> parameters) {
    if (decision.rowLimitApproval().isEmpty() || session.approvals == ApprovalGate.NONE) {
      return null;
    }
    return new RowGuard.OverLimit(decision, text, parameters);
  }

  /** Records an allowed Execute's intent and forwards it once the record is durable enough. */
  private Outcome runExecute(
      ChannelHandlerContext ctx,
      ByteBuf body,
      List<Decision> decisions,
      String text,
      String portal) {
    Recorded recorded =
        record(
            StatementPath.PREPARED,
            text,
            portal,
            decisions.getLast(),
            session.names.parameters(portal),
            CombinedMasking.of(decisions));
    return afterIntent(
        ctx,
        body,
        recorded,
        Exchanges.EXECUTE,
        marker -> new Execute(marker, 0),
        () -> forwardExecute(ctx, decisions, recorded.audit(), portal, text));
  }

  /** Whether {@code decision} is a refusal that an approval can lift, here. */
  private boolean awaitsApproval(Decision decision) {
    return decision.approval().isPresent() && session.approvals != ApprovalGate.NONE;
  }

  static final Verdict.Deny APPROVAL_PARAMETERS_TOO_LARGE =
      new Verdict.Deny(
          "42501",
          "Warden refused this statement: it needs approval, and an approval is bound to its exact"
              + " parameters, which are larger than Warden reads ("
              + RelayHandler.PEEK_BYTES
              + " bytes in all)",
          "Send it with smaller parameters, or as a simple query with the values in its text.");

  /** What the statement waiting for approval does once the answer is in. */
  private interface Approved {
    Outcome run(Decision allowed, ByteBuf body);
  }

  /**
   * Asks the approval gate about a statement that needs approval, holding it (and everything after
   * it) until the answer: run it with {@code then} as an allowed statement, or refuse it with the
   * gate's message (the request's id and what to do). In hold mode the gate tells the client it
   * waits with a notice, which goes out only when nothing else is on its way to the client.
   */
  private Outcome awaitApproval(
      ChannelHandlerContext ctx,
      ByteBuf body,
      StatementPath path,
      String text,
      String name,
      Decision decision,
      List<byte[]> parameters,
      byte refusedAs,
      Function<String, FrontendMessage> substitute,
      Approved then) {
    CompletableFuture<ApprovalGate.Answer> answer;
    try {
      answer =
          session.approvals.check(
              new ApprovalGate.Question(
                  session.context,
                  decision,
                  decision.approval().orElseThrow(),
                  (Verdict.Deny) decision.verdict(),
                  text,
                  parameters,
                  session.reason(),
                  OptionalLong.empty(),
                  notice -> ctx.executor().execute(() -> session.notice(notice))));
    } catch (RuntimeException e) {
      answer = CompletableFuture.failedFuture(e);
    }
    CompletableFuture<ApprovalGate.Answer> asked = answer;
    return hold(
        ctx,
        body,
        asked,
        again -> {
          ApprovalGate.Answer result;
          if (asked.isCompletedExceptionally()) {
            Throwable why = asked.exceptionNow();
            log.error("session {}: approval check failed", session.context.id(), why);
            result =
                new ApprovalGate.Answer.Refused(
                    new Verdict.Deny(
                        "58000",
                        "Warden refused this statement: it needs approval, and the approval"
                            + " could not be checked ("
                            + why.getMessage()
                            + ")",
                        "Nothing was run. Try again; if it persists, ask an administrator."),
                    "");
          } else {
            result = asked.join();
          }
          return switch (result) {
            case ApprovalGate.Answer.Approved ok -> then.run(approved(decision, ok), again);
            case ApprovalGate.Answer.Refused no -> {
              recordRefused(path, text, name, refusedWith(decision, no));
              session.exchanges.add(refusedAs);
              yield refuse(ctx, no.deny(), substitute);
            }
          };
        });
  }

  /** The decision a statement runs with once approved: allowed, never reused for another run. */
  private static Decision approved(Decision decision, ApprovalGate.Answer.Approved ok) {
    return new Decision(
        Verdict.ALLOW,
        decision.analysis(),
        decision.rule() + " (" + ok.how() + ", request " + ok.requestId() + ")",
        false,
        decision.rowLimit(),
        decision.rowLimitDenial(),
        decision.policyVersion(),
        false,
        decision.masking(),
        Optional.empty(),
        decision.rowLimitApproval());
  }

  /** The decision recorded for a statement refused while it waits for (or lacks) approval. */
  private static Decision refusedWith(Decision decision, ApprovalGate.Answer.Refused no) {
    return new Decision(
        no.deny(),
        decision.analysis(),
        no.requestId().isEmpty()
            ? decision.rule()
            : decision.rule() + " (approval request " + no.requestId() + ")",
        false,
        decision.rowLimit(),
        decision.rowLimitDenial(),
        decision.policyVersion(),
        false,
        decision.masking());
  }

  /** The text of what a portal may run: one statement, or (rarely) each it may stand for. */
  private static String texts(List<StatementNames.Parsed> candidates) {
    if (candidates.size() == 1) {
      return candidates.getFirst().text();
    }
    StringBuilder all = new StringBuilder();
    for (StatementNames.Parsed p : candidates) {
      if (!all.isEmpty()) {
        all.append("\n-- or, if the server kept an earlier definition:\n");
      }
      all.append(p.text());
    }
    return all.toString();
  }

  /** Forwards an allowed Execute whose intent is recorded, with a row guard where it needs one. */
  private Outcome forwardExecute(
      ChannelHandlerContext ctx,
      List<Decision> decisions,
      StatementAudit audit,
      String portal,
      String text) {
    long limit = Long.MAX_VALUE;
    Verdict.Deny limitDenial = null;
    boolean transactionControl = false;
    Object watch = null;
    for (Decision now : decisions) {
      if (now.rowLimit().isPresent() && now.rowLimit().getAsLong() < limit) {
        limit = now.rowLimit().getAsLong();
        limitDenial = now.rowLimitDenial();
      }
      transactionControl |= now.analysis().kinds().contains(StatementKind.TRANSACTION);
      if (watch == null) {
        watch = watch(now);
      }
    }
    if (transactionControl) {
      if (batchGuard != null) {
        session.exchanges.add(Exchanges.EXECUTE);
        return refuse(ctx, unguardable(true), marker -> new Execute(marker, 0), audit);
      }
      batchHasTransactionControl = true;
    }
    if (limitDenial != null) {
      if (batchHasTransactionControl) {
        session.exchanges.add(Exchanges.EXECUTE);
        return refuse(ctx, unguardable(true), marker -> new Execute(marker, 0), audit);
      }
      if (batchGuard == null) {
        batchGuard = new RowGuard();
        beginGuard(batchGuard, true);
      }
      RowGuard.OverLimit over = null;
      byte[] parameters = session.names.approvalParameters(portal);
      if (decisions.size() == 1 && parameters != null) {
        List<byte[]> bound = new ArrayList<>(1);
        bound.add(parameters);
        over = overLimit(decisions.getFirst(), text, bound);
      }
      RowGuard.Limit guarded = new RowGuard.Limit(limit, limitDenial, over);
      describeForMasking(portal, audit);
      session.exchanges.add(
          Exchanges.EXECUTE, Exchanges.CLIENT, batchGuard.statement(guarded), audit);
      return Outcome.FORWARD;
    }
    describeForMasking(portal, audit);
    session.exchanges.add(Exchanges.EXECUTE, Exchanges.CLIENT, watch, audit);
    return Outcome.FORWARD;
  }

  /**
   * Sends a Describe of {@code portal} ahead of the Execute being inspected when its results are
   * masked: the rows of an Execute come without a description unless the client asked for one, and
   * Warden must know where each column comes from. The answer is Warden's (see {@link
   * BackendRelay}); an error about the portal reaches the client, as the Execute's would have.
   */
  private void describeForMasking(String portal, StatementAudit audit) {
    if (!audit.masking.inspectsResults()) {
      return;
    }
    forwardUpTo(currentMessageStart());
    ByteBuf out = peer().alloc().buffer(7 + portal.length() * 4);
    new Describe((byte) 'P', portal).encode(out);
    peer().write(out, peer().voidPromise());
    session.exchanges.add(Exchanges.DESCRIBE, Exchanges.WARDEN_DESCRIBE, audit);
  }

  /** An Execute of a portal Warden did not see bound, in a session whose results are masked. */
  static final Verdict.Deny UNMASKABLE_PORTAL =
      new Verdict.Deny(
          "42501",
          "Warden refused this Execute: it cannot mask the results of a portal it did not see"
              + " bound (such as a cursor opened with DECLARE)",
          "Read the cursor with FETCH, whose results Warden masks.");

  /**
   * The data map build the next statement must wait for, or null when the session's database has a
   * current map (or none is kept). A build that failed is not waited for again here: the decision
   * point then masks every column (fail closed).
   */
  private CompletableFuture<?> dataMapPending() {
    DataMaps maps = session.dataMaps;
    if (maps == DataMaps.NONE) {
      return null;
    }
    CompletableFuture<?> ready =
        maps.ready(session.context.environment().name(), session.context.database());
    if (!ready.isDone()) {
      return ready;
    }
    if (ready.isCompletedExceptionally() && !dataMapFailureLogged) {
      dataMapFailureLogged = true;
      log.warn(
          "session {}: no data map for database \"{}\": every column is masked for identities"
              + " that are not exempt ({})",
          session.context.id(),
          session.context.database(),
          ready.exceptionNow().getMessage());
    }
    return null;
  }

  private boolean dataMapFailureLogged;

  /**
   * Sends the guard's BEGIN and SAVEPOINT upstream, ahead of the message being inspected: as one
   * Query before a simple query, as extended-protocol messages on a statement and portal of
   * Warden's own inside a batch (a Query there would drop the client's unnamed portal).
   */
  private void beginGuard(RowGuard guard, boolean extended) {
    forwardUpTo(currentMessageStart());
    ByteBuf out = peer().alloc().buffer(256);
    if (!extended) {
      new Query(RowGuard.BEGIN).encode(out);
      session.exchanges.add(Exchanges.QUERY, Exchanges.WARDEN_SILENT, guard.begin);
    } else {
      String name = session.guardName;
      for (String sql : new String[] {"BEGIN", "SAVEPOINT " + RowGuard.SAVEPOINT}) {
        new Parse(name, sql, List.of()).encode(out);
        new Bind(name, name, List.of(), List.of(), List.of()).encode(out);
        new Execute(name, 0).encode(out);
        new Close((byte) 'P', name).encode(out);
        new Close((byte) 'S', name).encode(out);
        Exchanges due = session.exchanges;
        due.add(Exchanges.PARSE, Exchanges.WARDEN_SILENT, null);
        due.add(Exchanges.BIND, Exchanges.WARDEN_SILENT, null);
        due.add(
            Exchanges.EXECUTE, Exchanges.WARDEN_SILENT, sql.equals("BEGIN") ? null : guard.begin);
        due.add(Exchanges.CLOSE, Exchanges.WARDEN_SILENT, null);
        due.add(Exchanges.CLOSE, Exchanges.WARDEN_SILENT, null);
      }
    }
    peer().write(out, peer().voidPromise());
  }

  private static Verdict.Deny unguardable(boolean transactionControl) {
    return transactionControl
        ? new Verdict.Deny(
            "0A000",
            "Warden refused this statement: a statement with a row limit cannot share a query"
                + " string or pipeline with transaction control (BEGIN, COMMIT, ROLLBACK, ...)",
            "Send the row-limited statement on its own, and the transaction control separately.")
        : new Verdict.Deny(
            "0A000",
            "Warden refused this statement: a statement with a row limit cannot be sent as a"
                + " simple query in the middle of an extended-protocol batch",
            "Send Sync before it, or send it through the extended protocol.");
  }

  /**
   * The payload of an allowed statement's entry, asking the backend relay to read its
   * CommandComplete tags: a {@code SET warden.reason} to remember once the server completes it, or
   * tags that drop prepared statements; null when there is nothing to read. A reset of the reason
   * ({@code RESET warden.reason}, {@code RESET ALL}, {@code DISCARD ALL}) is taken as it is sent.
   */
  private Object watch(Decision decision) {
    List<Statement> statements = decision.analysis().statements();
    Object watch = null;
    for (Statement s : statements) {
      if (s.reasonSetting().isPresent()) {
        ReasonSetting reason = s.reasonSetting().get();
        if (reason.value().isPresent() && !reason.local() && statements.size() == 1) {
          // Alone in its text, so the text's one CommandComplete is the SET's (the policy refuses
          // it among other statements, and SET LOCAL).
          return session.reasonSent(reason.value().get());
        }
        session.reasonReset(); // a reset, or a SET Warden cannot follow: it then knows none
      }
      if (watch == null
          && (s.command().startsWith("DISCARD") || s.command().startsWith("DEALLOCATE"))) {
        watch = BackendRelay.WATCH_DEALLOCATE;
      }
    }
    return watch;
  }

  /** Notes what an allowed statement changes in Warden's view of the session. */
  private void noteEffects(Decision decision) {
    for (Statement s : decision.analysis().statements()) {
      if (s.has(StatementFlag.CHANGES_SEARCH_PATH)) {
        // Unqualified names may now resolve elsewhere: judge them as written from here on.
        session.searchPathChanged = true;
      }
      if ((s.kind() == StatementKind.DDL || s.kind() == StatementKind.UNKNOWN)
          && session.catalogs != null) {
        session.catalogs.invalidate(session.catalogKey);
      }
      if (s.kind() == StatementKind.DDL || s.kind() == StatementKind.UNKNOWN) {
        // The data map is rebuilt once the change is visible to others: when the server next
        // reports no transaction open (see BackendRelay).
        session.schemaChangePending = true;
      }
      if (s.has(StatementFlag.CHANGES_LEXING) || s.kind() == StatementKind.UNKNOWN) {
        // Until the server has answered, the settings it will lex the next statement with are
        // not known for sure.
        session.lexical = session.lexical.withSettled(false);
      }
    }
  }

  /** Refuses a statement whose intent was recorded as allowed; its outcome says refused. */
  private Outcome refuse(
      ChannelHandlerContext ctx,
      Verdict.Deny deny,
      Function<String, FrontendMessage> substitute,
      StatementAudit audit) {
    audit.refused(deny.sqlState());
    audit.finish();
    return refuse(ctx, deny, substitute);
  }

  /** An intent handed to the audit trail, and the future that says when it is durable enough. */
  private record Recorded(StatementAudit audit, CompletableFuture<Void> durable) {}

  /** Records the intent of an allowed statement before any of it goes upstream. */
  private Recorded record(
      StatementPath path,
      String text,
      String name,
      Decision decision,
      List<String> parameters,
      ResultMasking masking) {
    if (masking.active()) {
      session.masking = masking;
    }
    Durability durability = AuditDurability.of(decision.analysis(), session.audit.strict());
    long number = ++session.statements;
    session.running = true;
    // Not ProxyAudit.append: a failure here refuses the statement, which afterIntent logs.
    CompletableFuture<Void> durable =
        session
            .audit
            .trail()
            .append(intent(number, path, text, name, decision, durability, parameters), durability);
    return new Recorded(new StatementAudit(session, number, System.nanoTime(), masking), durable);
  }

  /** Records a refused statement; the refusal stands whether or not the record can be made. */
  private void recordRefused(StatementPath path, String text, String name, Decision decision) {
    session.audit.append(
        intent(++session.statements, path, text, name, decision, Durability.BOUNDED, List.of()),
        Durability.BOUNDED);
  }

  private StatementIntent intent(
      long number,
      StatementPath path,
      String text,
      String name,
      Decision decision,
      Durability durability,
      List<String> parameters) {
    StatementIntent intent =
        new StatementIntent(
            session.audit.clock().instant(),
            session.context,
            number,
            path,
            text,
            session.lexical,
            name,
            decision,
            durability,
            parameters);
    session.lastIntent = intent;
    session.counters.statement(decision);
    return intent;
  }

  /**
   * Goes on with a statement once its intent is durable enough: at once for a plain read, after the
   * fsync for anything that changes something (holding the message, and everything after it,
   * meanwhile). When the trail cannot record it, the statement is refused instead: nothing runs
   * unrecorded.
   */
  private Outcome afterIntent(
      ChannelHandlerContext ctx,
      ByteBuf body,
      Recorded recorded,
      byte refusedAs,
      Function<String, FrontendMessage> substitute,
      Supplier<Outcome> proceed) {
    held = recorded.audit();
    return hold(
        ctx,
        body,
        recorded.durable(),
        again -> {
          held = null;
          if (recorded.durable().isCompletedExceptionally()) {
            String why = recorded.durable().exceptionNow().getMessage();
            log.error("session {}: statement refused: {}", session.context.id(), why);
            session.exchanges.add(refusedAs);
            return refuse(ctx, auditUnavailable(why), substitute, recorded.audit());
          }
          return proceed.get();
        });
  }

  static Verdict.Deny auditUnavailable(String why) {
    return new Verdict.Deny(
        ClientErrors.AUDIT_UNAVAILABLE,
        "Warden refused this statement: " + why,
        "Nothing was run. Warden runs no statement it cannot record; the audit store must be"
            + " made writable again (see docs/audit.md, \"When the audit trail fails\").");
  }

  private Outcome refuse(
      ChannelHandlerContext ctx, Verdict.Deny deny, Function<String, FrontendMessage> substitute) {
    log.debug("session {} statement refused: {}", session.context.id(), deny.message());
    String marker = session.refuse(ClientErrors.denial(ctx.alloc(), deny));
    forwardUpTo(currentMessageStart());
    ByteBuf out = peer().alloc().buffer(64);
    substitute.apply(marker).encode(out);
    peer().write(out, peer().voidPromise());
    return Outcome.DROP;
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    super.channelReadComplete(ctx);
    if (session.clientTerminated) {
      closeAfterFlush(ctx.channel()); // the server closes after Terminate; so does Warden
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    if (held != null) {
      held.notRun(); // held for its record, never sent
      held.finish();
      held = null;
    }
    session.exchanges.abandon();
    if (upstreamReusable()) {
      session.upstream.pipeline().remove(session.backend);
      session.release();
      upstreamPool.resetAndPark(session.poolKey, session.login);
    } else if (session.upstream.isActive()) {
      session
          .upstream
          .writeAndFlush(session.upstream.alloc().buffer(5).writeBytes(TERMINATE))
          .addListener(ChannelFutureListener.CLOSE);
    }
    ctx.fireChannelInactive();
  }

  /**
   * The upstream connection can be reset and kept when it is open and no message is half-way in
   * either direction (the stream can be read from a message boundary).
   */
  private boolean upstreamReusable() {
    return upstreamPool != null
        && session.login != null
        && session.upstream.isActive()
        && !hasPartialMessage()
        && session.backend != null
        && !session.backend.hasPartialMessage()
        && !session.hasPendingRefusals()
        && session.exchanges.idle()
        && !paused()
        && !session.terminating;
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (cause instanceof ProtocolException pe) {
      log.info(
          "session {}: protocol violation from client: {}", session.context.id(), pe.getMessage());
      if (session.backend != null && session.backend.midMessage()) {
        ctx.close(); // an error now would land inside a half-sent message
      } else {
        ctx.writeAndFlush(ClientErrors.fatal(ctx.alloc(), pe.sqlState(), pe.getMessage()))
            .addListener(ChannelFutureListener.CLOSE);
      }
    } else {
      log.debug("session {}: client connection error", session.context.id(), cause);
      ctx.close();
    }
    session.upstream.close();
  }

  /**
   * The last Query or Parse judged, by its exact bytes, so that a driver sending the same one again
   * costs a comparison. Only decisions that hold for a repetition are kept: reusable ones, for text
   * that neither defines nor runs a SQL-level prepared statement (the gatekeeper records those).
   */
  private static final class LastText {
    private byte[] bytes;
    private LexicalSettings lexical;
    private Relations relations;
    Decision decision;
    String name;
    String text;

    boolean matches(ByteBuf body, LexicalSettings now, Relations names) {
      byte[] b = bytes;
      int n = body.readableBytes();
      if (b == null || b.length != n || lexical != now || relations != names) {
        return false;
      }
      int at = body.readerIndex();
      for (int i = 0; i < n; i++) {
        if (body.getByte(at + i) != b[i]) {
          return false;
        }
      }
      return true;
    }

    void remember(
        ByteBuf body,
        LexicalSettings settings,
        Relations names,
        Decision judged,
        String statementName,
        String sql) {
      if (!judged.reusable()
          || body.readableBytes() > MAX_REMEMBERED
          || judged.analysis().definesOrRunsPrepared()) {
        bytes = null;
        decision = null;
        text = null;
        return;
      }
      bytes = ByteBufUtil.getBytes(body);
      lexical = settings;
      relations = names;
      decision = judged;
      name = statementName;
      text = sql;
    }

    private static final int MAX_REMEMBERED = 4096;
  }
}
