package dev.warden.server.approval;

import dev.warden.core.approval.ApprovalRequest;
import dev.warden.core.environment.JustInTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A Slack-compatible incoming-webhook message ({@code {"text", "blocks"}}, Block Kit) about an
 * approval request. Everything that came from a client or a reviewer is escaped as Slack's mrkdwn
 * requires ({@code &}, {@code <}, {@code >}), so a statement or a reason cannot ping a channel or
 * forge a link; the statement is cut to {@link ApprovalNotifier#MAX_STATEMENT_IN_MESSAGE}
 * characters.
 */
final class SlackMessage {
  private SlackMessage() {}

  static Map<String, Object> of(
      ApprovalRequest r, ApprovalNotifier.Event event, Optional<String> link) {
    String headline = headline(r, event);
    List<Object> blocks = new ArrayList<>();
    blocks.add(section(headline));
    StringBuilder facts = new StringBuilder();
    facts
        .append("*Who:* ")
        .append(escape(r.requester()))
        .append("\n*Where:* ")
        .append(escape(r.environment()))
        .append(", database ")
        .append(escape(r.database()))
        .append("\n*Why:* rule ")
        .append(escape(r.rule()))
        .append(": ")
        .append(escape(r.why()));
    r.reason().ifPresent(reason -> facts.append("\n*Reason:* ").append(escape(reason)));
    if (r.rows().isPresent()) {
      facts.append("\n*Rows it would change:* ").append(r.rows().getAsLong());
    }
    facts
        .append("\n*Needs:* ")
        .append(escape(ApprovalJson.summary(r.requirement())))
        .append("\n*Expires:* ")
        .append(r.expires());
    blocks.add(section(facts.toString()));
    if (r.access().isPresent()) {
      ApprovalRequest.Access a = r.access().get();
      blocks.add(
          section(
              "*Access request:* role "
                  + escape(a.role())
                  + " for "
                  + JustInTime.format(a.duration())
                  + a.end().map(end -> ", window until " + end).orElse("")));
    } else {
      blocks.add(section("```" + code(r.statement()) + "```"));
    }
    if (!r.reviews().isEmpty()) {
      StringBuilder reviews = new StringBuilder();
      for (ApprovalRequest.Review review : r.reviews()) {
        if (!reviews.isEmpty()) {
          reviews.append('\n');
        }
        reviews
            .append(review.breakGlass() ? "break-glass " : "")
            .append(review.approve() ? "approved by " : "denied by ")
            .append(escape(review.reviewer()));
        if (!review.comment().isEmpty()) {
          reviews.append(": ").append(escape(review.comment()));
        }
      }
      blocks.add(section(reviews.toString()));
    }
    boolean open = r.status() == ApprovalRequest.Status.PENDING;
    if (link.isPresent()) {
      List<Object> buttons = new ArrayList<>();
      if (open) {
        buttons.add(button("Approve", link.get() + "?decision=approve", Optional.of("primary")));
        buttons.add(button("Deny", link.get() + "?decision=deny", Optional.of("danger")));
      }
      buttons.add(button("Open", link.get(), Optional.empty()));
      Map<String, Object> actions = new LinkedHashMap<>();
      actions.put("type", "actions");
      actions.put("elements", buttons);
      blocks.add(actions);
    } else if (open) {
      blocks.add(
          section(
              "Review with `warden approvals approve "
                  + escape(r.id())
                  + "` or `warden approvals deny "
                  + escape(r.id())
                  + "`"));
    }
    Map<String, Object> message = new LinkedHashMap<>();
    // The fallback text shown in notifications, where blocks are not.
    message.put("text", headline);
    message.put("blocks", blocks);
    return message;
  }

  private static String headline(ApprovalRequest r, ApprovalNotifier.Event event) {
    String id = " (" + escape(r.id()) + ")";
    String who = escape(r.requester());
    String where = escape(r.environment());
    if (r.access().isPresent()) {
      String role = escape(r.access().get().role());
      String length = JustInTime.format(r.access().get().duration());
      return switch (event) {
        case REQUESTED ->
            "Access requested"
                + id
                + ": "
                + who
                + " asks for role "
                + role
                + " in "
                + where
                + " for "
                + length;
        case REVIEWED ->
            "Access request in progress"
                + id
                + ": "
                + ApprovalJson.approvals(r)
                + " of "
                + r.requirement().minApprovals()
                + " approvals for "
                + who
                + " in "
                + where;
        case APPROVED ->
            "Access approved"
                + id
                + ": "
                + who
                + " works as role "
                + role
                + " in "
                + where
                + " for "
                + length;
        case DENIED -> "Access denied" + id + ": " + who + "'s request for role " + role;
        case EXPIRED -> "Access request expired" + id + ": " + who + "'s request in " + where;
        case CANCELLED ->
            "Access cancelled" + id + ": " + who + " withdrew the request or ended the window";
        case USED -> "Access window ended" + id + ": " + who + "'s role " + role + " in " + where;
      };
    }
    return switch (event) {
      case REQUESTED ->
          "Approval requested" + id + ": " + who + " wants to run a statement in " + where;
      case REVIEWED ->
          "Approval in progress"
              + id
              + ": "
              + ApprovalJson.approvals(r)
              + " of "
              + r.requirement().minApprovals()
              + " approvals for "
              + who
              + " in "
              + where;
      case APPROVED -> "Approved" + id + ": " + who + "'s statement in " + where + " may run once";
      case DENIED -> "Denied" + id + ": " + who + "'s statement in " + where;
      case EXPIRED -> "Expired" + id + ": " + who + "'s request in " + where;
      case CANCELLED -> "Cancelled" + id + ": " + who + " withdrew the request in " + where;
      case USED -> "Used" + id + ": " + who + "'s approved statement ran in " + where;
    };
  }

  private static Map<String, Object> section(String mrkdwn) {
    Map<String, Object> text = new LinkedHashMap<>();
    text.put("type", "mrkdwn");
    text.put("text", mrkdwn);
    Map<String, Object> section = new LinkedHashMap<>();
    section.put("type", "section");
    section.put("text", text);
    return section;
  }

  private static Map<String, Object> button(String label, String url, Optional<String> style) {
    Map<String, Object> text = new LinkedHashMap<>();
    text.put("type", "plain_text");
    text.put("text", label);
    Map<String, Object> button = new LinkedHashMap<>();
    button.put("type", "button");
    button.put("text", text);
    button.put("url", url);
    style.ifPresent(s -> button.put("style", s));
    return button;
  }

  /** The statement for a code block: escaped, without a fence that would end the block, cut. */
  private static String code(String statement) {
    String text = statement.replace("```", "`\u200b`\u200b`");
    if (text.length() > ApprovalNotifier.MAX_STATEMENT_IN_MESSAGE) {
      text = text.substring(0, ApprovalNotifier.MAX_STATEMENT_IN_MESSAGE) + " …";
    }
    return escape(text);
  }

  /** Slack's mrkdwn escaping: the three characters its control sequences start with. */
  static String escape(String text) {
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
  }
}
