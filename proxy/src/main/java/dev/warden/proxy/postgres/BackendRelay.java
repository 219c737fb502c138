package dev.warden.proxy.postgres;

import dev.warden.core.gate.ApprovalGate;
import dev.warden.core.gate.Verdict;
import dev.warden.core.masking.ResultMasking;
import dev.warden.core.statement.Relations;
import dev.warden.protocol.postgres.BackendMessage;
import dev.warden.protocol.postgres.BackendMessages;
import dev.warden.protocol.postgres.BindComplete;
import dev.warden.protocol.postgres.Close;
import dev.warden.protocol.postgres.CloseComplete;
import dev.warden.protocol.postgres.CommandComplete;
import dev.warden.protocol.postgres.CopyData;
import dev.warden.protocol.postgres.CopyDone;
import dev.warden.protocol.postgres.CopyOutResponse;
import dev.warden.protocol.postgres.DataRow;
import dev.warden.protocol.postgres.EmptyQueryResponse;
import dev.warden.protocol.postgres.ErrorField;
import dev.warden.protocol.postgres.ErrorResponse;
import dev.warden.protocol.postgres.Frames;
import dev.warden.protocol.postgres.Limits;
import dev.warden.protocol.postgres.NoData;
import dev.warden.protocol.postgres.NoticeResponse;
import dev.warden.protocol.postgres.NotificationResponse;
import dev.warden.protocol.postgres.ParameterStatus;
import dev.warden.protocol.postgres.ParseComplete;
import dev.warden.protocol.postgres.PortalSuspended;
import dev.warden.protocol.postgres.ProtocolException;
import dev.warden.protocol.postgres.Query;
import dev.warden.protocol.postgres.ReadyForQuery;
import dev.warden.protocol.postgres.RowDescription;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The upstream-to-client leg of a ready session. Result rows, copy data and notices are streamed
 * unread. ErrorResponse is read only while a refusal is on its way back, to swap the server's
 * syntax error for the refusal (see {@link FrontendRelay} and {@link ProxySession}).
 */
final class BackendRelay extends RelayHandler {
  private static final Logger log = LoggerFactory.getLogger(BackendRelay.class);

  private final ProxySession session;
  private byte lastType;
  private boolean clientTold;

  /** The transaction status the server last reported. */
  private byte transactionStatus = 'I';

  /** True from a row guard's refusal until the ReadyForQuery that ends the guarded statement. */
  private boolean suppressing;

  /** True when Warden's BEGIN for a row guard failed. */
  private boolean beginFailed;

  /** The statement an ErrorResponse being read answers, whose SQLSTATE it records. */
  private StatementAudit failedAudit;

  /** True when {@link #failedAudit} is finished by the error itself (it left the queue). */
  private boolean failedDetached;

  /** Payload of an entry whose CommandComplete tags may drop prepared statements. */
  static final Object WATCH_DEALLOCATE = new Object();

  BackendRelay(ProxySession session, Limits limits) {
    super(limits.maxMessageBytes());
    this.session = session;
  }

  @Override
  Channel peer() {
    return session.client;
  }

  @Override
  boolean peerPaused() {
    return session.frontend != null && session.frontend.paused();
  }

