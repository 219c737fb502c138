package dev.warden.proxy.postgres;

import dev.warden.core.audit.StatementIntent;
import dev.warden.core.gate.ApprovalGate;
import dev.warden.core.gate.SessionContext;
import dev.warden.core.masking.DataMaps;
import dev.warden.core.masking.ResultMasking;
import dev.warden.core.session.EnvironmentCounters;
import dev.warden.core.statement.LexicalSettings;
import dev.warden.core.statement.PreparedStatements;
import dev.warden.core.statement.Relations;
import dev.warden.protocol.postgres.BackendMessages;
import dev.warden.protocol.postgres.NoticeResponse;
import dev.warden.protocol.postgres.ParameterStatus;
import dev.warden.protocol.postgres.ProtocolException;
import dev.warden.protocol.postgres.Query;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.Optional;

/**
 * The state of one proxied session once both legs are up. It lives on the session's event loop
 * (both channels share it), so nothing here is synchronised.
 *
 * <p>It keeps the refusals on their way back (see {@link FrontendRelay}): each refused message was
 * replaced upstream by a marker the server rejects as a syntax error; the error that names a marker
 * is swapped for the refusal. Markers are random per session, so neither the client nor another
 * session can forge or predict one, and they stay in the order they were sent: when the server's
 * error names a later marker, the earlier ones were discarded by the server along with the rest of
 * their batch, as the refused statements themselves would have been.
 */
final class ProxySession {
  /** Refusals a session may have on their way back at once; a flood past it ends the session. */
  static final int MAX_PENDING_REFUSALS = 10_000;

  final SessionContext context;

  /** Where and how this session's statements are recorded. */
  final ProxyAudit audit;

  /** Statements recorded so far; the next intent gets the next number. */
  long statements;

  /*
   * What the live session's view reads from other threads (LiveProxySession): plain fields written
   * here as the statements go by, so the view costs the statement path no lock, fence or
   * allocation; a reader sees them a moment late at worst.
   */

  /** The last statement recorded, or null before the first. */
  StatementIntent lastIntent;

  /** True from an allowed statement's recording until a ReadyForQuery leaves nothing owed. */
  boolean running;

  /** The counters of the session's environment (statements by verdict, masked values). */
  final EnvironmentCounters counters;

  /**
   * True once Warden ends the session on purpose ({@link SessionTermination}): the client is told
   * why by that, not as if the database had gone away, and the upstream connection is not reused.
   */
  boolean terminating;

  final Channel client;
  final Channel upstream;
  private final CancelRegistry.Entry cancelKey;
  private final String markerPrefix;

  /** The name of the statement and portal a row guard uses inside an extended-protocol batch. */
  final String guardName;

  private final ArrayDeque<Refusal> refusals = new ArrayDeque<>();
  private long refusalCount;

  /** The upstream-to-client relay, once installed; tells whether a message is half-sent. */
  RelayHandler backend;

  /** The settings the server lexes this session's SQL with, as it last reported them. */
  LexicalSettings lexical = LexicalSettings.DEFAULT;

  private String charsetEncoding = "UTF8";
  private Charset charset = StandardCharsets.UTF_8;

  /**
   * The charset of the session's client encoding, in which statement text, names and result values
   * travel; looked up again only when the server reports another encoding.
   */
  Charset charset() {
    String encoding = lexical.clientEncoding();
    if (!encoding.equals(charsetEncoding)) {
      charsetEncoding = encoding;
      charset = ClientEncodings.charset(encoding);
    }
    return charset;
  }

  /** What the server still owes, message by message. */
  final Exchanges exchanges = new Exchanges();

  /** Protocol-level prepared statements and portals, with their decisions. */
  final StatementNames names = new StatementNames();

  /** The client-to-upstream relay, once installed; paused while a row guard finishes. */
  FrontendRelay frontend;

  /** The catalogues of the upstream databases, shared; and this session's. */
  Catalogs catalogs;

  Catalogs.Key catalogKey;

  /** Whether this session's catalogue is read at all (off for scripted test upstreams). */
  boolean readCatalogues;

  /** The transaction status the server last reported ({@code 'I'}, {@code 'T'} or {@code 'E'}). */
  byte transactionStatus = 'I';

