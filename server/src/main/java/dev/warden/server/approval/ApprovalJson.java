package dev.warden.server.approval;

import dev.warden.core.approval.ApprovalRequest;
import dev.warden.core.approval.ApprovalRequirement;
import dev.warden.core.environment.JustInTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;

/**
 * An approval request as the REST API, the CLI's {@code --json} and the webhooks show it: one shape
 * everywhere, with every field a reviewer needs (who, where, the statement, why policy flagged it,
 * the reason, the rows it would change, the requirement and the reviews so far). The binding hash
 * is left out: it proves nothing to a reader and is only compared inside Warden.
 */
public final class ApprovalJson {
  private ApprovalJson() {}

  /** The request's fields, in a stable order, as JSON-ready values. */
  public static Map<String, Object> request(ApprovalRequest r) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("id", r.id());
    out.put("status", status(r.status()));
    out.put("kind", kind(r));
    out.put("requester", r.requester());
    r.requesterOnBehalfOf().ifPresent(p -> out.put("on_behalf_of", p));
    out.put("requester_groups", List.copyOf(new TreeSet<>(r.requesterGroups())));
    out.put("environment", r.environment());
    out.put("database", r.database());
    out.put("statement", r.statement());
    out.put("fingerprint", r.fingerprint());
    out.put("rule", r.rule());
    out.put("why", r.why());
    r.reason().ifPresent(reason -> out.put("reason", reason));
    if (r.rows().isPresent()) {
      out.put("rows", r.rows().getAsLong());
    }
    out.put("created", r.created().toString());
    out.put("expires", r.expires().toString());
    r.used().ifPresent(used -> out.put("used", used.toString()));
    r.access().ifPresent(a -> out.put("access", access(a)));
    out.put("requirement", requirement(r.requirement()));
    out.put("approvals", approvals(r));
    // Break-glass approvals are reviewed after the fact: marked where reviewers list requests.
    out.put("break_glass", breakGlass(r));
    List<Object> reviews = new ArrayList<>(r.reviews().size());
    for (ApprovalRequest.Review review : r.reviews()) {
      Map<String, Object> shown = new LinkedHashMap<>();
      shown.put("reviewer", review.reviewer());
      shown.put("reviewer_groups", List.copyOf(new TreeSet<>(review.reviewerGroups())));
      shown.put("decision", review.approve() ? "approve" : "deny");
      shown.put("at", review.at().toString());
      shown.put("comment", review.comment());
      shown.put("break_glass", review.breakGlass());
      reviews.add(shown);
    }
    out.put("reviews", reviews);
    return out;
  }

  /** A request's kind as JSON and the CLI spell it: {@code statement} or {@code access}. */
  public static String kind(ApprovalRequest r) {
    return r.kind().name().toLowerCase(Locale.ROOT);
  }

  /**
   * An access request's role and duration, and once approved its window: {@code {"role",
   * "duration", "duration_seconds", "window_start", "window_end"}}.
   */
  static Map<String, Object> access(ApprovalRequest.Access a) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("role", a.role());
    out.put("duration", JustInTime.format(a.duration()));
    out.put("duration_seconds", a.duration().toSeconds());
    a.start().ifPresent(t -> out.put("window_start", t.toString()));
    a.end().ifPresent(t -> out.put("window_end", t.toString()));
    return out;
  }

  /** A status as JSON and the CLI spell it: {@code pending}, {@code approved}, ... */
  public static String status(ApprovalRequest.Status status) {
    return status.name().toLowerCase(Locale.ROOT);
  }

  /** Whether a reviewer approved the request as break-glass (to be reviewed after the fact). */
  public static boolean breakGlass(ApprovalRequest r) {
    return r.reviews().stream().anyMatch(v -> v.approve() && v.breakGlass());
  }

  /** The number of approvals given so far. */
  static long approvals(ApprovalRequest r) {
    return r.reviews().stream().filter(ApprovalRequest.Review::approve).count();
  }

  static Map<String, Object> requirement(ApprovalRequirement q) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("summary", summary(q));
    out.put("approver_groups", List.copyOf(new TreeSet<>(q.approverGroups())));
    out.put("min_approvals", q.minApprovals());
    out.put("all_of_groups", q.allOfGroups());
    out.put("waiting", q.waiting().name().toLowerCase(Locale.ROOT));
    out.put("hold_timeout_seconds", q.holdTimeout().toSeconds());
    out.put("lifetime_seconds", q.lifetime().toSeconds());
    out.put("reason_required", q.reasonRequired());
    out.put("break_glass", q.breakGlass());
    out.put("break_glass_only", q.breakGlassOnly());
    return out;
  }

  /**
   * Who must approve, in words: {@code 1 approval from approvers}, {@code 2 approvals from any of
   * approvers, dba}, {@code 2 approvals, at least one from each of dba, security}; break-glass
   * appended when allowed; {@code break-glass only, by 1 reviewer from approvers} for a statement a
   * guardrail denied.
   */
  public static String summary(ApprovalRequirement q) {
    String groups = String.join(", ", new TreeSet<>(q.approverGroups()));
    if (q.breakGlassOnly()) {
      return "break-glass only, by 1 reviewer from "
          + (q.approverGroups().size() == 1 ? "" : "any of ")
          + groups;
    }
    String count = q.minApprovals() + (q.minApprovals() == 1 ? " approval" : " approvals");
    String who;
    if (q.approverGroups().size() == 1) {
      who = count + " from " + groups;
    } else if (q.allOfGroups()) {
      who = count + ", at least one from each of " + groups;
    } else {
      who = count + " from any of " + groups;
    }
    return who + (q.breakGlass() ? "; break-glass allowed" : "");
  }
}