  @Override
  Route route(byte type, long length) {
    Frames.checkBackend(type, length, STREAMED);
    lastType = type;
    Exchanges due = session.exchanges;
    switch (type) {
      case ReadyForQuery.TYPE, ParameterStatus.TYPE -> {
        return Route.INSPECT;
      }
      case NotificationResponse.TYPE -> {
        // Belongs to the session, whatever command is running; scrubbed where results are masked.
        return session.masking != null ? Route.INSPECT : Route.STREAM;
      }
      case NoticeResponse.TYPE -> {
        if (dropping()) {
          return Route.DISCARD;
        }
        StatementAudit audit = due.headAudit();
        noticeMasking = audit != null && audit.masking.active() ? audit.masking : session.masking;
        return noticeMasking != null ? Route.INSPECT : Route.STREAM;
      }
      case ErrorResponse.TYPE -> {
        byte owner = due.headOwner();
        boolean drop =
            suppressing
                || (owner != Exchanges.CLIENT
                    && owner != Exchanges.WARDEN_READY_AND_ERRORS
                    && owner != Exchanges.WARDEN_DESCRIBE);
        errorMasking = session.masking;
        if (owner == Exchanges.WARDEN_DESCRIBE) {
          errorMasking = ((StatementAudit) due.headPayload()).masking;
        } else if (due.headAudit() != null && due.headAudit().masking.active()) {
          errorMasking = due.headAudit().masking;
        }
        if (due.headPayload() instanceof RowGuard.Mark m && m.step() == RowGuard.Step.BEGIN) {
          beginFailed = true;
        } else if (due.headPayload() instanceof Catalogs.Load load) {
          load.failed();
        }
        StatementAudit failed;
        boolean detached = !due.isEmpty() && !due.headEndsWithReady();
        if (detached) {
          // Finished below, once its SQLSTATE is read: the statement the error is about is the
          // first one of the batch still unanswered (a failed Parse or Bind stops its Execute).
          failed = due.takeFirstAuditBeforeSync();
          due.skipToSync(); // the server skips the rest of the batch
        } else {
          failed = due.headAudit(); // finished by the ReadyForQuery that ends the Query
        }
        if (failed != null) {
          failed.failed("");
          if (failed.masking.active()) {
            errorMasking = failed.masking;
          }
        }
        endResult(failed);
        endCopy(failed);
        if (drop) {
          if (failed != null && detached) {
            failed.finish();
          }
          return Route.DISCARD;
        }
        if (failed != null) {
          failedAudit = failed;
          failedDetached = detached;
          return Route.INSPECT;
        }
        return session.hasPendingRefusals() || errorMasking != null ? Route.INSPECT : Route.STREAM;
      }
      case CommandComplete.TYPE -> {
        Object payload = due.headPayload();
        if (payload instanceof RowGuard.Mark m
            && m.step() == RowGuard.Step.BEGIN
            && due.headKind() == Exchanges.EXECUTE) {
          // The SAVEPOINT of a guard inside a batch completed: the guard is armed.
          m.guard().began(transactionStatus, false);
          due.pop();
          return Route.DISCARD;
        }
        if (payload instanceof RowGuard.Mark m && m.step() == RowGuard.Step.STATEMENT
            || payload == WATCH_DEALLOCATE
            || payload instanceof ProxySession.ReasonSet
            || due.headAudit() != null) {
          return Route.INSPECT;
        }
        Route route = dropping() ? Route.DISCARD : Route.STREAM;
        if (due.headKind() == Exchanges.EXECUTE) {
          due.pop();
        }
        return route;
      }
      case ParseComplete.TYPE, BindComplete.TYPE -> {
        return answered(due);
      }
      case CloseComplete.TYPE -> {
        if (due.headPayload() instanceof Close close) {
          session.names.closed(close.kind(), close.name());
        }
        return answered(due);
      }
      case NoData.TYPE, RowDescription.TYPE -> {
        if (due.headOwner() == Exchanges.WARDEN_DESCRIBE) {
          if (type == RowDescription.TYPE) {
            return Route.INSPECT; // the description Warden masks the Execute's rows by
          }
          session.plan = null; // no rows to mask
          due.pop();
          return Route.DISCARD;
        }
        if (type == RowDescription.TYPE
            && !dropping()
            && due.headKind() == Exchanges.QUERY
            && due.headAudit() != null
            && due.headAudit().masking.inspectsResults()) {
          return Route.INSPECT; // a simple query's result: plan its masking
        }
        Route route = dropping() ? Route.DISCARD : Route.STREAM;
        if (due.headKind() == Exchanges.DESCRIBE) {
          due.pop();
        }
        return route;
      }
      case PortalSuspended.TYPE, EmptyQueryResponse.TYPE -> {
        Route route = dropping() ? Route.DISCARD : Route.STREAM;
        endResult(due.headAudit());
        if (due.headKind() == Exchanges.EXECUTE) {
          due.pop();
        }
        return route;
      }
      case DataRow.TYPE -> {
        if (due.headOwner() == Exchanges.WARDEN_CAPTURE) {
          return Route.INSPECT;
        }
        StatementAudit audit = due.headAudit();
        if (audit != null) {
          audit.row();
        }
        if (dropping()) {
          return Route.DISCARD;
        }
        if (session.plan != null) {
          return inspectRow("a result row", length);
        }
        return Route.STREAM;
      }
      case CopyOutResponse.TYPE -> {
        if (dropping()) {
          return Route.DISCARD;
        }
        StatementAudit audit = due.headAudit();
        return audit != null
                && audit.masking.inspectsResults()
                && audit.masking.export().isPresent()
            ? Route.INSPECT // a COPY ... TO STDOUT whose rows may need masking: plan it
            : Route.STREAM;
      }
      case CopyData.TYPE -> {
        if (dropping()) {
          return Route.DISCARD;
        }
        if (session.copyPlan != null) {
          return inspectRow("a COPY row", length);
        }
        return Route.STREAM;
      }
      case CopyDone.TYPE -> {
        endCopy(due.headAudit());
        return dropping() ? Route.DISCARD : Route.STREAM;
      }
      default -> {
        return dropping() ? Route.DISCARD : Route.STREAM;
      }
    }
  }

