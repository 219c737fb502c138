package dev.warden.server.approval;

import dev.warden.core.approval.ApprovalRequest;
import dev.warden.core.approval.ApprovalStore;
import dev.warden.core.approval.Approvals;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The open approval requests (pending or approved, not yet used, denied, cancelled or expired), in
 * memory, by requester, environment and binding: so that the proxy can tell, without asking the
 * store, that a statement has no approval to use. Every UPDATE, DELETE or MERGE under a row limit
 * whose changes over it may be approved is looked up here before it runs (in the default policy:
 * each one in production); only one that has a request open asks the store.
 *
 * <p>Filled from the store when the server starts and kept current by {@link Approvals#onChange},
 * which reports every change this process makes, the CLI's and the REST API's included (they go
 * through the server). An entry may outlive its request for a while (a request that expires is
 * marked so by the sweep every minute): that costs one store query, never a wrong answer. A request
 * made by another process sharing the store is not seen until restart: its statement runs under its
 * limit, goes over it, and the gate finds the approval then (see {@link ApprovalGateway}).
 *
 * <p>When the store holds more open requests than one listing returns, the index cannot be
 * complete, and it answers "maybe" for everyone: correct, at the price of a store query per
 * statement, until the server restarts with fewer open requests.
 */
final class OpenRequests {
  private static final Logger log = LoggerFactory.getLogger(OpenRequests.class);

  /** Open requests read at start; the store lists at most this many at once. */
  static final int LOAD_LIMIT = 1000;

  /**
   * By requester and environment ({@code requester NUL environment}), the open requests' ids by
   * binding; the inner maps are immutable and replaced whole, so that readers need no lock. A
   * requester with nothing open has no entry: most lookups end at the first map.
   */
  private final ConcurrentHashMap<String, Map<String, Set<String>>> open =
      new ConcurrentHashMap<>();

  private volatile boolean complete = true;

  /**
   * The index of {@code approvals}' open requests: it listens to their changes first, then reads
   * the open ones from the store, so that no change in between is missed (one read before its
   * change is reported may linger as an entry, which only costs a store query).
   */
  static OpenRequests of(Approvals approvals) {
    OpenRequests index = new OpenRequests();
    approvals.onChange(index::changed);
    index.load(
        approvals.list(
            new ApprovalStore.Filter(
                List.of(ApprovalRequest.Status.PENDING, ApprovalRequest.Status.APPROVED),
                Optional.empty(),
                Optional.empty(),
                Optional.empty(),
                LOAD_LIMIT)));
    return index;
  }

  void load(List<ApprovalRequest> listed) {
    for (ApprovalRequest r : listed) {
      changed(r);
    }
    if (listed.size() >= LOAD_LIMIT) {
      complete = false;
      log.warn(
          "more than {} approval requests are open; every statement whose change over its row"
              + " limit may be approved asks the store for an approval until the server restarts"
              + " with fewer",
          LOAD_LIMIT);
    }
  }

  /** Records {@code r} as it now stands: open ones are kept, others dropped. */
  void changed(ApprovalRequest r) {
    boolean isOpen =
        r.status() == ApprovalRequest.Status.PENDING
            || r.status() == ApprovalRequest.Status.APPROVED;
    open.compute(
        who(r.requester(), r.environment()),
        (k, bindings) -> {
          if (bindings == null && !isOpen) {
            return null;
          }
          Map<String, Set<String>> next =
              bindings == null ? new HashMap<>() : new HashMap<>(bindings);
          Set<String> ids = new HashSet<>(next.getOrDefault(r.binding(), Set.of()));
          if (isOpen) {
            ids.add(r.id());
          } else {
            ids.remove(r.id());
          }
          if (ids.isEmpty()) {
            next.remove(r.binding());
          } else {
            next.put(r.binding(), Set.copyOf(ids));
          }
          return next.isEmpty() ? null : Map.copyOf(next);
        });
  }

  /**
   * Whether {@code requester} may have an open request in {@code environment} for the binding
   * {@code binding} computes: false for certain, or true (then the store says). The binding (a
   * keyed hash of the statement) is computed only for a requester with some request open.
   */
  boolean mayHave(String requester, String environment, Supplier<String> binding) {
    if (!complete) {
      return true;
    }
    Map<String, Set<String>> bindings = open.get(who(requester, environment));
    return bindings != null && bindings.containsKey(binding.get());
  }

  private static String who(String requester, String environment) {
    return requester + '\0' + environment;
  }
}
