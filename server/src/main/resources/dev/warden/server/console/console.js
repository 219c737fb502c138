// Warden's web console. Everything it shows comes from the REST API and is written into the page
// as text (textContent), never as markup: statements and values from the database may hold any
// characters at all.
"use strict";

(function () {
  const main = document.getElementById("main");
  const SVG = "http://www.w3.org/2000/svg";
  let csrf = "";
  let me = { user: "", groups: [], roles: [] };

  // ---- building the page ----------------------------------------------------------------------

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "text") node.textContent = v;
      else if (k === "hidden" || k === "disabled" || k === "checked") node[k] = Boolean(v);
      else if (k === "value") node.value = v;
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

  // SVG, built node by node like the rest (the policy allows no markup from strings).
  function svg(tag, attrs, ...children) {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "text") node.textContent = v;
      else node.setAttribute(k, String(v));
    }
    for (const c of children) {
      if (c !== null && c !== undefined) node.append(c instanceof Node ? c : String(c));
    }
    return node;
  }

  function table(id, headings, rows, cls) {
    const attrs = cls ? { class: cls } : {};
    if (id) attrs.id = id;
    return el(
      "div",
      { class: "table-wrap" },
      el(
        "table",
        attrs,
        el("thead", {}, el("tr", {}, ...headings.map((h) => el("th", { text: h })))),
        el("tbody", {}, ...rows)
      )
    );
  }

  function facts(id, pairs, cls) {
    const list = el("dl", cls ? { id: id, class: cls } : { id: id });
    for (const [k, v] of pairs) {
      list.append(el("dt", { text: k }), el("dd", {}, v === undefined || v === null ? "" : v));
    }
    return list;
  }

  function has(role) {
    return me.roles.includes(role);
  }

  function reader() {
    return has("auditor") || has("administrator");
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
      error.position = data.position;
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
    let next = params.get("next") || "/";
    // Only a path on this site: never an address elsewhere ("//host", "http:...", "\\host").
    if (!/^\/(?![\/\\])/.test(next)) next = "/";
    const user = el("input", { type: "text", id: "user", name: "user", autocomplete: "username", required: "" });
    const password = el("input", { type: "password", id: "password", name: "password", autocomplete: "current-password", required: "" });
    const feedback = el("div");
    // A sign-in through the identity provider that failed comes back here saying why (as text).
    if (params.get("error")) feedback.append(message(params.get("error"), "error"));
    const providers = el("div", { id: "providers" });
    const form = el(
      "form",
      { class: "card", id: "sign-in" },
      el("h1", { text: "Sign in to Warden" }),
      el("label", { for: "user", text: "User" }),
      user,
      el("label", { for: "password", text: "Password" }),
      password,
      el("div", { class: "actions" }, el("button", { type: "submit", id: "sign-in-button", text: "Sign in" })),
      providers,
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
    identityProviders(providers, next);
  }

  // The identity providers people may sign in with, each a link that comes back to `next`.
  async function identityProviders(box, next) {
    let list = [];
    try {
      list = (await api("GET", "/api/session/providers")).providers || [];
    } catch (e) {
      return; // only the password form, then
    }
    if (list.length === 0) return;
    box.append(el("p", { class: "muted", text: "or" }));
    for (const p of list) {
      // Only this site's own sign-in paths.
      if (typeof p.url !== "string" || !/^\/login\/oidc\/[^/]+$/.test(p.url)) continue;
      box.append(el("a", { class: "button provider", href: p.url + "?return=" + encodeURIComponent(next), text: "Sign in with " + p.name }), " ");
    }
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

  // ---- shared pieces ----------------------------------------------------------------------------

  function params() {
    return new URLSearchParams(location.search);
  }

  // The URL with some of its query parameters changed (empty values dropped), for deep links.
  function withParams(changes) {
    const p = params();
    for (const [k, v] of Object.entries(changes)) {
      if (v === undefined || v === null || v === "") p.delete(k);
      else p.set(k, v);
    }
    return location.pathname + query(p);
  }

  // A query string that stays readable in the address bar: user:alice, not user%3Aalice.
  function query(p) {
    const parts = [];
    for (const [k, v] of p) {
      const value = encodeURIComponent(v)
        .replace(/%3A/gi, ":")
        .replace(/%2C/gi, ",")
        .replace(/%40/gi, "@")
        .replace(/%2F/gi, "/")
        .replace(/%20/g, "+");
      parts.push(encodeURIComponent(k) + "=" + value);
    }
    return parts.length ? "?" + parts.join("&") : "";
  }

  // A term of the audit query language, quoted when the value needs it (docs/audit.md).
  function term(field, value) {
    const v = String(value);
    if (/^[A-Za-z0-9_.@-]+$/.test(v) && !v.startsWith("-")) return field + ":" + v;
    return field + ':"' + v.replace(/\\/g, "\\\\").replace(/"/g, '\\"') + '"';
  }

  function pad(n) {
    return String(n).padStart(2, "0");
  }

  // A record's time, short: the time of day for today, the date as well otherwise.
  function moment(iso) {
    if (!iso) return "";
    const d = new Date(iso);
    if (isNaN(d)) return iso;
    const time = pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds());
    const today = new Date();
    if (d.toDateString() === today.toDateString()) return time;
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + " " + time;
  }

  function duration(us) {
    if (us === undefined || us === null) return "";
    if (us < 1000) return us + " µs";
    if (us < 1000000) return (us / 1000).toFixed(us < 10000 ? 1 : 0) + " ms";
    return (us / 1000000).toFixed(us < 10000000 ? 2 : 1) + " s";
  }

  function count(n) {
    return n === undefined || n === null ? "" : String(n);
  }

  function list(values) {
    return Array.isArray(values) ? values.join(", ") : values === undefined || values === null ? "" : String(values);
  }

  function shorten(text, n) {
    const s = text || "";
    return s.length > n ? s.slice(0, n - 1) + "…" : s;
  }

  // The environments to choose from, or none when Warden cannot say (the page still works).
  async function environments() {
    try {
      const data = await api("GET", "/api/environments");
      return (data.environments || []).map((e) => e.name);
    } catch (e) {
      return [];
    }
  }

  // A selector of environments that reloads the page with ?environment=NAME (a deep link).
  async function environmentPicker(current) {
    const names = await environments();
    if (current && !names.includes(current)) names.push(current);
    const select = el("select", { id: "environment", name: "environment" }, el("option", { value: "", text: "All environments" }));
    for (const n of names) select.append(el("option", { value: n, text: n }));
    select.value = current || "";
    select.addEventListener("change", () => location.assign(withParams({ environment: select.value })));
    return el("label", { class: "inline" }, "Environment ", select);
  }

  function live(text) {
    return el("span", { class: "live", id: "live-state", "data-state": "connecting", text: text });
  }

  // ---- the audit table (audit page, a session's page) ------------------------------------------

  // One row per result; a statement's outcome arrives after its intent and replaces its row.
  function recordKey(hit) {
    if (!hit.event && hit.session !== undefined && hit.stmt !== undefined) {
      return "s:" + hit.log_id + ":" + hit.session + ":" + hit.stmt;
    }
    return "r:" + hit.log_id + ":" + hit.seq;
  }

  function what(hit) {
    if (hit.event) return "event: " + hit.event;
    const commands = (hit.statements || []).map((s) => s.command).filter((c) => c);
    return commands.length ? commands.join(", ") : list(hit.kinds);
  }

  function verdictOf(hit) {
    if (hit.event) return el("span", { class: "status status-" + (hit.success ? "ok" : "failed"), text: hit.success ? "ok" : "failed" });
    const parts = [status(hit.verdict || "?")];
    if (hit.status && hit.status !== "ok") parts.push(" ", el("span", { class: "status status-" + hit.status, text: hit.status }));
    return el("span", {}, ...parts);
  }

  function textOf(hit) {
    if (!hit.event) {
      const parts = [el("code", { class: "sql", text: shorten(hit.text, 300) })];
      if (Array.isArray(hit.parameters) && hit.parameters.length) {
        const shown = hit.parameters.map((v, i) => "$" + (i + 1) + " = " + (v === null ? "NULL" : String(v)));
        parts.push(el("div", { class: "muted small parameters", text: "parameters: " + shorten(shown.join(", "), 300) }));
      }
      return el("div", {}, ...parts);
    }
    const details = Object.entries(hit.details || {})
      .map(([k, v]) => k + "=" + v)
      .join(" ");
    return el("span", { class: "muted", text: shorten(details, 300) });
  }

  function userOf(hit) {
    if (hit.user) return hit.user;
    const d = hit.details || {};
    return d.claimed_user || d.user || "";
  }

  function auditRow(hit, fresh) {
    const when = el("td", { class: "nowrap" }, el("span", { text: moment(hit.time), title: hit.time || "" }));
    if (hit.session !== undefined && hit.session !== "") {
      when.append(el("br"), el("a", { class: "muted small", href: "/sessions/" + encodeURIComponent(hit.session), text: String(hit.session) }));
    }
    const row = el(
      "tr",
      { class: "record" + (fresh ? " fresh" : ""), "data-key": recordKey(hit), tabindex: "0", "aria-expanded": "false" },
      when,
      el("td", { text: userOf(hit) }),
      el("td", { text: hit.env || "" }),
      el("td", { text: what(hit) }),
      el("td", { class: "statement" }, textOf(hit)),
      el("td", { text: list(hit.tables) }),
      el("td", {}, verdictOf(hit)),
      el("td", { class: "num", text: count(hit.rows) }),
      el("td", { text: list(hit.masked) }),
      el("td", { class: "num nowrap", text: duration(hit.duration_us) })
    );
    function toggle() {
      const next = row.nextElementSibling;
      if (next && next.classList.contains("detail")) {
        next.remove();
        row.setAttribute("aria-expanded", "false");
        return;
      }
      // The whole record, as text.
      row.after(el("tr", { class: "detail" }, el("td", { colspan: "10" }, el("pre", { text: JSON.stringify(hit, null, 2) }))));
      row.setAttribute("aria-expanded", "true");
    }
    row.addEventListener("click", (event) => {
      if (!event.target.closest("a")) toggle();
    });
    row.addEventListener("keydown", (event) => {
      if ((event.key === "Enter" || event.key === " ") && event.target === row) {
        event.preventDefault();
        toggle();
      }
    });
    return row;
  }

  const AUDIT_HEADINGS = ["Time", "User", "Environment", "Kind / event", "Statement", "Tables", "Verdict", "Rows", "Masked columns", "Duration"];
  const MAX_ROWS = 1000;

  // A table of audit results that can follow the trail: new matching records go on top.
  function auditTable(id, changed) {
    const body = el("tbody");
    const empty = el("p", { class: "muted", id: id + "-empty", text: "No records match." });
    const node = el(
      "div",
      {},
      el(
        "div",
        { class: "table-wrap" },
        el("table", { id: id, class: "audit" }, el("thead", {}, el("tr", {}, ...AUDIT_HEADINGS.map((h) => el("th", { text: h })))), body)
      ),
      empty
    );
    const rows = new Map();
    function put(hit, fresh, onTop) {
      const key = recordKey(hit);
      const row = auditRow(hit, fresh);
      const old = rows.get(key);
      if (old) {
        const detail = old.nextElementSibling;
        if (detail && detail.classList.contains("detail")) detail.remove();
        old.replaceWith(row);
      } else if (onTop) {
        body.prepend(row);
      } else {
        body.append(row);
      }
      rows.set(key, row);
      while (rows.size > MAX_ROWS) {
        const last = body.lastElementChild;
        if (!last) break;
        if (last.classList.contains("detail")) {
          last.remove();
          continue;
        }
        rows.delete(last.getAttribute("data-key"));
        last.remove();
      }
      empty.hidden = rows.size > 0;
      if (changed) changed(rows.size);
    }
    return {
      node: node,
      fill(hits) {
        body.replaceChildren();
        rows.clear();
        for (const h of hits) put(h, false, false);
        empty.hidden = rows.size > 0;
        if (changed) changed(rows.size);
      },
      add(hit) {
        put(hit, true, true);
      },
    };
  }

  // Follows /api/audit/tail for `query`; shows its state and a pause/resume button.
  function follower(query, onRecord, onResume) {
    const state = live("Connecting…");
    const toggle = el("button", { type: "button", id: "live-toggle", text: "Pause" });
    const problem = el("span", { class: "error-text", id: "live-problem" });
    let source = null;
    function set(s, text) {
      state.setAttribute("data-state", s);
      state.textContent = text;
    }
    function open() {
      problem.textContent = "";
      set("connecting", "Connecting…");
      source = new EventSource("/api/audit/tail?q=" + encodeURIComponent(query));
      source.addEventListener("open", () => set("open", "Live"));
      source.addEventListener("record", (e) => {
        try {
          onRecord(JSON.parse(e.data));
        } catch (err) {
          problem.textContent = "a record could not be read: " + err.message;
        }
      });
      source.addEventListener("overflow", (e) => {
        close();
        set("closed", "Stopped");
        let why = "this page fell behind the trail";
        try {
          why = JSON.parse(e.data).error;
        } catch (err) {
          // keep the general message
        }
        problem.textContent = why;
        toggle.textContent = "Resume";
      });
      source.addEventListener("error", () => {
        if (source && source.readyState === EventSource.CLOSED) {
          set("closed", "Disconnected");
          problem.textContent = "Warden refused or ended the live view; search again to retry.";
          toggle.textContent = "Resume";
          source = null;
        } else {
          set("connecting", "Reconnecting…");
        }
      });
    }
    function close() {
      if (source) source.close();
      source = null;
    }
    toggle.addEventListener("click", async () => {
      if (source) {
        close();
        set("paused", "Paused");
        toggle.textContent = "Resume";
      } else {
        toggle.textContent = "Pause";
        // What arrived while paused: search again, then follow.
        if (onResume) await onResume();
        open();
      }
    });
    window.addEventListener("pagehide", close);
    open();
    return { node: el("span", { class: "follow" }, state, " ", toggle, " ", problem), close: close };
  }

  // ---- audit ------------------------------------------------------------------------------------

  async function auditPage() {
    document.title = "Warden · Audit";
    let query = params().get("q") || "";
    const input = el("input", { type: "text", id: "query", name: "q", value: query, spellcheck: "false", autocomplete: "off", placeholder: "user:alice table:users verdict:denied since:24h \"where id =\"" });
    const exportLink = el("a", { id: "export", class: "button", download: "", text: "Export (JSON lines)" });
    const feedback = el("div", { id: "audit-feedback" });
    const summaryLine = el("p", { class: "muted", id: "audit-summary" });
    let more = false;
    let failed = false;
    const results = auditTable("records", (n) => {
      summaryLine.textContent = failed
        ? ""
        : n + (n === 1 ? " record" : " records") + (more ? " (the search found more than 200: narrow it, or export up to 10 000)" : "") + ", newest first; new ones appear on top as they are recorded. Click a row for the whole record.";
    });
    let follow = null;

    async function search() {
      feedback.replaceChildren();
      exportLink.href = "/api/audit/export?q=" + encodeURIComponent(query);
      try {
        const data = await api("GET", "/api/audit?q=" + encodeURIComponent(query) + "&limit=200");
        more = data.more;
        failed = false;
        results.fill(data.hits);
        return true;
      } catch (e) {
        failed = true;
        results.fill([]);
        const text = e.position !== undefined ? e.message + " (at character " + e.position + ")" : e.message;
        feedback.replaceChildren(message(text, "error"));
        return false;
      }
    }

    async function run() {
      if (follow) follow.close();
      follow = null;
      history.replaceState(null, "", withParams({ q: query }));
      const ok = await search();
      const slot = document.getElementById("follow-slot");
      slot.replaceChildren();
      if (ok) {
        follow = follower(query, (hit) => results.add(hit), search);
        slot.append(follow.node);
      }
    }

    const form = el(
      "form",
      { id: "audit-search", class: "search" },
      el("label", { for: "query", text: "Search the audit trail" }),
      el("div", { class: "row" }, input, el("button", { type: "submit", text: "Search" }), exportLink),
      el("p", { class: "muted small" }, "Terms all must hold: ", el("code", { text: "user:alice" }), ", ", el("code", { text: "env:production" }), ", ", el("code", { text: "table:users" }), ", ", el("code", { text: "verdict:denied" }), ", ", el("code", { text: "event:connect" }), ", ", el("code", { text: "rows>100" }), ", ", el("code", { text: "since:1h" }), ", ", el("code", { text: "\"text\"" }), "; see docs/audit.md.")
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      query = input.value.trim();
      run();
    });
    show(el("h1", { text: "Audit trail" }), form, feedback, el("div", { class: "toolbar" }, summaryLine, el("span", { id: "follow-slot" })), results.node);
    await run();
  }

  // ---- sessions ---------------------------------------------------------------------------------

  function terminateButton(session, after) {
    const reason = el("input", { type: "text", class: "reason", name: "reason", placeholder: "why (the client is told)", "aria-label": "Reason" });
    const confirm = el("button", { type: "button", class: "deny", text: "End session" });
    const cancel = el("button", { type: "button", text: "Cancel" });
    const feedback = el("span", { class: "error-text" });
    const box = el("span", { class: "terminate-form", hidden: true }, reason, " ", confirm, " ", cancel, " ", feedback);
    const open = el("button", { type: "button", class: "terminate", "data-session": session.id, text: "Terminate…" });
    open.addEventListener("click", () => {
      open.hidden = true;
      box.hidden = false;
      reason.focus();
    });
    cancel.addEventListener("click", () => {
      box.hidden = true;
      open.hidden = false;
      feedback.textContent = "";
    });
    async function end() {
      if (!reason.value.trim()) {
        feedback.textContent = "Give a reason: the client and the audit trail are told.";
        return;
      }
      confirm.disabled = true;
      try {
        await api("POST", "/api/sessions/" + encodeURIComponent(session.id) + "/terminate", { reason: reason.value.trim() });
        after("Session " + session.id + " of " + session.user + " was ended.");
      } catch (e) {
        confirm.disabled = false;
        feedback.textContent = e.message;
      }
    }
    confirm.addEventListener("click", end);
    reason.addEventListener("keydown", (e) => {
      if (e.key === "Enter") {
        e.preventDefault();
        end();
      }
    });
    return el("span", {}, open, box);
  }

  function sessionState(s) {
    return el("span", { class: "status status-" + s, text: (s || "").replace(/_/g, " ") });
  }

  async function sessionsPage(notice) {
    document.title = "Warden · Sessions";
    const environment = params().get("environment") || "";
    const picker = await environmentPicker(environment);
    const liveSection = el("section", { id: "live-sessions" }, el("h2", { text: "Connected now" }));
    const pastSection = el("section", { id: "past-sessions" }, el("h2", { text: "Sessions of the last 24 hours" }));
    const stamp = el("span", { class: "muted small", id: "sessions-time" });
    show(el("h1", { text: "Sessions" }), notice || null, el("div", { class: "toolbar" }, picker, stamp), liveSection, pastSection);
    await liveSessions(liveSection, environment, stamp);
    // Kept current while no one is typing a reason to end one of them.
    clearInterval(sessionsTimer);
    sessionsTimer = setInterval(() => {
      if (!document.hidden && !liveSection.querySelector(".terminate-form:not([hidden])")) {
        liveSessions(liveSection, environment, stamp).catch(() => toSignIn());
      }
    }, 10000);
    await pastSessions(pastSection, environment);
  }

  let sessionsTimer = 0;

  async function liveSessions(section, environment, stamp) {
    const parts = [el("h2", { text: "Connected now" })];
    try {
      const data = await api("GET", "/api/sessions" + (environment ? "?environment=" + encodeURIComponent(environment) : ""));
      const sessions = data.sessions || [];
      stamp.textContent = "As of " + moment(new Date().toISOString()) + "; refreshed every 10 seconds.";
      if (sessions.length === 0) {
        parts.push(el("p", { class: "muted", id: "no-live-sessions", text: "No one is connected" + (environment ? " to " + environment : "") + "." }));
      } else {
        const rows = sessions.map((s) =>
          el(
            "tr",
            { "data-session": s.id },
            el("td", {}, link("/sessions/" + encodeURIComponent(s.id), s.id)),
            el("td", { text: s.user + (s.on_behalf_of ? " (for " + s.on_behalf_of + ")" : "") }),
            el("td", { text: s.environment }),
            el("td", { text: s.database }),
            el("td", { text: s.source }),
            el("td", { text: s.application || "" }),
            el("td", { text: s.role || "" }),
            el("td", { class: "nowrap", text: moment(s.started) }),
            el("td", {}, sessionState(s.state)),
            el("td", { class: "num", text: count(s.statements) }),
            el("td", { class: "statement" }, el("code", { class: "sql", text: shorten(s.last_statement, 160) })),
            el("td", {}, has("administrator") ? terminateButton(s, (text) => sessionsPage(message(text, "ok"))) : null)
          )
        );
        parts.push(table("live", ["Session", "User", "Environment", "Database", "From", "Application", "Role", "Since", "State", "Statements", "Last statement", ""], rows, "compact"));
      }
    } catch (e) {
      if (e.status === 401) throw e;
      parts.push(message("Live sessions: " + e.message, "error"));
    }
    section.replaceChildren(...parts);
  }

  async function pastSessions(pastSection, environment) {
    if (!reader()) {
      pastSection.append(el("p", { class: "muted", text: "Past sessions come from the audit trail, which auditors and administrators read." }));
      return;
    }
    const q = "event:connect since:24h" + (environment ? " " + term("env", environment) : "");
    try {
      const data = await api("GET", "/api/audit?q=" + encodeURIComponent(q) + "&limit=200");
      if (data.hits.length === 0) {
        pastSection.append(el("p", { class: "muted", text: "No connections in the last 24 hours." }));
        return;
      }
      const rows = data.hits.map((h) =>
        el(
          "tr",
          {},
          el("td", { class: "nowrap", text: moment(h.time) }),
          el("td", {}, h.session !== undefined ? link("/sessions/" + encodeURIComponent(h.session), String(h.session)) : ""),
          el("td", { text: userOf(h) }),
          el("td", { text: h.env || "" }),
          el("td", { text: h.database || "" }),
          el("td", { text: h.client || "" }),
          el("td", { text: h.application || "" }),
          el("td", {}, el("span", { class: "status status-" + (h.success ? "ok" : "failed"), text: h.success ? "connected" : "refused" })),
          el("td", { class: "muted", text: h.success ? list((h.details || {}).upstream_role) : (h.details || {}).reason || "" })
        )
      );
      pastSection.append(
        table("past", ["Connected", "Session", "User", "Environment", "Database", "From", "Application", "", "Role / reason"], rows, "compact"),
        el("p", { class: "muted small" }, data.more ? "The newest 200. " : "", link("/audit?q=" + encodeURIComponent(q), "Search these in the audit trail"))
      );
    } catch (e) {
      pastSection.append(message("Past sessions: " + e.message, "error"));
    }
  }

  async function sessionPage(id, notice) {
    document.title = "Warden · Session " + id;
    const head = el("section", { id: "session-live" });
    const query = term("session", id);
    const results = auditTable("statements");
    const feedback = el("div");
    const followSlot = el("span");
    show(
      el("h1", { text: "Session " + id }),
      notice || null,
      head,
      el("h2", { text: "Its statements and events" }),
      el("div", { class: "toolbar" }, el("span", { class: "muted" }, link("/audit?q=" + encodeURIComponent(query), "Open in the audit search")), followSlot),
      feedback,
      results.node
    );
    try {
      const s = await api("GET", "/api/sessions/" + encodeURIComponent(id));
      head.append(
        facts("session-facts", [
          ["State", sessionState(s.state)],
          ["User", s.user + (s.on_behalf_of ? " (for " + s.on_behalf_of + ")" : "")],
          ["Groups", list(s.groups)],
          ["Signed in with", s.auth_method || ""],
          ["Environment", s.environment],
          ["Database", s.database],
          ["Database role", s.role || ""],
          ["From", s.source],
          ["Application", s.application || ""],
          ["Since", when(s.started)],
          ["Statements", count(s.statements)],
        ], "compact")
      );
      if (s.last_statement) {
        head.append(el("p", { class: "last-statement" }, el("span", { class: "muted", text: "Last statement " + (s.last_statement_at ? "(" + moment(s.last_statement_at) + ")" : "") + ": " }), el("code", { class: "sql", text: s.last_statement })));
      }
      if (has("administrator")) head.append(el("p", {}, terminateButton(s, (text) => sessionPage(id, message(text, "ok")))));
    } catch (e) {
      // 404: not connected now (the API's own words say so).
      head.append(message("Live session: " + e.message, e.status === 404 ? "" : "error"));
    }
    async function search() {
      try {
        const data = await api("GET", "/api/audit?q=" + encodeURIComponent(query) + "&limit=500");
        // Oldest first reads as the session went; new records are added on top by the tail.
        results.fill(data.hits);
        return true;
      } catch (e) {
        feedback.replaceChildren(message(e.message, "error"));
        return false;
      }
    }
    if (await search()) {
      followSlot.append(follower(query, (hit) => results.add(hit), search).node);
    }
  }

  // ---- overview ---------------------------------------------------------------------------------

  function niceMax(n) {
    if (n <= 5) return 5;
    const p = Math.pow(10, Math.floor(Math.log10(n)));
    for (const m of [1, 2, 5, 10]) if (m * p >= n) return m * p;
    return 10 * p;
  }

  function hhmm(iso) {
    const d = new Date(iso);
    return isNaN(d) ? "" : pad(d.getHours()) + ":" + pad(d.getMinutes());
  }

  // Statements per minute as bars, denied and masked as lines over them.
  function minuteChart(minutes) {
    const W = 1200, H = 230, L = 44, R = 10, T = 12, B = 28;
    const w = W - L - R, h = H - T - B;
    const n = Math.max(minutes.length, 1);
    const top = niceMax(Math.max(1, ...minutes.map((m) => Math.max(m.statements || 0, m.denied || 0, m.masked || 0))));
    const x = (i) => L + (i * w) / n;
    const y = (v) => T + h - (v * h) / top;
    const chart = svg("svg", { viewBox: "0 0 " + W + " " + H, class: "chart", id: "minute-chart", role: "img", "aria-label": "Statements per minute, with denied and masked" });
    for (const f of [0, 0.5, 1]) {
      const v = Math.round(top * f);
      chart.append(svg("line", { x1: L, x2: W - R, y1: y(v), y2: y(v), class: "grid" }), svg("text", { x: L - 6, y: y(v) + 4, class: "axis", "text-anchor": "end", text: String(v) }));
    }
    minutes.forEach((m, i) => {
      const bar = svg("rect", { x: x(i) + 1, y: y(m.statements || 0), width: Math.max(w / n - 2, 1), height: Math.max(T + h - y(m.statements || 0), 0), class: "bar" });
      bar.append(svg("title", { text: hhmm(m.minute) + ": " + (m.statements || 0) + " statements, " + (m.denied || 0) + " denied, " + (m.masked || 0) + " masked" }));
      chart.append(bar);
      if (i % 15 === 0 || i === minutes.length - 1) {
        chart.append(svg("text", { x: x(i) + w / n / 2, y: H - 8, class: "axis", "text-anchor": "middle", text: hhmm(m.minute) }));
      }
    });
    for (const [key, cls] of [["denied", "line-denied"], ["masked", "line-masked"]]) {
      const points = minutes.map((m, i) => (x(i) + w / n / 2).toFixed(1) + "," + y(m[key] || 0).toFixed(1)).join(" ");
      if (points) chart.append(svg("polyline", { points: points, class: cls }));
    }
    const legend = el(
      "p",
      { class: "legend" },
      el("span", { class: "key key-statements" }),
      " statements ",
      el("span", { class: "key key-denied" }),
      " denied ",
      el("span", { class: "key key-masked" }),
      " values masked (per minute, last 60 minutes)"
    );
    return el("div", { class: "card chart-card" }, chart, legend);
  }

  // The tables most touched, as horizontal bars.
  function tableChart(tables) {
    const W = 640, row = 24, L = 220, R = 50;
    const H = Math.max(tables.length, 1) * row + 8;
    const top = Math.max(1, ...tables.map((t) => t.statements || 0));
    const chart = svg("svg", { viewBox: "0 0 " + W + " " + H, class: "chart", id: "table-chart", role: "img", "aria-label": "Tables most touched" });
    tables.forEach((t, i) => {
      const y = 4 + i * row;
      const width = ((W - L - R) * (t.statements || 0)) / top;
      chart.append(
        svg("text", { x: L - 8, y: y + 15, class: "axis", "text-anchor": "end", text: shorten(t.table, 28) }),
        svg("rect", { x: L, y: y + 3, width: Math.max(width, 1), height: row - 8, class: "bar" }, svg("title", { text: t.table + ": " + t.statements + " statements" })),
        svg("text", { x: L + width + 6, y: y + 15, class: "axis", text: String(t.statements) })
      );
    });
    return chart;
  }

  function figure(label, value, href, cls) {
    const number = el("div", { class: "figure-value", text: count(value) });
    return el("div", { class: "figure " + (cls || "") }, href ? el("a", { href: href }, number) : number, el("div", { class: "figure-label", text: label }));
  }

  async function overviewPage() {
    document.title = "Warden · Overview";
    const environment = params().get("environment") || "";
    const picker = await environmentPicker(environment);
    const body = el("div", { id: "overview" });
    const stamp = el("span", { class: "muted small", id: "overview-time" });
    show(el("h1", { text: "Overview" + (environment ? ": " + environment : "") }), el("div", { class: "toolbar" }, picker, stamp), body);
    const envTerm = environment ? " " + term("env", environment) : "";
    async function load() {
      let o;
      try {
        o = await api("GET", "/api/overview" + (environment ? "?environment=" + encodeURIComponent(environment) : ""));
      } catch (e) {
        if (e.status === 401) throw e;
        body.replaceChildren(message(e.message, "error"));
        return;
      }
      stamp.textContent = "Last 60 minutes, as of " + moment(o.now) + "; refreshed every 15 seconds.";
      const connected = (o.connected || []).map((c) =>
        el("tr", {}, el("td", {}, link("/audit?q=" + encodeURIComponent(term("user", c.user) + " since:1h" + envTerm), c.user)), el("td", { class: "num", text: count(c.sessions) }))
      );
      const tables = o.tables || [];
      body.replaceChildren(
        el(
          "div",
          { class: "figures" },
          figure("connected sessions", o.sessions, withParamsFor("/sessions", environment)),
          figure("statements", o.statements, "/audit?q=" + encodeURIComponent("since:1h -type:event" + envTerm)),
          figure("denied", o.denied, "/audit?q=" + encodeURIComponent("verdict:denied since:1h" + envTerm), "bad"),
          figure("values masked", o.masked, null, "warn"),
          figure("approvals waiting", o.approvals_pending, "/approvals?status=pending", o.approvals_pending ? "warn" : "")
        ),
        el("h2", { text: "Statements per minute" }),
        minuteChart(o.minutes || []),
        el(
          "div",
          { class: "columns" },
          el(
            "section",
            { id: "connected" },
            el("h2", { text: "Who is connected" }),
            connected.length ? table("connected-users", ["User", "Sessions"], connected) : el("p", { class: "muted", text: "No one." })
          ),
          el(
            "section",
            { id: "tables" },
            el("h2", { text: "Tables most touched" }),
            tables.length
              ? el("div", { class: "card" }, tableChart(tables), el("p", { class: "muted small", text: "Their statements of the last hour:" }), el("ul", { class: "sr-list", id: "table-list" }, ...tables.map((t) => el("li", {}, link("/audit?q=" + encodeURIComponent(term("table", t.table) + " since:1h" + envTerm), t.table), " " + t.statements))))
              : el("p", { class: "muted", text: "No table was touched." })
          )
        )
      );
    }
    await load();
    setInterval(() => {
      if (!document.hidden) load().catch(() => toSignIn());
    }, 15000);
  }

  function withParamsFor(path, environment) {
    return path + (environment ? "?environment=" + encodeURIComponent(environment) : "");
  }

  // ---- data map ---------------------------------------------------------------------------------

  async function dataMapPage() {
    document.title = "Warden · Data map";
    const environment = params().get("environment") || "";
    const picker = await environmentPicker(environment);
    const filter = el("input", { type: "search", id: "filter", name: "filter", value: params().get("filter") || "", placeholder: "filter: table, column, kind, strategy…", autocomplete: "off" });
    const body = el("div", { id: "maps" });
    const shown = el("span", { class: "muted", id: "filter-count" });
    show(
      el("h1", { text: "Data map" }),
      el("p", { class: "muted", text: "Sensitive columns Warden found in each database, how it found them, and how their values are masked for those not exempt." }),
      el("div", { class: "toolbar" }, picker, el("label", { class: "inline" }, "Filter ", filter), shown),
      body
    );
    let data;
    try {
      data = await api("GET", "/api/datamap" + (environment ? "?environment=" + encodeURIComponent(environment) : ""));
    } catch (e) {
      if (e.status === 401) throw e;
      body.append(message(e.message, "error"));
      return;
    }
    const maps = data.maps || [];
    for (const e of data.errors || []) {
      body.append(message(e.environment + " / " + e.database + ": " + e.error, "error"));
    }
    if (maps.length === 0) {
      body.append(el("p", { class: "muted", text: "No data map yet: Warden maps a database when someone first connects to it." }));
      return;
    }
    const rows = [];
    for (const m of maps) {
      const trs = (m.columns || []).map((c) => {
        const tr = el(
          "tr",
          { class: "mapped", "data-column": c.table + "." + c.column },
          el("td", { text: c.table }),
          el("td", {}, el("code", { text: c.column })),
          el("td", { text: c.type || "" }),
          el("td", {}, c.kind ? el("span", { class: "status kind", text: c.kind }) : el("span", { class: "muted", text: "not sensitive" })),
          el("td", { text: c.found_by === "policy" ? "policy (an override)" : c.found_by || "" }),
          el("td", { class: "muted", text: c.detail || "" }),
          el("td", { text: c.strategy || "" })
        );
        // What the row shows, and the raw values: "policy" finds overrides as "override" does.
        const shown = Array.from(tr.cells).map((td) => td.textContent);
        tr.dataset.search = [m.environment, m.database, c.table, c.column, c.kind, c.found_by, ...shown].join(" ").toLowerCase();
        rows.push(tr);
        return tr;
      });
      const section = el(
        "section",
        { class: "map", "data-environment": m.environment, "data-database": m.database },
        el("h2", { text: m.environment + " / " + m.database }),
        el("p", { class: "muted small", text: (m.columns || []).length + " columns listed" + (m.columns_total !== undefined ? " of " + m.columns_total + " in " + m.relations + " tables and views" : "") + " · map version " + count(m.version) + ", built " + when(m.built_at) }),
        trs.length ? table(null, ["Table", "Column", "Type", "Kind", "Found by", "How", "Masked as"], trs) : el("p", { class: "muted", text: "No sensitive columns found." })
      );
      body.append(section);
    }
    function apply() {
      const words = filter.value.toLowerCase().split(/\s+/).filter((w) => w);
      let visible = 0;
      for (const tr of rows) {
        const hit = words.every((w) => tr.dataset.search.includes(w));
        tr.hidden = !hit;
        if (hit) visible++;
      }
      for (const section of body.querySelectorAll("section.map")) {
        const any = section.querySelector("tr.mapped:not([hidden])") !== null || section.querySelector("tr.mapped") === null;
        section.hidden = words.length > 0 && !any;
      }
      shown.textContent = visible + " of " + rows.length + " columns";
      history.replaceState(null, "", withParams({ filter: filter.value.trim() }));
    }
    filter.addEventListener("input", apply);
    apply();
  }

  // ---- policy -----------------------------------------------------------------------------------

  async function policyPage() {
    document.title = "Warden · Policy";
    const parts = [el("h1", { text: "Policy" })];
    let policy = null;
    if (reader()) {
      try {
        policy = await api("GET", "/api/policy");
      } catch (e) {
        if (e.status === 401) throw e;
        parts.push(message(e.message, "error"));
      }
    }
    if (policy) {
      parts.push(
        facts("policy-facts", [
          ["Loaded from", policy.source],
          ["Loaded at", when(policy.loaded_at)],
          ["Rules", count((policy.rules || []).length)],
        ]),
        el("h2", { text: "Rules, in order" }),
        table(
          "rules",
          ["Rule", "Action", "Environments", "When", "Message"],
          (policy.rules || []).map((r) =>
            el(
              "tr",
              {},
              el("td", {}, el("code", { text: r.name })),
              el("td", {}, status(r.action)),
              el("td", { text: list(r.environments) }),
              el("td", {}, r.when ? el("code", { text: r.when }) : ""),
              el("td", { text: r.message || "" })
            )
          )
        )
      );
    }
    parts.push(await simulator());
    if (policy) {
      parts.push(el("h2", { text: "The policy file" }), el("pre", { id: "policy-text", text: policy.text }));
      if (has("administrator")) parts.push(validator(policy.text));
    }
    show(...parts);
  }

  async function simulator() {
    const names = await environments();
    const statement = el("textarea", { id: "sim-statement", name: "statement", rows: "3", spellcheck: "false", placeholder: "DELETE FROM orders WHERE id = 7" });
    const environment = names.length
      ? el("select", { id: "sim-environment", name: "environment" }, ...names.map((n) => el("option", { value: n, text: n })))
      : el("input", { type: "text", id: "sim-environment", name: "environment", placeholder: "production" });
    const anyone = reader();
    const user = el("input", { type: "text", id: "sim-user", name: "user", value: me.user, disabled: !anyone });
    const groups = el("input", { type: "text", id: "sim-groups", name: "groups", value: me.groups.join(", "), disabled: !anyone });
    const result = el("div", { id: "sim-result" });
    const form = el(
      "form",
      { class: "card", id: "simulator" },
      el("h2", { text: "Simulate a statement" }),
      el("p", { class: "muted small", text: anyone ? "The verdict the policy gives a statement for any identity; nothing is run." : "The verdict the policy gives your statement; nothing is run." }),
      el("label", { for: "sim-statement", text: "Statement" }),
      statement,
      el(
        "div",
        { class: "row" },
        el("span", {}, el("label", { for: "sim-environment", text: "Environment" }), environment),
        el("span", {}, el("label", { for: "sim-user", text: "User" }), user),
        el("span", {}, el("label", { for: "sim-groups", text: "Groups (comma-separated)" }), groups)
      ),
      el("div", { class: "actions" }, el("button", { type: "submit", id: "simulate", text: "Simulate" })),
      result
    );
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      result.replaceChildren();
      const body = { statement: statement.value, environment: environment.value };
      if (anyone) {
        body.user = user.value.trim();
        body.groups = groups.value.split(",").map((g) => g.trim()).filter((g) => g);
      }
      try {
        const r = await api("POST", "/api/policy/simulate", body);
        const pairs = [
          ["Verdict", el("span", { class: "status status-" + r.verdict, id: "sim-verdict", text: r.verdict })],
          ["Rule", r.rule || "(the default)"],
        ];
        if (r.message) pairs.push(["Message", r.message]);
        if (r.hint) pairs.push(["Hint", r.hint]);
        pairs.push(["Results masked", r.masked ? "yes" : "no"]);
        result.append(facts("sim-facts", pairs));
        if (r.statements && r.statements.length) {
          result.append(
            table(
              "sim-statements",
              ["Kind", "Command", "Tables", "Columns"],
              r.statements.map((s) => el("tr", {}, el("td", { text: s.kind }), el("td", { text: s.command }), el("td", { text: list(s.tables) }), el("td", { text: list(s.columns) })))
            )
          );
        }
      } catch (e) {
        result.append(message(e.message, "error"));
      }
    });
    return form;
  }

  function validator(text) {
    const area = el("textarea", { id: "validate-text", name: "text", rows: "12", spellcheck: "false", value: text });
    const result = el("div", { id: "validate-result" });
    const form = el(
      "form",
      { class: "card", id: "validator" },
      el("h2", { text: "Check a changed policy" }),
      el("p", { class: "muted small", text: "Edit a copy and check it here; nothing is loaded. Warden loads the policy from its file." }),
      area,
      el("div", { class: "actions" }, el("button", { type: "submit", id: "validate", text: "Check" })),
      result
    );
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      result.replaceChildren();
      try {
        const r = await api("POST", "/api/policy/validate", { text: area.value });
        if (r.valid) {
          result.append(message("Valid: " + r.rules + " rules.", "ok"));
        } else {
          result.append(
            message("Not valid:", "error"),
            el("ul", { id: "validate-errors" }, ...(r.errors || []).map((e) => el("li", { text: "line " + e.line + ", column " + e.column + ": " + e.message })))
          );
        }
      } catch (e) {
        result.append(message(e.message, "error"));
      }
    });
    return form;
  }

  // ---- navigation -------------------------------------------------------------------------------

  const PAGES = [
    { path: "/overview", label: "Overview", shown: () => reader() },
    { path: "/sessions", label: "Sessions", shown: () => true },
    { path: "/audit", label: "Audit", shown: () => reader() },
    { path: "/approvals", label: "Approvals", shown: () => true },
    { path: "/datamap", label: "Data map", shown: () => reader() },
    { path: "/policy", label: "Policy", shown: () => true },
  ];

  function navigation(path) {
    const nav = document.getElementById("nav");
    nav.replaceChildren();
    for (const p of PAGES) {
      if (!p.shown()) continue;
      const a = el("a", { href: p.path, id: "nav-" + p.path.slice(1), text: p.label });
      if (path === p.path || path.startsWith(p.path + "/")) a.setAttribute("aria-current", "page");
      nav.append(a);
    }
  }

  // ---- start ----------------------------------------------------------------------------------

  const ROUTES = [
    [/^\/overview$/, () => overviewPage()],
    [/^\/sessions$/, () => sessionsPage()],
    [/^\/sessions\/([^/]+)$/, (id) => sessionPage(id)],
    [/^\/audit$/, () => auditPage()],
    [/^\/approvals$/, () => inboxPage()],
    [/^\/approvals\/([^/]+)$/, (id) => requestPage(id)],
    [/^\/datamap$/, () => dataMapPage()],
    [/^\/policy$/, () => policyPage()],
  ];

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
    me = { user: session.user, groups: session.groups || [], roles: session.roles || ["user"] };
    navigation(path);
    document.getElementById("who").textContent = session.user + " (" + me.roles.join(", ") + ")";
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
      for (const [pattern, page] of ROUTES) {
        const match = path.match(pattern);
        if (match) {
          await page(...match.slice(1).map(decodeURIComponent));
          return;
        }
      }
      show(message("There is no page " + path + " in the console.", "error"));
    } catch (e) {
      if (e.status === 401) toSignIn();
      else show(message(e.message, "error"));
    }
  }

  start();
})();