  /**
   * A row to mask ({@code what}, of message length {@code length}), if Warden may hold it whole.
   */
  private Route inspectRow(String what, long length) {
    if (length - 4 > maxInspectedBytes()) {
      throw new ProtocolException(
          what
              + " of "
              + (length - 4)
              + " bytes has masked columns, and Warden masks rows of up to "
              + maxInspectedBytes()
              + " bytes (max_message_bytes)");
    }
    return Route.INSPECT;
  }

  /** The COPY stream being relayed ended: what was masked in it goes to {@code audit}'s record. */
  private void endCopy(StatementAudit audit) {
    CopyPlan plan = session.copyPlan;
    if (plan != null) {
      session.copyPlan = null;
      if (audit != null) {
        audit.masked(plan);
      }
    }
  }

  /**
   * A RowDescription Warden inspects: the one it asked for ahead of an Execute whose rows it masks
   * (then dropped), or a simple query's (then forwarded).
   */
  private Outcome onRowDescription(RowDescription description) {
    Exchanges due = session.exchanges;
    if (due.headOwner() == Exchanges.WARDEN_DESCRIBE) {
      StatementAudit execute = (StatementAudit) due.headPayload();
      session.plan = ResultPlan.of(description, execute.masking, session.charset());
      due.pop();
      return Outcome.DROP;
    }
    endResult(due.headAudit());
    session.plan = ResultPlan.of(description, due.headAudit().masking, session.charset());
    return Outcome.FORWARD;
  }

  /** The result being relayed ended: what was masked in it goes to {@code audit}'s record. */
  private void endResult(StatementAudit audit) {
    ResultPlan plan = session.plan;
    if (plan != null) {
      session.plan = null;
      if (audit != null) {
        audit.masked(plan);
      }
    }
  }

  /** Sends {@code message} to the client in place of the one being inspected. */
  private Outcome replaceWith(BackendMessage message) {
    ByteBuf out = peer().alloc().buffer(64);
    message.encode(out);
    return replaceWith(out);
  }

  private Outcome replaceWith(ByteBuf encoded) {
    forwardUpTo(currentMessageStart());
    peer().write(encoded, peer().voidPromise());
    return Outcome.DROP;
  }

  /** Where masked rows are written: {@link #emitBuffer}, made once. */
  private final java.util.function.Supplier<ByteBuf> emitter = this::emitBuffer;

  /** The masking an ErrorResponse being read is scrubbed with, or null. */
  private ResultMasking errorMasking;

  /** The masking a NoticeResponse being read is scrubbed with. */
  private ResultMasking noticeMasking;

  /** A one-message answer (ParseComplete, BindComplete, CloseComplete) to the oldest message. */
  private Route answered(Exchanges due) {
    Route route = dropping() ? Route.DISCARD : Route.STREAM;
    due.pop();
    return route;
  }

  /** True while what the server sends now must not reach the client. */
  private boolean dropping() {
    return suppressing || session.exchanges.headOwner() != Exchanges.CLIENT;
  }

