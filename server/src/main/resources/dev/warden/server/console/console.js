// Warden's web console. Everything it shows comes from the REST API and is written into the page
// as text (textContent), never as markup: statements and values from the database may hold any
// characters at all.
"use strict";

(function () {
  const main = document.getElementById("main");
  let csrf = "";

  // ---- building the page ----------------------------------------------------------------------

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "text") node.textContent = v;
      else if (k === "hidden" || k === "disabled" || k === "checked") node[k] = Boolean(v);
      else node.setAttribute(k, v);
    }
    for (const c of children) {
      if (c !== null && c !== undefined) node.append(c instanceof Node ? c : String(c));
    }
    return node;
  }

  function show(...nodes) {
    main.replaceChildren(...nodes.filter((n) => n !== null && n !== undefined));
  }

  function message(text, kind) {
    return el("div", { class: "message " + (kind || ""), role: "status", text: text });
  }

  function status(s) {
    return el("span", { class: "status status-" + s, text: s });
  }

  function link(href, text) {
    return el("a", { href: href, text: text });
  }

  // ---- talking to the API ---------------------------------------------------------------------

  async function api(method, path, body) {
    const headers = { "X-CSRF-Token": csrf, Accept: "application/json" };
    const init = { method: method, headers: headers, credentials: "same-origin" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const response = await fetch(path, init);
    let data = {};
    try {
      data = await response.json();
    } catch (e) {
      data = { error: "Warden answered " + response.status };
    }
    if (!response.ok) {
      const error = new Error(data.error || "Warden answered " + response.status);
      error.status = response.status;
      throw error;
    }
    return data;
  }

  function toSignIn() {
    const next = location.pathname + location.search;
    location.assign("/login?next=" + encodeURIComponent(next));
  }

  // ---- pages ----------------------------------------------------------------------------------

  function signInPage() {
    const params = new URLSearchParams(location.search);
    let next = params.get("next") || "/approvals";
    // Only a path on this site: never an address elsewhere ("//host", "http:...", "\\host").
    if (!/^\/(?![\/\\])/.test(next)) next = "/approvals";
    const user = el("input", { type: "text", id: "user", name: "user", autocomplete: "username", required: "" });
    const password = el("input", { type: "password", id: "password", name: "password", autocomplete: "current-password", required: "" });
    const feedback = el("div");
    const form = el(
      "form",
      { class: "card", id: "sign-in" },
      el("h1", { text: "Sign in to Warden" }),
      el("label", { for: "user", text: "User" }),
      user,
      el("label", { for: "password", text: "Password" }),
      password,
      el("div", { class: "actions" }, el("button", { type: "submit", id: "sign-in-button", text: "Sign in" })),
      feedback
    );
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      feedback.replaceChildren();
      try {
        const session = await api("POST", "/api/session", { user: user.value, password: password.value });
        csrf = session.csrf;
        location.assign(next);
      } catch (e) {
        password.value = "";
        feedback.replaceChildren(message(e.message, "error"));
      }
    });
    show(form);
    user.focus();
  }

  async function inboxPage() {
    const params = new URLSearchParams(location.search);
    const which = params.get("status") || "pending";
    const data = await api("GET", "/api/approvals?status=" + encodeURIComponent(which) + "&limit=200");
    const rows = data.requests.map((r) =>
      el(
        "tr",
        { "data-id": r.id },
        el("td", {}, link("/approvals/" + encodeURIComponent(r.id), r.id)),
        el("td", {}, status(r.status)),
        el("td", { text: r.requester }),
        el("td", { text: r.environment }),
        el("td", {}, el("code", { text: summary(r) })),
        el("td", { text: r.rows === undefined ? "" : String(r.rows) }),
        el("td", { text: when(r.created) })
      )
    );
    const filters = el(
      "p",
      { class: "muted" },
      "Show: ",
      link("/approvals?status=pending", "pending"),
      " · ",
      link("/approvals?status=approved", "approved"),
      " · ",
      link("/approvals?status=all", "all")
    );
    show(
      el("h1", { text: "Approval requests (" + which + ")" }),
      filters,
      rows.length === 0
        ? el("p", { class: "muted", id: "empty", text: "Nothing here." })
        : el(
            "table",
            { id: "requests" },
            el(
              "thead",
              {},
              el("tr", {}, ...["Request", "Status", "Requester", "Environment", "What", "Rows", "Created"].map((h) => el("th", { text: h })))
            ),
            el("tbody", {}, ...rows)
          )
    );
  }

  function summary(r) {
    if (r.access) return "access: role " + r.access.role + " for " + r.access.duration;
    const s = r.statement || "";
    return s.length > 100 ? s.slice(0, 97) + "..." : s;
  }

  function when(iso) {
    if (!iso) return "";
    const d = new Date(iso);
    return isNaN(d) ? iso : d.toLocaleString();
  }

  async function requestPage(id, notice) {
    const r = await api("GET", "/api/approvals/" + encodeURIComponent(id));
    const facts = [
      ["Status", status(r.status)],
      ["Requester", r.requester + (r.on_behalf_of ? " (for " + r.on_behalf_of + ")" : "")],
      ["Requester's groups", (r.requester_groups || []).join(", ")],
      ["Environment", r.environment],
      ["Database", r.database],
      ["Rule", r.rule],
      ["Why", r.why],
      ["Reason", r.reason || "(none given)"],
      ["Rows it would change", r.rows === undefined ? "(not measured)" : String(r.rows)],
      ["Who may approve", r.requirement ? r.requirement.summary : ""],
      ["Created", when(r.created)],
      ["Expires", when(r.expires)],
    ];
    if (r.access) {
      facts.splice(5, 0, ["Access", "role " + r.access.role + " for " + r.access.duration]);
    }
    if (r.used) facts.push(["Used", when(r.used)]);
    const list = el("dl", { id: "facts" });
    for (const [k, v] of facts) {
      list.append(el("dt", { text: k }), el("dd", {}, v));
    }
    const parts = [el("h1", { text: "Request " + r.id }), notice || null, list];
    if (r.statement) {
      parts.push(el("h2", { text: "Statement" }), el("pre", { id: "statement", text: r.statement }));
    }
    if (r.reviews && r.reviews.length) {
      parts.push(
        el("h2", { text: "Reviews" }),
        el(
          "table",
          { id: "reviews" },
          el("tbody", {}, ...r.reviews.map((v) =>
            el(
              "tr",
              {},
              el("td", { text: v.reviewer }),
              el("td", { text: v.decision + (v.break_glass ? " (break-glass)" : "") }),
              el("td", { text: when(v.at) }),
              el("td", { text: v.comment })
            )
          ))
        )
      );
    }
    if (r.status === "pending") {
      parts.push(reviewForm(r));
    }
    show(...parts);
  }

  function reviewForm(r) {
    const suggested = new URLSearchParams(location.search).get("decision");
    const comment = el("textarea", { id: "comment", name: "comment" });
    const breakGlass = el("input", { type: "checkbox", id: "break-glass", name: "break_glass" });
    const approve = el("button", { type: "button", class: "approve", id: "approve", text: "Approve" });
    const deny = el("button", { type: "button", class: "deny", id: "deny", text: "Deny" });
    if (suggested === "approve") approve.classList.add("suggested");
    if (suggested === "deny") deny.classList.add("suggested");
    const feedback = el("div");
    const form = el(
      "form",
      { class: "card", id: "review" },
      el("label", { for: "comment", text: "Comment (required for break-glass: the justification)" }),
      comment,
      r.requirement && r.requirement.break_glass !== false
        ? el("label", {}, breakGlass, " Break-glass: approve alone, to be reviewed after the fact")
        : null,
      el("div", { class: "actions" }, approve, deny),
      feedback
    );
    async function decide(decision) {
      feedback.replaceChildren();
      approve.disabled = deny.disabled = true;
      try {
        const after = await api("POST", "/api/approvals/" + encodeURIComponent(r.id) + "/" + decision, {
          comment: comment.value,
          break_glass: breakGlass.checked,
        });
        await requestPage(r.id, message("Request " + after.id + " is now " + after.status + ".", "ok"));
      } catch (e) {
        approve.disabled = deny.disabled = false;
        feedback.replaceChildren(message(e.message, "error"));
      }
    }
    approve.addEventListener("click", () => decide("approve"));
    deny.addEventListener("click", () => decide("deny"));
    return form;
  }

  // ---- start ----------------------------------------------------------------------------------

  async function start() {
    const path = location.pathname;
    if (path === "/login") {
      signInPage();
      return;
    }
    let session;
    try {
      session = await api("GET", "/api/session");
    } catch (e) {
      toSignIn();
      return;
    }
    csrf = session.csrf;
    document.getElementById("who").textContent = session.user + " (" + session.groups.join(", ") + ")";
    const out = document.getElementById("sign-out");
    out.hidden = false;
    out.addEventListener("click", async () => {
      try {
        await api("DELETE", "/api/session");
      } finally {
        location.assign("/login");
      }
    });
    try {
      const match = path.match(/^\/approvals\/([^/]+)$/);
      if (match) await requestPage(decodeURIComponent(match[1]));
      else await inboxPage();
    } catch (e) {
      if (e.status === 401) toSignIn();
      else show(message(e.message, "error"));
    }
  }

  start();
})();
