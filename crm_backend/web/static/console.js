// The agent console: plain browser JavaScript, no build step. Everything goes through the
// CRM's REST API with the agent's JWT (kept in sessionStorage, so it dies with the tab).
//
// Live updates: GET /api/v1/tickets/events is read with fetch() and a stream reader rather
// than EventSource, because EventSource cannot send an Authorization header and we do not want
// the token in a URL (server logs, proxies, browser history). The loop below does what
// EventSource would: parse the events, remember the last event id, and reconnect with
// Last-Event-ID after a drop or when the server ends the stream.
(function () {
  "use strict";

  const API = "/api/v1";
  const TOKEN_KEY = "console:token";
  const PRIORITY_RANK = { urgent: 0, high: 1, normal: 2, low: 3 };
  const QUEUE_STATUSES = new Set(["new", "open", "escalated"]);
  const ACTIVE = new Set(["new", "open", "pending", "escalated"]);

  const $ = (id) => document.getElementById(id);
  const state = {
    token: sessionStorage.getItem(TOKEN_KEY),
    me: null,
    agents: new Map(),      // user id -> full name
    tickets: new Map(),     // ticket id -> ticket (as in the queue)
    unread: new Set(),      // ticket ids with customer messages not looked at
    selected: null,         // ticket id
    messages: new Map(),    // message id -> message, for the selected ticket
    undelivered: new Set(), // message ids Rasa did not take
    canned: [],
    filter: "queue",
    stream: null,           // AbortController of the live stream
  };

  // --- helpers -----------------------------------------------------------------------------
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") node.className = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined || c === false) continue;
      node.appendChild(typeof c === "string" || typeof c === "number" ? document.createTextNode(String(c)) : c);
    }
    return node;
  }

  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }

  function fmtTime(iso) {
    if (!iso) return "";
    const d = new Date(iso);
    const today = new Date().toDateString() === d.toDateString();
    const t = d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    return today ? t : d.toLocaleDateString([], { day: "2-digit", month: "short" }) + " " + t;
  }

  function fmtDuration(ms) {
    const m = Math.round(Math.abs(ms) / 60000);
    if (m < 60) return m + "m";
    const h = Math.floor(m / 60);
    if (h < 48) return h + "h" + (m % 60 ? " " + (m % 60) + "m" : "");
    return Math.round(h / 24) + "d";
  }

  function nextDue(t) {
    return t.first_responded_at ? t.resolution_due_at : t.first_response_due_at;
  }

  function isOverdue(t) {
    if (!ACTIVE.has(t.status)) return false;
    const now = Date.now();
    const lateReply = !t.first_responded_at && t.first_response_due_at && Date.parse(t.first_response_due_at) < now;
    const lateFix = t.resolution_due_at && Date.parse(t.resolution_due_at) < now;
    return !!(lateReply || lateFix);
  }

  function dueLabel(t) {
    const due = nextDue(t);
    if (!due || !ACTIVE.has(t.status)) return "";
    const left = Date.parse(due) - Date.now();
    const what = t.first_responded_at ? "resolution" : "first reply";
    return left < 0 ? `${what} overdue ${fmtDuration(left)}` : `${what} due in ${fmtDuration(left)}`;
  }

  let toastTimer = null;
  function toast(text, bad) {
    const t = $("toast");
    t.textContent = text;
    t.className = "toast" + (bad ? " bad" : "");
    t.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { t.hidden = true; }, bad ? 6000 : 3000);
  }

  class ApiError extends Error {
    constructor(status, body) {
      super((body && body.error && body.error.message) || "HTTP " + status);
      this.status = status;
      this.body = body;
    }
  }

  async function api(method, path, body) {
    const headers = { Authorization: "Bearer " + state.token };
    const opts = { method, headers };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    const resp = await fetch(API + path, opts);
    const data = resp.status === 204 ? null : await resp.json().catch(() => null);
    if (resp.status === 401) { signOut("Your session has ended; please sign in again."); }
    if (!resp.ok) throw new ApiError(resp.status, data);
    return { status: resp.status, data };
  }

  async function allPages(path) {
    const items = [];
    for (let page = 1; page < 50; page++) {
      const sep = path.includes("?") ? "&" : "?";
      const { data } = await api("GET", `${path}${sep}page=${page}&page_size=200`);
      items.push(...data.items);
      if (items.length >= data.total || !data.items.length) break;
    }
    return items;
  }

  // --- sign in / out -----------------------------------------------------------------------
  $("login-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    $("login-error").textContent = "";
    const form = new URLSearchParams({ username: $("login-email").value, password: $("login-password").value });
    const resp = await fetch(API + "/auth/token", { method: "POST", body: form });
    if (!resp.ok) {
      $("login-error").textContent = resp.status === 401 ? "Wrong email or password." : "Sign-in failed (" + resp.status + ").";
      return;
    }
    state.token = (await resp.json()).access_token;
    sessionStorage.setItem(TOKEN_KEY, state.token);
    start();
  });

  $("logout").addEventListener("click", () => signOut());

  function signOut(message) {
    state.token = null;
    sessionStorage.removeItem(TOKEN_KEY);
    if (state.stream) state.stream.abort();
    $("app").hidden = true;
    $("login").hidden = false;
    $("login-error").textContent = message || "";
    $("login-email").focus();
  }

  async function start() {
    if (!state.token) { signOut(); return; }
    let me;
    try { me = (await api("GET", "/auth/me")).data; } catch (e) { return; }
    if (!me.permissions.includes("tickets:write")) {
      signOut("This account cannot answer tickets (role " + me.role + ").");
      return;
    }
    state.me = me;
    $("me").textContent = me.full_name;
    $("login").hidden = true;
    $("app").hidden = false;
    const [agents, canned] = await Promise.all([api("GET", "/console/agents"), api("GET", "/console/canned-responses")]);
    for (const a of agents.data) state.agents.set(a.id, a.full_name);
    state.canned = canned.data;
    renderCanned();
    runStream();
  }

  // --- the live stream -----------------------------------------------------------------------
  function setLive(on) {
    $("live").textContent = on ? "live" : "reconnecting…";
    $("live").classList.toggle("off", !on);
  }

  function parseEvent(chunk) {
    const ev = { event: "message", data: "" };
    for (const line of chunk.split(/\r?\n/)) {
      if (!line || line.startsWith(":")) continue;
      const i = line.indexOf(":");
      const field = i < 0 ? line : line.slice(0, i);
      const value = i < 0 ? "" : line.slice(i + 1).replace(/^ /, "");
      if (field === "data") ev.data += (ev.data ? "\n" : "") + value;
      else if (field === "event" || field === "id" || field === "retry") ev[field] = value;
    }
    return ev;
  }

  async function runStream() {
    let lastId = null;
    let delay = 500;
    while (state.token) {
      const ctrl = new AbortController();
      state.stream = ctrl;
      try {
        const headers = { Authorization: "Bearer " + state.token, Accept: "text/event-stream" };
        if (lastId) headers["Last-Event-ID"] = lastId;
        const resp = await fetch(API + "/tickets/events", { headers, signal: ctrl.signal, cache: "no-store" });
        if (resp.status === 401) { signOut("Your session has ended; please sign in again."); return; }
        if (!resp.ok || !resp.body) throw new Error("stream answered " + resp.status);
        const reader = resp.body.getReader();
        const decoder = new TextDecoder();
        let buffer = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += decoder.decode(value, { stream: true });
          let cut;
          while ((cut = buffer.search(/\r?\n\r?\n/)) >= 0) {
            const chunk = buffer.slice(0, cut);
            buffer = buffer.slice(cut).replace(/^\r?\n\r?\n/, "");
            const ev = parseEvent(chunk);
            if (ev.id) lastId = ev.id;
            if (ev.data) { delay = 500; handleEvent(ev.event, JSON.parse(ev.data)); }
          }
        }
      } catch (e) {
        if (!state.token) return;
      }
      setLive(false);
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 10000);
    }
  }

  function handleEvent(kind, data) {
    if (kind === "ready") {
      setLive(true);
      if (!data.resumed) {
        loadQueue();
        if (state.selected) loadThread(state.selected);
      }
    } else if (kind === "ticket") {
      upsertTicket(data);
    } else if (kind === "message") {
      if (data.ticket_id === state.selected) {
        addMessage(data);
      } else if (data.author_kind === "customer") {
        state.unread.add(data.ticket_id);
        renderQueue();
      }
    }
  }

  // --- the queue -------------------------------------------------------------------------------
  async function loadQueue() {
    const [queue, mine] = await Promise.all([api("GET", "/console/queue"), api("GET", "/console/queue?mine=true")]);
    for (const t of [...queue.data, ...mine.data]) upsertTicket(t, true);
    renderQueue();
  }

  function upsertTicket(t, quiet) {
    const old = state.tickets.get(t.id);
    if (old && old.version > t.version) return;
    if (t.assignee_id && t.assignee_name) state.agents.set(t.assignee_id, t.assignee_name);
    state.tickets.set(t.id, t);
    if (!quiet) renderQueue();
    if (t.id === state.selected) renderHeader();
  }

  function visible(t) {
    if (state.filter === "mine") return ACTIVE.has(t.status) && state.me && t.assignee_id === state.me.id;
    return QUEUE_STATUSES.has(t.status);
  }

  function sortedQueue() {
    return [...state.tickets.values()].filter(visible).sort((a, b) =>
      (PRIORITY_RANK[a.priority] - PRIORITY_RANK[b.priority]) ||
      ((Date.parse(nextDue(a)) || Infinity) - (Date.parse(nextDue(b)) || Infinity)) ||
      (a.id - b.id));
  }

  function renderQueue() {
    const list = $("queue");
    const rows = sortedQueue();
    $("queue-count").textContent = rows.length;
    clear(list);
    for (const t of rows) {
      const overdue = isOverdue(t);
      const who = t.assignee_id ? (t.assignee_id === (state.me && state.me.id) ? "you" : (t.assignee_name || state.agents.get(t.assignee_id) || "#" + t.assignee_id)) : "unassigned";
      list.appendChild(el("li", {
        class: "qi" + (overdue ? " overdue" : "") + (t.id === state.selected ? " selected" : ""),
        "data-id": t.id, "data-number": t.number, tabindex: "0",
        onclick: () => select(t.id),
        onkeydown: (ev) => { if (ev.key === "Enter") select(t.id); },
      },
        el("div", { class: "row" },
          state.unread.has(t.id) ? el("span", { class: "unread", title: "New customer message" }) : null,
          el("span", { class: "mono" }, t.number),
          el("span", { class: "badge " + t.priority }, t.priority),
          el("span", { class: "badge status " + t.status }, t.status),
          el("span", { class: "due" + (overdue ? " late" : "") }, dueLabel(t))),
        el("div", { class: "subject" }, t.subject),
        el("div", { class: "meta" }, `${t.customer_name || "unknown customer"} · ${t.channel} · ${who}`)));
    }
  }

  $("queue-filter").addEventListener("change", (ev) => { state.filter = ev.target.value; renderQueue(); });
  setInterval(() => { renderQueue(); if (state.selected) renderHeader(); }, 30000);

  // --- the conversation ----------------------------------------------------------------------
  async function select(id) {
    state.selected = id;
    state.unread.delete(id);
    $("conv-empty").hidden = true;
    $("conv").hidden = false;
    $("handback").hidden = true;
    renderQueue();
    if (!state.tickets.has(id)) {
      const { data } = await api("GET", "/tickets/" + id);
      state.tickets.set(id, data);
    }
    renderHeader();
    await loadThread(id);
    loadCustomer(state.tickets.get(id));
  }

  function renderHeader() {
    const t = state.tickets.get(state.selected);
    if (!t) return;
    $("t-number").textContent = t.number;
    $("t-priority").textContent = t.priority;
    $("t-priority").className = "badge " + t.priority;
    $("t-status").textContent = t.status;
    $("t-status").className = "badge status " + t.status;
    $("t-subject").textContent = t.subject;
    $("t-channel").textContent = "via " + t.channel;
    const mine = state.me && t.assignee_id === state.me.id;
    $("t-assignee").textContent = t.assignee_id ? "held by " + (mine ? "you" : (t.assignee_name || state.agents.get(t.assignee_id) || "#" + t.assignee_id)) : "unassigned";
    $("t-due").textContent = dueLabel(t) || (t.resolved_at ? "resolved " + fmtTime(t.resolved_at) : "");
    $("t-due").className = isOverdue(t) ? "error" : "";
    const active = ACTIVE.has(t.status);
    $("claim").disabled = !!t.assignee_id;
    $("resolve").disabled = !t.allowed_transitions.includes("resolved");
    $("close").disabled = !t.allowed_transitions.includes("closed");
    $("send").disabled = t.status === "closed";
    $("reply").disabled = t.status === "closed";
    if (active) $("handback").hidden = true;
  }

  async function loadThread(id) {
    const items = await allPages(`/tickets/${id}/messages?sort=created_at`);
    if (state.selected !== id) return;
    state.messages.clear();
    clear($("thread"));
    for (const m of items) addMessage(m, true);
    scrollThread();
  }

  function authorLabel(m) {
    if (m.author_kind === "agent") return m.author_name || state.agents.get(m.author_user_id) || "Agent";
    if (m.author_kind === "customer") {
      const t = state.tickets.get(m.ticket_id);
      return (t && t.customer_name) || "Customer";
    }
    return m.author_kind === "bot" ? "Assistant" : "System";
  }

  function addMessage(m, quiet) {
    if (state.messages.has(m.id)) { refreshMessage(m.id); return; }
    state.messages.set(m.id, m);
    const node = el("li", { class: "m " + m.author_kind + (m.internal ? " internal" : ""), "data-id": m.id },
      el("div", { class: "who" }, el("span", {}, authorLabel(m)), el("time", { datetime: m.created_at }, fmtTime(m.created_at))),
      el("div", { class: "body" }, m.body),
      el("div", { class: "warn", hidden: !state.undelivered.has(m.id) }, "Not delivered to the customer.",
        el("button", { type: "button", class: "small", onclick: () => deliverAgain(m) }, "Send again")));
    $("thread").appendChild(node);
    if (!quiet) scrollThread();
  }

  function refreshMessage(id) {
    const node = $("thread").querySelector(`li[data-id="${id}"] .warn`);
    if (node) node.hidden = !state.undelivered.has(id);
  }

  function scrollThread() { const t = $("thread"); t.scrollTop = t.scrollHeight; }

  async function deliverAgain(m) {
    try {
      const { status, data } = await api("POST", `/tickets/${m.ticket_id}/messages/${m.id}/deliver`);
      if (status === 202) { toast("Still not delivered: " + (data.delivery.error || "Rasa is unreachable"), true); return; }
      state.undelivered.delete(m.id);
      refreshMessage(m.id);
      toast("Delivered.");
    } catch (e) { toast(e.message, true); }
  }

  // --- actions -------------------------------------------------------------------------------
  $("composer").addEventListener("submit", (ev) => { ev.preventDefault(); sendReply(); });
  $("reply").addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) { ev.preventDefault(); sendReply(); }
    if (ev.key === "Escape") { ev.preventDefault(); $("reply").blur(); }
  });
  $("internal").addEventListener("change", renderComposerMode);

  function renderComposerMode() {
    const internal = $("internal").checked;
    $("composer").classList.toggle("internal", internal);
    $("reply").placeholder = internal ? "Internal note for colleagues — never sent to the customer" : "Reply to the customer (r) — Ctrl+Enter sends";
    $("send").textContent = internal ? "Add note" : "Send";
  }

  async function sendReply() {
    const id = state.selected;
    const body = $("reply").value.trim();
    if (!id || !body) return;
    $("send").disabled = true;
    try {
      const internal = $("internal").checked;
      const { status, data } = await api("POST", `/tickets/${id}/reply`, { body, internal });
      $("reply").value = "";
      if (status === 202) {
        state.undelivered.add(data.message.id);
        toast("Saved, but not delivered to the customer: " + (data.delivery.error || "Rasa is unreachable"), true);
      }
      if (state.selected === id) addMessage(data.message);
      refreshMessage(data.message.id);
    } catch (e) {
      toast("Not sent: " + e.message, true);
    } finally {
      $("send").disabled = false;
    }
  }

  async function claim() {
    const t = state.tickets.get(state.selected);
    if (!t || t.assignee_id) return;
    try {
      const { data } = await api("POST", `/tickets/${t.id}/claim`);
      upsertTicket({ ...data, customer_name: t.customer_name, assignee_name: state.me.full_name });
      toast(`${t.number} is yours.`);
    } catch (e) {
      if (e.status === 409) {
        const holder = e.body && e.body.error.details.assignee_id;
        toast(`${t.number} is already claimed by ${state.agents.get(holder) || "agent #" + holder}.`, true);
        api("GET", "/tickets/" + t.id).then(({ data }) => upsertTicket({ ...data, customer_name: t.customer_name, assignee_name: state.agents.get(holder) }));
      } else toast(e.message, true);
    }
  }

  async function finish(action) {
    const t = state.tickets.get(state.selected);
    if (!t) return;
    try {
      const { status, data } = await api("POST", `/tickets/${t.id}/${action}`);
      upsertTicket(data.ticket);
      if (status === 202) {
        $("handback").hidden = false;
        toast(`${t.number} is ${data.ticket.status}, but the chat could not be handed back to the assistant: ${data.handback.error}`, true);
      } else {
        toast(`${t.number} ${data.ticket.status}` + (data.handback.delivered ? "; the assistant takes over the chat again." : "."));
      }
    } catch (e) { toast(e.message, true); }
  }

  async function handBack() {
    const t = state.tickets.get(state.selected);
    try {
      const { status, data } = await api("POST", `/tickets/${t.id}/handback`);
      if (status === 202) { toast("Still unreachable: " + data.handback.error, true); return; }
      $("handback").hidden = true;
      toast("The assistant has the chat again.");
    } catch (e) { toast(e.message, true); }
  }

  $("claim").addEventListener("click", claim);
  $("resolve").addEventListener("click", () => finish("resolve"));
  $("close").addEventListener("click", () => { if (confirm("Close this ticket for good?")) finish("close"); });
  $("handback").addEventListener("click", handBack);

  // --- canned responses ----------------------------------------------------------------------
  function renderCanned() {
    const sel = $("canned");
    for (const [i, c] of state.canned.entries()) sel.appendChild(el("option", { value: String(i) }, c.title));
  }

  $("canned").addEventListener("change", (ev) => {
    const c = state.canned[Number(ev.target.value)];
    ev.target.value = "";
    if (!c) return;
    const t = state.tickets.get(state.selected) || {};
    const text = c.body
      .replaceAll("{customer_name}", (t.customer_name || "").split(" ")[0] || "there")
      .replaceAll("{agent_name}", (state.me && state.me.full_name) || "")
      .replaceAll("{ticket_number}", t.number || "");
    const box = $("reply");
    const at = box.selectionStart || box.value.length;
    box.value = box.value.slice(0, at) + text + box.value.slice(at);
    box.focus();
  });

  // --- the customer sidebar ------------------------------------------------------------------
  function kv(dl, pairs) {
    clear(dl);
    for (const [k, v] of pairs) {
      if (v === null || v === undefined || v === "") continue;
      dl.appendChild(el("dt", {}, k));
      dl.appendChild(el("dd", {}, String(v)));
    }
  }

  async function loadCustomer(t) {
    const has = t && t.customer_id;
    $("side-empty").hidden = !!has;
    $("side").hidden = !has;
    if (!has) return;
    const id = t.customer_id;
    const [customer, orders, tickets, scores] = await Promise.all([
      api("GET", `/customers/${id}`),
      api("GET", `/orders?customer_id=${id}&sort=-placed_at&page_size=10`),
      api("GET", `/tickets?customer_id=${id}&sort=-created_at&page_size=10`),
      api("GET", `/customers/${id}/scores`).catch(() => ({ data: [] })),
    ]);
    if (state.selected !== t.id) return;
    const c = customer.data;
    $("c-name").textContent = c.name;
    const addr = c.address ? `${c.address.line1}, ${c.address.postal_code} ${c.address.city}, ${c.address.country}` : "";
    kv($("c-profile"), [["Email", c.email], ["Phone", c.phone], ["Address", addr],
      ["Tags", (c.tags || []).join(", ")], ["Customer since", fmtTime(c.created_at)],
      ["Marketing", c.marketing_consent ? "consented" : "no consent"]]);
    const sc = $("c-scores");
    if (!scores.data.length) { clear(sc); sc.appendChild(el("dd", { class: "muted" }, "No scores yet.")); }
    else kv(sc, scores.data.map((s) => [s.name.replace(/_/g, " "), s.label || (s.value === null ? "" : Math.round(s.value * 1000) / 1000)]));
    const ol = $("c-orders");
    clear(ol);
    if (!orders.data.items.length) ol.appendChild(el("li", { class: "muted" }, "No orders."));
    for (const o of orders.data.items) {
      ol.appendChild(el("li", {}, el("span", { class: "mono" }, o.number), el("span", {}, o.status),
        el("span", {}, `${o.total} ${o.currency}`), el("span", { class: "muted" }, fmtTime(o.placed_at))));
    }
    const tl = $("c-tickets");
    clear(tl);
    const others = tickets.data.items.filter((x) => x.id !== t.id);
    if (!others.length) tl.appendChild(el("li", { class: "muted" }, "No other tickets."));
    for (const x of others) {
      tl.appendChild(el("li", {}, el("a", { onclick: () => select(x.id) }, x.number),
        el("span", { class: "muted" }, x.status), el("span", {}, x.subject)));
    }
  }

  // --- keyboard shortcuts --------------------------------------------------------------------
  document.addEventListener("keydown", (ev) => {
    if ($("app").hidden || ev.ctrlKey || ev.metaKey || ev.altKey) return;
    const typing = /^(INPUT|TEXTAREA|SELECT)$/.test(document.activeElement.tagName);
    if (typing) return;
    const rows = sortedQueue();
    const at = rows.findIndex((t) => t.id === state.selected);
    switch (ev.key) {
      case "r": case "n":
        if (!state.selected) return;
        ev.preventDefault();
        $("internal").checked = ev.key === "n";
        renderComposerMode();
        $("reply").focus();
        break;
      case "e":
        if (state.selected && !$("resolve").disabled) { ev.preventDefault(); finish("resolve"); }
        break;
      case "c":
        if (state.selected) { ev.preventDefault(); claim(); }
        break;
      case "j": case "k": {
        if (!rows.length) return;
        ev.preventDefault();
        const next = ev.key === "j" ? Math.min(at + 1, rows.length - 1) : Math.max(at - 1, 0);
        select(rows[at < 0 ? 0 : next].id);
        break;
      }
      default:
    }
  });

  start();
})();