  @Override
  Outcome onMessage(ChannelHandlerContext ctx, byte type, ByteBuf body) {
    return switch (type) {
      case ReadyForQuery.TYPE -> onReady(ctx, (ReadyForQuery) BackendMessages.decode(type, body));
      case DataRow.TYPE -> {
        if (session.exchanges.headOwner() == Exchanges.WARDEN_CAPTURE) {
          if (session.exchanges.headPayload() instanceof Catalogs.Load load) {
            load.row(((DataRow) BackendMessages.decode(type, body)).values());
          }
          yield Outcome.DROP;
        }
        // Masked rows are gathered into one buffer per read (emitBuffer), not written one by one.
        yield session.plan != null && session.plan.rewrite(body, emitter)
            ? Outcome.DROP
            : Outcome.FORWARD;
      }
      case RowDescription.TYPE ->
          onRowDescription((RowDescription) BackendMessages.decode(type, body));
      case CopyOutResponse.TYPE -> {
        session.copyPlan =
            CopyPlan.of(
                (CopyOutResponse) BackendMessages.decode(type, body),
                session.exchanges.headAudit().masking,
                session.lexical.clientEncoding());
        yield Outcome.FORWARD;
      }
      case CopyData.TYPE ->
          session.copyPlan.rewrite(body, emitter) ? Outcome.DROP : Outcome.FORWARD;
      case ParameterStatus.TYPE -> {
        ParameterStatus status = (ParameterStatus) BackendMessages.decode(type, body);
        session.lexical = ProxySession.withStatus(session.lexical, status);
        ResultMasking masking = session.masking;
        if (masking != null) {
          String value = masking.scrubText(status.value());
          if (!value.equals(status.value())) {
            yield replaceWith(new ParameterStatus(status.name(), value));
          }
        }
        yield Outcome.FORWARD;
      }
      case NotificationResponse.TYPE -> {
        NotificationResponse n = (NotificationResponse) BackendMessages.decode(type, body);
        ResultMasking masking = session.masking;
        String channel = masking.scrubText(n.channel());
        String payload = masking.scrubText(n.payload());
        yield channel.equals(n.channel()) && payload.equals(n.payload())
            ? Outcome.FORWARD
            : replaceWith(new NotificationResponse(n.processId(), channel, payload));
      }
      case NoticeResponse.TYPE -> {
        NoticeResponse notice = (NoticeResponse) BackendMessages.decode(type, body);
        List<ErrorField> fields = MaskedErrors.scrub(notice.fields(), noticeMasking);
        yield fields == null ? Outcome.FORWARD : replaceWith(new NoticeResponse(fields));
      }
      case CommandComplete.TYPE ->
          onCommandComplete(ctx, body, (CommandComplete) BackendMessages.decode(type, body));
      case ErrorResponse.TYPE -> {
        ErrorResponse error = (ErrorResponse) BackendMessages.decode(type, body);
        StatementAudit failed = failedAudit;
        if (failed != null) {
          failedAudit = null;
          failed.failed(error.sqlState());
          if (failedDetached) {
            failed.finish();
          }
        }
        ByteBuf refusal = session.refusalFor(error.message());
        if (refusal == null) {
          ResultMasking masking = errorMasking;
          errorMasking = null;
          List<ErrorField> fields =
              masking == null ? null : MaskedErrors.scrub(error.fields(), masking);
          yield fields == null ? Outcome.FORWARD : replaceWith(new ErrorResponse(fields));
        }
        errorMasking = null;
        yield replaceWith(refusal);
      }
      default -> Outcome.FORWARD;
    };
  }

