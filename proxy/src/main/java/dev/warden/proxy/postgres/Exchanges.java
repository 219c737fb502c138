package dev.warden.proxy.postgres;

import dev.warden.protocol.postgres.ProtocolException;
import java.util.Arrays;

/**
 * What the server still owes the session: one entry per forwarded message that the server answers,
 * in the order it will answer them, so that each response can be told apart (the client's, or a
 * message Warden added) and tied to what asked for it.
 *
 * <p>The server answers every message of the extended protocol with one final response
 * (ParseComplete, BindComplete, CloseComplete, RowDescription or NoData after a Describe,
 * CommandComplete, EmptyQueryResponse or PortalSuspended after an Execute), and Sync, Query and
 * FunctionCall with ReadyForQuery. After an error in the extended protocol it skips every message
 * up to Sync, and so does this queue. Kept as parallel arrays in a ring: a message costs no
 * allocation. Confined to the session's event loop.
 */
final class Exchanges {
  static final byte PARSE = 1;
  static final byte BIND = 2;
  static final byte DESCRIBE = 3;
  static final byte EXECUTE = 4;
  static final byte CLOSE = 5;
  static final byte SYNC = 6;
  static final byte QUERY = 7;
  static final byte FUNCTION_CALL = 8;

  /** The client's message: its responses go to the client. */
  static final byte CLIENT = 0;

  /** Warden's own message: every response to it is dropped. */
  static final byte WARDEN_SILENT = 1;

  /** Warden's own Query whose ReadyForQuery stands in for one the client is owed. */
  static final byte WARDEN_READY = 2;

  /** As {@link #WARDEN_READY}, and errors reach the client too (a COMMIT that fails). */
  static final byte WARDEN_READY_AND_ERRORS = 3;

  /** Warden's own Query whose rows Warden reads (the payload collects them); nothing is relayed. */
  static final byte WARDEN_CAPTURE = 4;

  /**
   * Warden's own Describe of a portal whose rows it masks: the description is Warden's (the payload
   * is the Execute's {@link StatementAudit}), an error goes to the client.
   */
  static final byte WARDEN_DESCRIBE = 5;

  /** Messages a session may have unanswered at once; a client that floods past it is cut off. */
  static final int MAX_OUTSTANDING = 1 << 20;

  private byte[] kinds = new byte[64];
  private byte[] owners = new byte[64];
  private Object[] payloads = new Object[64];
  private StatementAudit[] audits = new StatementAudit[64];
  private int head;
  private int size;

  /**
   * True when the server is skipping messages up to a Sync that this queue has not seen yet: an
   * error answered a message of a batch whose Sync the proxy had not forwarded (it was still held,
   * with the messages before it, for an audit record or an approval, or not yet read). Every
   * message added until that Sync is skipped by the server, unanswered.
   */
  private boolean skippingToSync;

  void add(byte kind, byte owner, Object payload) {
    add(kind, owner, payload, null);
  }

  /** Adds a client's statement-bearing message whose outcome {@code audit} records. */
  void add(byte kind, byte owner, Object payload, StatementAudit audit) {
    if (skippingToSync) {
      if (kind != SYNC) {
        // Forwarded after the server's error, before the Sync that ends its batch: it never runs.
        if (audit != null) {
          audit.notRun();
          audit.finish();
        }
        return;
      }
      skippingToSync = false;
    }
    if (size == kinds.length) {
      grow();
    }
    int at = (head + size) & (kinds.length - 1);
    kinds[at] = kind;
    owners[at] = owner;
    payloads[at] = payload;
    audits[at] = audit;
    size++;
  }

  void add(byte kind) {
    add(kind, CLIENT, null);
  }

  boolean isEmpty() {
    return size == 0;
  }

  /** The kind of the oldest unanswered message, or 0 when none is. */
  byte headKind() {
    return size == 0 ? 0 : kinds[head];
  }

  byte headOwner() {
    return size == 0 ? CLIENT : owners[head];
  }

  Object headPayload() {
    return size == 0 ? null : payloads[head];
  }

  /** The audit of the oldest unanswered message, or null when it has none. */
  StatementAudit headAudit() {
    return size == 0 ? null : audits[head];
  }

  /** Detaches the oldest message's audit, so that answering it does not finish the audit. */
  StatementAudit takeHeadAudit() {
    if (size == 0) {
      return null;
    }
    StatementAudit a = audits[head];
    audits[head] = null;
    return a;
  }

  /**
   * Detaches the audit of the first statement up to the next Sync: the one an error in an
   * extended-protocol batch is about (a Bind that fails stops the Execute after it).
   */
  StatementAudit takeFirstAuditBeforeSync() {
    for (int i = 0; i < size; i++) {
      int at = (head + i) & (kinds.length - 1);
      if (kinds[at] == SYNC) {
        return null;
      }
      StatementAudit a = audits[at];
      if (a != null) {
        audits[at] = null;
        return a;
      }
    }
    return null;
  }

  /** The oldest unanswered message has been answered: its audit, if any, records the outcome. */
  void pop() {
    if (size == 0) {
      return;
    }
    StatementAudit a = audits[head];
    if (a != null) {
      audits[head] = null;
      a.finish();
    }
    payloads[head] = null;
    head = (head + 1) & (kinds.length - 1);
    size--;
  }

  /**
   * An error answered the oldest message of an extended-protocol batch: the server skips every
   * message up to the next Sync, which it still answers, and runs none of them. When that Sync is
   * not in the queue yet, the messages added before it are skipped too (see {@link #add}).
   */
  void skipToSync() {
    pop();
    while (size > 0 && kinds[head] != SYNC) {
      StatementAudit a = audits[head];
      if (a != null) {
        a.notRun();
      }
      pop();
    }
    if (size == 0) {
      skippingToSync = true;
    }
  }

  /**
   * True when the server owes nothing and is not skipping messages up to a Sync not yet added (see
   * {@link #skipToSync}): a message sent now would be answered, not skipped.
   */
  boolean idle() {
    return size == 0 && !skippingToSync;
  }

  /** The session ended: whatever was unanswered has an unknown outcome. */
  void abandon() {
    while (size > 0) {
      StatementAudit a = audits[head];
      if (a != null) {
        audits[head] = null;
        a.abandoned();
      }
      payloads[head] = null;
      head = (head + 1) & (kinds.length - 1);
      size--;
    }
  }

  /** True if the oldest unanswered message ends with ReadyForQuery. */
  boolean headEndsWithReady() {
    byte k = headKind();
    return k == SYNC || k == QUERY || k == FUNCTION_CALL;
  }

  private void grow() {
    if (kinds.length >= MAX_OUTSTANDING) {
      throw new ProtocolException(
          "more than " + MAX_OUTSTANDING + " messages sent without waiting for an answer");
    }
    int n = kinds.length * 2;
    byte[] k = new byte[n];
    byte[] o = new byte[n];
    Object[] p = new Object[n];
    StatementAudit[] a = new StatementAudit[n];
    for (int i = 0; i < size; i++) {
      int from = (head + i) & (kinds.length - 1);
      k[i] = kinds[from];
      o[i] = owners[from];
      p[i] = payloads[from];
      a[i] = audits[from];
    }
    kinds = k;
    owners = o;
    payloads = p;
    audits = a;
    head = 0;
  }

  @Override
  public String toString() {
    byte[] k = new byte[size];
    for (int i = 0; i < size; i++) {
      k[i] = kinds[(head + i) & (kinds.length - 1)];
    }
    return "Exchanges" + Arrays.toString(k);
  }
}