  /** True once the client changed the search path: the catalogue's no longer tells. */
  boolean searchPathChanged;

  /**
   * What unqualified names resolve to here: the current snapshot of the session's database, or
   * {@link Relations#NONE} once the session changed its search path.
   */
  Relations relations() {
    return searchPathChanged || catalogs == null ? Relations.NONE : catalogs.current(catalogKey);
  }

  /**
   * True, and the load is this session's to make ({@link #sendCatalogueQuery}), when its snapshot
   * is missing, old or stale and no other session is reading it. Only where the client cannot
   * notice: nothing in flight and no transaction open (an error inside the client's transaction
   * would abort it).
   */
  boolean claimCatalogueLoad() {
    return readCatalogues
        && !searchPathChanged
        && transactionStatus == 'I'
        && exchanges.idle()
        && catalogs.claimLoad(catalogKey);
  }

  /** Sends the catalogue query upstream; Warden reads its rows instead of relaying them. */
  void sendCatalogueQuery(ByteBufAllocator alloc) {
    ByteBuf query = alloc.buffer(Catalogs.QUERY.length() + 8);
    new Query(Catalogs.QUERY).encode(query);
    upstream.write(query, upstream.voidPromise());
    exchanges.add(Exchanges.QUERY, Exchanges.WARDEN_CAPTURE, new Catalogs.Load(catalogKey));
  }

  /** The data maps of the environments' databases, shared. */
  DataMaps dataMaps = DataMaps.NONE;

  /** Where statements that need approval are asked about; NONE refuses them as policy says. */
  ApprovalGate approvals = ApprovalGate.NONE;

  /**
   * The reason the client gave for the session ({@code SET warden.reason}), once the server
   * confirmed it; null when none was given or it was reset. It is what the server holds after a SET
   * outside a transaction; inside one, a ROLLBACK undoes the server's copy but not this one (it is
   * the person's own text, and at worst the approval gate sees a reason the database no longer
   * holds).
   */
  private String reason;

  /** Changes of the reason sent upstream so far: a confirmation counts only for the latest. */
  private long reasonChanges;

  /** The reason the client gave for the session, if any (blank counts as none). */
  Optional<String> reason() {
    return reason == null || reason.isBlank() ? Optional.empty() : Optional.of(reason);
  }

  /**
   * A {@code SET warden.reason} on its way upstream: it takes effect when the server completes it
   * ({@link #reasonConfirmed}), unless another change of the reason was sent after it.
   */
  ReasonSet reasonSent(String value) {
    return new ReasonSet(++reasonChanges, value);
  }

  /** A reset of the reason on its way upstream: forgotten at once. */
  void reasonReset() {
    reasonChanges++;
    reason = null;
  }

  /** The server completed {@code set} (its CommandComplete {@code SET}). */
  void reasonConfirmed(ReasonSet set) {
    if (set.change() == reasonChanges) {
      reason = set.value();
    }
  }

  /** The payload of an exchange whose CommandComplete confirms a {@code SET warden.reason}. */
  record ReasonSet(long change, String value) {
    @Override
    public String toString() {
      return "ReasonSet[" + change + "]"; // the reason is the person's text
    }
  }

  /**
   * Sends the client a notice (e.g. that a statement waits for approval), when nothing else is on
   * its way to the client at that moment; otherwise it is not sent (the client would get it between
   * the bytes of another message). Call on the event loop.
   */
  void notice(String text) {
    if (!client.isActive() || backend == null || backend.midMessage()) {
      return;
    }
    ByteBuf out = client.alloc().buffer(64 + text.length() * 2);
    NoticeResponse.of("NOTICE", "01000", text, null).encode(out);
    client.writeAndFlush(out, client.voidPromise());
  }

  /**
   * The masking of the last statement judged with any, or null while none was: it applies to what
   * the server sends outside any statement's answer (notifications, parameter changes, errors about
   * protocol messages), so those are scrubbed for identities whose results are masked.
   */
  ResultMasking masking;

  /** True from a schema change's forwarding until the data map is told (outside a transaction). */
  boolean schemaChangePending;

  /** The plan for the rows of the result being relayed, or null when they pass unread. */
  ResultPlan plan;