  private Outcome onCommandComplete(
      ChannelHandlerContext ctx, ByteBuf body, CommandComplete complete) {
    Exchanges due = session.exchanges;
    Object payload = due.headPayload();
    boolean execute = due.headKind() == Exchanges.EXECUTE;
    Outcome outcome = dropping() ? Outcome.DROP : Outcome.FORWARD;
    StatementAudit audit = due.headAudit();
    endResult(audit);
    if (audit != null) {
      audit.completed(complete.tag());
    }
    if (payload == WATCH_DEALLOCATE) {
      String tag = complete.tag();
      if (tag.equals("DEALLOCATE ALL") || tag.equals("DISCARD ALL")) {
        session.names.deallocatedAll();
        session.sqlPrepared.clear();
      }
    } else if (payload instanceof ProxySession.ReasonSet set) {
      if (complete.tag().equals("SET")) {
        session.reasonConfirmed(set);
      }
    } else if (payload instanceof RowGuard.Mark m && !suppressing) {
      RowGuard.Limit limit = m.limit();
      long rows = m.guard().overLimit(complete.tag(), limit);
      if (rows >= 0 && limit.approval != null && session.approvals != ApprovalGate.NONE) {
        // Over a limit whose changes may be approved: the change stays undecided (its
        // transaction open, nothing more read from the server) while the gate makes a request
        // with the rows it changed, or approves it (an automatic approval, or one made
        // elsewhere); the gate answers at once, since such requests are never held.
        CompletableFuture<ApprovalGate.Answer> asked = askOverLimit(ctx, limit.approval, rows);
        return hold(ctx, body, asked, again -> overLimitAnswered(m, asked, audit, execute, rows));
      }
      if (rows >= 0) {
        outcome = refuseOverLimit(m, limit.denial, audit);
      }
    }
    if (execute) {
      due.pop();
    }
    return outcome;
  }

  /**
   * Over the limit: the client sees {@code deny} where it would have seen the count, then nothing
   * until ReadyForQuery, as after any failed statement; the guard rolls the change back.
   */
  private Outcome refuseOverLimit(RowGuard.Mark m, Verdict.Deny deny, StatementAudit audit) {
    forwardUpTo(currentMessageStart());
    peer().write(ClientErrors.denial(peer().alloc(), deny), peer().voidPromise());
    if (audit != null) {
      audit.refused(deny.sqlState());
    }
    m.guard().exceeded = true;
    suppressing = true;
    return Outcome.DROP;
  }

