package dev.warden.proxy.postgres;

import dev.warden.core.gate.Decision;
import dev.warden.protocol.postgres.ProtocolException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The protocol-level prepared statements and portals of a session, by name, each with the decisions
 * made when its text was parsed, so an Execute is judged as what it really runs (THREATS G11).
 *
 * <p>Warden learns of a Parse or Bind when it forwards it, before the server has accepted it. The
 * unnamed statement and portal are replaced by each Parse and Bind (the server drops the old one
 * first, even when the new one fails). A named one cannot be redefined without Close, and a Parse
 * or Bind the server refuses leaves the old one in place; so a name keeps every statement it may
 * stand for until the server confirms the Close (CloseComplete), and an Execute is judged against
 * all of them. Confined to the session's event loop.
 */
final class StatementNames {
  /** Named statements plus portals a session may hold; past it the session is cut off. */
  static final int MAX_NAMES = 10_000;

  /** Statements one name may stand for at once (each redefinition the server may have refused). */
  static final int MAX_CANDIDATES = 64;

  private final Map<String, List<Parsed>> statements = new HashMap<>();
  private final Map<String, List<Parsed>> portals = new HashMap<>();

  /** The recorded bind parameter values of portals that have any (see {@link BindParameters}). */
  private final Map<String, List<String>> parameters = new HashMap<>();

  /**
   * The parameter section of the Bind of portals whose statement needs approval (or may, over its
   * row limit), exactly as sent (null when it was larger than Warden reads): an approval is bound
   * to it.
   */
  private final Map<String, byte[]> approvalParameters = new HashMap<>();

  /** A statement as parsed: its text and the decision made on it. */
  record Parsed(String text, Decision decision) {}

  void parsed(String name, String text, Decision decision) {
    define(statements, name, List.of(new Parsed(text, decision)));
  }

  /**
   * A Parse of {@code name} that Warden refused (it sends the server a Parse that fails). The
   * server drops the old unnamed statement before parsing, so after a failed Parse of the unnamed
   * statement there is none: a Bind and Execute of it in the same batch run nothing (the server
   * skips them) and must not be taken for the statement parsed before. A named statement keeps what
   * it may stand for (the server keeps it when a Parse of its name fails).
   */
  void refused(String name) {
    if (name.isEmpty()) {
      statements.remove(name);
    }
  }

  void bound(String portal, String statement, List<String> values) {
    define(portals, portal, statements.getOrDefault(statement, List.of()));
    if (!approvalParameters.isEmpty()) {
      approvalParameters.remove(portal);
    }
    if (values.isEmpty()) {
      if (!parameters.isEmpty()) {
        parameters.remove(portal);
      }
    } else {
      parameters.put(portal, values);
    }
  }

  /**
   * Whether a statement {@code statement} may stand for needs approval, or may wait for one when it
   * changes more rows than its limit: its Bind parameters are then kept, since an approval is bound
   * to them.
   */
  boolean needsApproval(String statement) {
    List<Parsed> candidates = statements.get(statement);
    if (candidates == null) {
      return false;
    }
    for (Parsed p : candidates) {
      if (p.decision().approval().isPresent() || p.decision().rowLimitApproval().isPresent()) {
        return true;
      }
    }
    return false;
  }

  /** Keeps the Bind parameters of {@code portal} for an approval (null: too large to keep). */
  void approvalParameters(String portal, byte[] bytes) {
    approvalParameters.put(portal, bytes);
  }

  /**
   * The Bind parameters of {@code portal} kept for an approval; null when they were too large, or
   * were not kept.
   */
  byte[] approvalParameters(String portal) {
    return approvalParameters.isEmpty() ? null : approvalParameters.get(portal);
  }

  /** The parameter values recorded for {@code portal}, or none. */
  List<String> parameters(String portal) {
    return parameters.isEmpty() ? List.of() : parameters.getOrDefault(portal, List.of());
  }

  /** What an Execute of {@code portal} may run; null when Warden knows of no such portal. */
  List<Parsed> portal(String portal) {
    return portals.get(portal);
  }

  /** The server confirmed closing a statement ({@code 'S'}) or portal ({@code 'P'}). */
  void closed(byte kind, String name) {
    (kind == 'S' ? statements : portals).remove(name);
    if (kind != 'S') {
      parameters.remove(name);
      approvalParameters.remove(name);
    }
  }

  /** The server confirmed DEALLOCATE ALL or DISCARD ALL: every prepared statement is gone. */
  void deallocatedAll() {
    statements.clear();
  }

  private void define(Map<String, List<Parsed>> map, String name, List<Parsed> decisions) {
    if (name.isEmpty()) {
      map.put(name, decisions);
      return;
    }
    List<Parsed> known = map.get(name);
    if (known == null) {
      if (statements.size() + portals.size() >= MAX_NAMES) {
        throw new ProtocolException(
            "more than " + MAX_NAMES + " prepared statements and portals in one session");
      }
      map.put(name, decisions);
      return;
    }
    List<Parsed> merged = new ArrayList<>(known);
    for (Parsed d : decisions) {
      if (!merged.contains(d)) {
        merged.add(d);
      }
    }
    if (merged.size() > MAX_CANDIDATES) {
      throw new ProtocolException(
          "the name " + name + " was redefined more than " + MAX_CANDIDATES + " times unclosed");
    }
    map.put(name, merged);
  }
}