  /** The plan for the rows of the COPY stream being relayed, or null when they pass unread. */
  CopyPlan copyPlan;

  /** The session's SQL-level prepared statements. */
  final PreparedStatements sqlPrepared = new PreparedStatements();

  /** True once the client sent Terminate. */
  boolean clientTerminated;

  /** The pool key and login of the upstream connection, so it can be parked for reuse. */
  UpstreamPool.Key poolKey;

  UpstreamPool.Login login;

  ProxySession(
      SessionContext context,
      ProxyAudit audit,
      Channel client,
      Channel upstream,
      CancelRegistry.Entry cancelKey,
      byte[] markerEntropy,
      EnvironmentCounters counters) {
    this.context = context;
    this.counters = counters;
    this.audit = audit;
    this.client = client;
    this.upstream = upstream;
    this.cancelKey = cancelKey;
    this.markerPrefix = "warden_refused_" + HexFormat.of().formatHex(markerEntropy) + "_";
    this.guardName = "warden_guard_" + HexFormat.of().formatHex(markerEntropy);
  }

  /** A refusal on its way back: the marker the server will name, and what the client gets. */
  private record Refusal(String marker, ByteBuf error) {}

  /** Registers a refusal and returns the marker to send upstream in place of the statement. */
  String refuse(ByteBuf error) {
    if (refusals.size() >= MAX_PENDING_REFUSALS) {
      error.release();
      throw new ProtocolException("too many refused statements pending");
    }
    String marker = markerPrefix + (++refusalCount);
    refusals.addLast(new Refusal(marker, error));
    return marker;
  }

  boolean hasPendingRefusals() {
    return !refusals.isEmpty();
  }

  /**
   * The refusal for a server error whose message is {@code serverMessage}, or null when the error
   * is the server's own. Earlier refusals, skipped by the server, are released.
   */
  ByteBuf refusalFor(String serverMessage) {
    if (!serverMessage.contains(markerPrefix)) {
      return null;
    }
    for (Iterator<Refusal> it = refusals.iterator(); it.hasNext(); ) {
      Refusal r = it.next();
      if (containsMarker(serverMessage, r.marker())) {
        while (refusals.peekFirst() != r) {
          refusals.pollFirst().error().release();
        }
        refusals.pollFirst();
        return r.error();
      }
    }
    return null;
  }

  /** True if {@code text} names {@code marker} exactly, not a longer marker that starts with it. */
  private static boolean containsMarker(String text, String marker) {
    int at = text.indexOf(marker);
    while (at >= 0) {
      int end = at + marker.length();
      if (end == text.length() || !Character.isDigit(text.charAt(end))) {
        return true;
      }
      at = text.indexOf(marker, at + 1);
    }
    return false;
  }

  /** Frees what the session holds; called once when the upstream leg closes. */
  void release() {
    if (cancelKey != null) {
      cancelKey.close();
    }
    Refusal r;
    while ((r = refusals.pollFirst()) != null) {
      r.error().release();
    }
  }

  /**
   * The lexical settings announced in the server's greeting (ParameterStatus messages among the
   * messages in {@code greeting}, which is left as it was).
   */
  static LexicalSettings lexicalFrom(ByteBuf greeting, LexicalSettings start) {
    LexicalSettings settings = start;
    int at = greeting.readerIndex();
    int end = greeting.writerIndex();
    while (end - at >= 5) {
      byte type = greeting.getByte(at);
      long length = greeting.getUnsignedInt(at + 1);
      if (length < 4 || at + 1 + length > end) {
        break;
      }
      if (type == ParameterStatus.TYPE) {
        ParameterStatus status =
            (ParameterStatus)
                BackendMessages.decode(type, greeting.slice(at + 5, (int) length - 4));
        settings = withStatus(settings, status);
      }
      at += 1 + (int) length;
    }
    return settings;
  }

  /** {@code settings} updated by a ParameterStatus the server sent. */
  static LexicalSettings withStatus(LexicalSettings settings, ParameterStatus status) {
    return switch (status.name()) {
      case "standard_conforming_strings" ->
          settings.withStandardConformingStrings(status.value().equals("on"));
      case "client_encoding" -> settings.withClientEncoding(status.value());
      default -> settings;
    };
  }
}