  /** Asks the approval gate about a change that went over its limit, with the rows it changed. */
  private CompletableFuture<ApprovalGate.Answer> askOverLimit(
      ChannelHandlerContext ctx, RowGuard.OverLimit over, long rows) {
    try {
      return session.approvals.check(
          new ApprovalGate.Question(
              session.context,
              over.decision(),
              over.decision().rowLimitApproval().orElseThrow(),
              over.decision().rowLimitDenial(),
              over.text(),
              over.parameters(),
              session.reason(),
              OptionalLong.of(rows),
              notice -> ctx.executor().execute(() -> session.notice(notice))));
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  /**
   * The gate answered about a change over its limit, whose CommandComplete was held: refused, it is
   * rolled back as any change over its limit, with the gate's refusal (the request and what to do);
   * approved, the limit is lifted and the count goes to the client.
   */
  private Outcome overLimitAnswered(
      RowGuard.Mark m,
      CompletableFuture<ApprovalGate.Answer> asked,
      StatementAudit audit,
      boolean execute,
      long rows) {
    ApprovalGate.Answer answer;
    if (asked.isCompletedExceptionally()) {
      Throwable why = asked.exceptionNow();
      log.error("session {}: approval check over a row limit failed", session.context.id(), why);
      answer =
          new ApprovalGate.Answer.Refused(
              new Verdict.Deny(
                  "58000",
                  "Warden refused this statement: it changed more rows than its limit, and"
                      + " whether that may be approved could not be checked ("
                      + why.getMessage()
                      + "); Warden rolled it back",
                  "Nothing was changed. Try again; if it persists, ask an administrator."),
              "");
    } else {
      answer = asked.join();
    }
    Outcome outcome =
        switch (answer) {
          case ApprovalGate.Answer.Approved ok -> {
            log.info(
                "session {}: a change of {} rows over its limit runs: {}, request {}",
                session.context.id(),
                rows,
                ok.how(),
                ok.requestId());
            m.limit().lifted = true;
            yield dropping() ? Outcome.DROP : Outcome.FORWARD;
          }
          case ApprovalGate.Answer.Refused no -> refuseOverLimit(m, no.deny(), audit);
        };
    if (execute) {
      session.exchanges.pop();
    }
    return outcome;
  }

  private Outcome onReady(ChannelHandlerContext ctx, ReadyForQuery ready) {
    Exchanges due = session.exchanges;
    byte before = transactionStatus;
    transactionStatus = ready.transactionStatus();
    session.transactionStatus = transactionStatus;
    session.plan = null;
    session.copyPlan = null;
    if (session.schemaChangePending && transactionStatus == 'I') {
      // A schema change went through and is committed (or rolled back): the next statement waits
      // for the data map to be read again.
      session.schemaChangePending = false;
      session.dataMaps.schemaChanged(
          session.context.environment().name(), session.context.database());
    }
    // Pop up to and including the message this ReadyForQuery answers (the messages before it are
    // all answered already, unless the queue and the server disagree): its owner and payload say
    // what the ReadyForQuery is for.
    while (!due.isEmpty() && !due.headEndsWithReady()) {
      due.pop();
    }
    byte owner = due.headOwner();
    Object payload = due.headPayload();
    due.pop();
    session.running = !due.isEmpty();
    if (due.isEmpty() && !session.lexical.settled()) {
      session.lexical = session.lexical.withSettled(true);
    }
    if (payload instanceof Catalogs.Load load) {
      Relations relations = load.relations();
      if (relations.known()) {
        session.catalogs.loaded(load.key, relations);
      } else {
        session.catalogs.failed(load.key);
      }
      return Outcome.DROP;
    }
    if (payload instanceof RowGuard.Mark m) {
      RowGuard guard = m.guard();
      switch (m.step()) {
        case BEGIN -> {
          guard.began(before, beginFailed);
          beginFailed = false;
          return Outcome.DROP;
        }
        case STATEMENT, SYNC -> {
          suppressing = false;
          String finish = guard.finish(transactionStatus);
          if (finish == null) {
            session.frontend.resumeReading();
            return Outcome.FORWARD;
          }
          forwardUpTo(currentMessageStart());
          ByteBuf out = ctx.alloc().buffer(64);
          new Query(finish).encode(out);
          ctx.writeAndFlush(out, ctx.voidPromise());
          due.add(Exchanges.QUERY, guard.finishOwner(finish), guard.finish);
          return Outcome.DROP;
        }
        case FINISH -> {
          // This ReadyForQuery is the one the client is owed; then the client may go on.
          forwardUpTo(currentMessageStart());
          peer().write(encodeReady(transactionStatus), peer().voidPromise());
          peer().flush();
          session.frontend.resumeReading();
          return Outcome.DROP;
        }
      }
    }
    return owner == Exchanges.WARDEN_SILENT ? Outcome.DROP : Outcome.FORWARD;
  }

  private ByteBuf encodeReady(byte status) {
    ByteBuf out = peer().alloc().buffer(6);
    new ReadyForQuery(status).encode(out);
    return out;
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    Channel client = session.client;
    if (session.terminating) {
      // Ended on purpose: the client has been told why and is closed once that is flushed.
    } else if (client.isActive()
        && !midMessage()
        && lastType != 'E'
        && !session.clientTerminated
        && !clientTold) {
      // The server normally says why it ends a session (an ErrorResponse, already relayed); when
      // the connection simply drops, say so rather than leave the client guessing.
      client
          .writeAndFlush(
              ClientErrors.fatal(
                  client.alloc(),
                  ClientErrors.CONNECTION_FAILURE,
                  "the connection to the upstream database was lost"))
          .addListener(ChannelFutureListener.CLOSE);
    } else {
      client.close();
    }
    session.exchanges.abandon();
    session.release();
    ctx.fireChannelInactive();
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (cause instanceof ProtocolException pe) {
      log.warn(
          "session {}: upstream sent an invalid message, closing: {}",
          session.context.id(),
          pe.getMessage());
      Channel client = session.client;
      if (client.isActive() && !midMessage()) {
        clientTold = true;
        client
            .writeAndFlush(
                ClientErrors.fatal(
                    client.alloc(),
                    ClientErrors.PROTOCOL_VIOLATION,
                    "Warden closed the session: the upstream database sent a message it refuses ("
                        + pe.getMessage()
                        + ")"))
            .addListener(ChannelFutureListener.CLOSE);
      }
    } else {
      log.debug("session {}: upstream connection error", session.context.id(), cause);
    }
    ctx.close();
  }
}
