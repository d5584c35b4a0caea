// The customer's web chat: Rasa's socket.io channel (bot/credentials.yml, `socketio`).
//
// - The session id lives in localStorage and is sent with `session_request` on every
//   (re)connect, so with `session_persistence: true` a reload continues the same conversation;
//   what was said is kept in localStorage too and shown again.
// - Messages typed while offline wait in an outbox (also in localStorage) and are sent, in
//   order, once the socket is back and Rasa confirmed the session. A message counts as sent
//   when the server acknowledged it; one lost with the connection is sent again.
// - With ?token=... (a customer token signed by the CRM) every message carries it in its
//   metadata as customData.customer_token; the assistant asks the CRM to verify it.
(function () {
  "use strict";

  const cfg = JSON.parse(document.getElementById("chat-config").textContent);
  const KEY = "support-chat:";
  const ACK_TIMEOUT_MS = 15000;
  const TYPING_MS = 10000;
  const HISTORY_LIMIT = 200;

  const $log = document.getElementById("log");
  const $typing = document.getElementById("typing");
  const $status = document.getElementById("status");
  const $form = document.getElementById("composer");
  const $text = document.getElementById("text");

  const store = {
    get(name, fallback) {
      try { const v = localStorage.getItem(KEY + name); return v === null ? fallback : JSON.parse(v); }
      catch (e) { return fallback; }
    },
    set(name, value) {
      try { localStorage.setItem(KEY + name, JSON.stringify(value)); } catch (e) { /* full or private mode */ }
    },
    drop(name) { try { localStorage.removeItem(KEY + name); } catch (e) { /* ignore */ } },
  };

  function newId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID().replace(/-/g, "");
    return Date.now().toString(16) + Math.random().toString(16).slice(2);
  }

  // --- who is chatting: an optional customer token from the shop page -------------------
  function tokenSubject(token) {
    // Read (not verify) the token's subject, only to keep two customers sharing a browser
    // from seeing each other's conversation. The CRM verifies the token itself.
    try {
      const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
      return "customer:" + JSON.parse(atob(part)).sub;
    } catch (e) { return "customer:?"; }
  }

  const params = new URLSearchParams(location.search);
  if (params.has("token")) {
    try { sessionStorage.setItem(KEY + "token", params.get("token")); } catch (e) { /* ignore */ }
    params.delete("token");  // keep it out of bookmarks, shared links and the history
    const rest = params.toString();
    history.replaceState(null, "", location.pathname + (rest ? "?" + rest : "") + location.hash);
  }
  let customerToken = null;
  try { customerToken = sessionStorage.getItem(KEY + "token"); } catch (e) { /* ignore */ }
  const owner = customerToken ? tokenSubject(customerToken) : "guest";

  let sessionId = store.get("session", null);
  const previousOwner = store.get("owner", "guest");
  if (!sessionId || (previousOwner !== owner && previousOwner !== "guest")) {
    startOver(false);
  }
  store.set("owner", owner);

  let history_ = store.get("history:" + sessionId, []);
  let outbox = store.get("outbox", []);  // [{id, text, payload}]
  const inflight = new Map();  // message id -> attempt, while waiting for the server's ack
  let attempts = 0;

  // --- rendering -------------------------------------------------------------------------
  const URL_RE = /(https?:\/\/[^\s<>"']+[^\s<>"'.,;:!?)])/g;

  function appendText(el, text) {
    let last = 0;
    text.replace(URL_RE, (url, _m, offset) => {
      el.appendChild(document.createTextNode(text.slice(last, offset)));
      const a = document.createElement("a");
      a.href = url; a.textContent = url; a.target = "_blank"; a.rel = "noopener noreferrer";
      el.appendChild(a);
      last = offset + url.length;
      return url;
    });
    el.appendChild(document.createTextNode(text.slice(last)));
  }

  function timeLabel(iso) {
    const d = new Date(iso);
    return d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }

  function render(entry) {
    const li = document.createElement("li");
    li.className = "msg " + entry.who;
    li.dataset.id = entry.id;
    if (entry.image) {
      const img = document.createElement("img");
      img.src = entry.image; img.alt = entry.text || "image";
      li.appendChild(img);
    }
    if (entry.text) appendText(li, entry.text);
    const time = document.createElement("time");
    time.dateTime = entry.at;
    time.textContent = timeLabel(entry.at);
    li.appendChild(time);
    if (entry.who === "user") {
      const state = document.createElement("span");
      state.className = "state";
      time.appendChild(document.createTextNode(" "));
      time.appendChild(state);
    }
    $log.appendChild(li);
    if (entry.replies && entry.replies.length) renderReplies(entry);
    updateState(entry.id);
    return li;
  }

  function renderReplies(entry) {
    const box = document.createElement("li");
    box.className = "replies";
    box.dataset.for = entry.id;
    for (const r of entry.replies) {
      const b = document.createElement("button");
      b.type = "button";
      b.textContent = r.title;
      b.disabled = !!entry.answered;
      b.addEventListener("click", () => {
        disableReplies();
        send(r.title, r.payload);
      });
      box.appendChild(b);
    }
    $log.appendChild(box);
  }

  function disableReplies() {
    for (const b of $log.querySelectorAll(".replies button")) b.disabled = true;
    for (const e of history_) if (e.replies) e.answered = true;
    saveHistory();
  }

  function updateState(id) {
    const li = $log.querySelector(`li.msg.user[data-id="${id}"]`);
    if (!li) return;
    const queued = outbox.some((m) => m.id === id);
    li.classList.toggle("pending", queued);
    const state = li.querySelector(".state");
    if (state) {
      state.textContent = !queued ? "✓" : inflight.has(id) ? "sending…" : "waiting for connection";
    }
  }

  function scrollDown() { $log.scrollTop = $log.scrollHeight; }

  function saveHistory() {
    history_ = history_.slice(-HISTORY_LIMIT);
    store.set("history:" + sessionId, history_);
  }

  function add(entry) {
    history_.push(entry);
    saveHistory();
    render(entry);
    scrollDown();
  }

  let typingTimer = null;
  function showTyping() {
    $typing.hidden = false;
    clearTimeout(typingTimer);
    typingTimer = setTimeout(hideTyping, TYPING_MS);
    scrollDown();
  }
  function hideTyping() { $typing.hidden = true; clearTimeout(typingTimer); }

  function setStatus(text, offline) {
    $status.textContent = text;
    $status.classList.toggle("offline", !!offline);
  }

  // --- the socket ------------------------------------------------------------------------
  const socket = io(cfg.rasaOrigin, {
    path: cfg.socketPath,
    transports: ["websocket", "polling"],
    reconnectionDelay: 500,
    reconnectionDelayMax: 5000,
  });
  let confirmed = false;

  socket.on("connect", () => {
    confirmed = false;
    setStatus("Connecting…");
    socket.emit("session_request", { session_id: sessionId });
  });

  socket.on("session_confirm", (data) => {
    const id = typeof data === "string" ? data : data && data.session_id;
    if (id && id !== sessionId) {  // the server chose one; keep what we show under it
      store.set("history:" + id, history_);
      store.drop("history:" + sessionId);
      sessionId = id;
      store.set("session", id);
    }
    confirmed = true;
    setStatus("Online");
    flush();
  });

  socket.on("disconnect", () => {
    confirmed = false;
    inflight.clear();  // unacknowledged messages are sent again after reconnecting
    for (const m of outbox) updateState(m.id);
    hideTyping();
    setStatus("Offline — reconnecting… your messages will be sent when the connection is back", true);
  });

  socket.on("connect_error", () => {
    setStatus("Cannot reach the assistant — retrying…", true);
  });

  socket.on(cfg.botEvent, (msg) => {
    hideTyping();
    if (!msg) return;
    const replies = (msg.quick_replies || msg.buttons || []).map((b) => ({
      title: b.title, payload: b.payload || b.title,
    }));
    let image = null;
    if (msg.attachment && msg.attachment.type === "image" && msg.attachment.payload) {
      image = msg.attachment.payload.src || null;
    }
    const text = msg.text || (typeof msg.attachment === "string" ? msg.attachment : "");
    if (!text && !image && !replies.length) return;
    add({ id: newId(), who: "bot", text, image, replies, at: new Date().toISOString() });
  });

  function payload(item) {
    const data = { message: item.payload || item.text, session_id: sessionId };
    data[cfg.metadataKey] = customerToken ? { customer_token: customerToken } : {};
    return data;
  }

  function flush() {
    if (!socket.connected || !confirmed) return;
    for (const item of outbox) {
      if (inflight.has(item.id)) continue;
      const attempt = ++attempts;
      inflight.set(item.id, attempt);
      updateState(item.id);
      socket.timeout(ACK_TIMEOUT_MS).emit(cfg.userEvent, payload(item), (err) => {
        // The connection dropped before the answer: this attempt is void, the message is (or
        // will be) sent again after reconnecting.
        if (inflight.get(item.id) !== attempt) return;
        if (err && !socket.connected) return;
        // Acknowledged, or no answer while still connected (the server is slow, not gone):
        // either way it arrived; sending it again would duplicate it.
        inflight.delete(item.id);
        outbox = outbox.filter((m) => m.id !== item.id);
        store.set("outbox", outbox);
        updateState(item.id);
      });
    }
    if (outbox.length) showTyping();
  }

  function send(text, payloadText) {
    text = (text || "").trim();
    if (!text) return;
    const id = newId();
    disableRepliesSilently();
    add({ id, who: "user", text, at: new Date().toISOString() });
    outbox.push({ id, text, payload: payloadText || null });
    store.set("outbox", outbox);
    updateState(id);
    flush();
  }

  function disableRepliesSilently() {
    for (const b of $log.querySelectorAll(".replies button")) b.disabled = true;
    for (const e of history_) if (e.replies) e.answered = true;
  }

  $form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    send($text.value);
    $text.value = "";
    $text.focus();
  });

  function startOver(reload) {
    if (sessionId) store.drop("history:" + sessionId);
    sessionId = newId();
    store.set("session", sessionId);
    store.set("outbox", []);
    if (reload) location.reload();
  }

  document.getElementById("restart").addEventListener("click", () => {
    if (confirm("Start a new conversation? This one is cleared from this browser.")) startOver(true);
  });

  // --- what this browser already has -----------------------------------------------------
  for (const entry of history_) render(entry);
  scrollDown();

  // For tests and debugging: the page's state, read-only.
  window.supportChat = {
    get sessionId() { return sessionId; },
    get outbox() { return outbox.slice(); },
    get connected() { return socket.connected && confirmed; },
    socket,
  };
})();
