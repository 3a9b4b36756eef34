// moltbot WebChat: talks to the gateway that served this page over its WebSocket (protocol v4).
// Handshake: the gateway sends `connect.challenge`, we answer with a `connect` request carrying
// the token or password. Chat: `chat.history`, `chat.send` (run id = our idempotency key),
// `chat.abort`, and `chat` events (delta | final | error | aborted). Text is only ever set with
// textContent: nothing the gateway or the model sends is parsed as HTML.
"use strict";

(() => {
  const PROTOCOL = 4;
  const AUTH_STORE = "moltbot.webchat.auth";
  const SESSION_STORE = "moltbot.webchat.session";
  const REQUEST_TIMEOUT_MS = 30000;
  const BACKOFF_MS = [500, 1000, 2000, 5000, 10000, 30000];
  const HISTORY_LIMIT = 200;

  const $ = (id) => document.getElementById(id);
  const ui = {
    status: $("status"), logout: $("logout"), sessionForm: $("session-form"), session: $("session"),
    login: $("login"), loginForm: $("login-form"), secret: $("secret"), remember: $("remember"),
    loginError: $("login-error"), chat: $("chat"), transcript: $("transcript"),
    composer: $("composer"), message: $("message"), stop: $("stop"),
  };

  const state = {
    auth: null, // {token} | {password} | {} (probing whether the gateway needs auth)
    remember: false,
    conn: null, // {ws, opened, ready, connectSent, refused}
    nextId: 1,
    pending: new Map(), // request id -> {resolve, reject, timer}
    attempt: 0,
    retryTimer: 0,
    watchdog: 0,
    tickMs: 30000,
    session: "main",
    sessionKey: null, // canonical form from chat.history, e.g. "agent:main:main"
    runs: new Map(), // run id -> {user, reply, seq}
    active: new Set(), // run ids of this session that have not ended
    historyToken: 0,
  };

  class GatewayError extends Error {
    constructor(error) {
      super((error && error.message) || "request failed");
      this.code = error && error.code;
      this.detail = error && error.details && error.details.code;
      this.retryAfterMs = error && error.retryAfterMs;
    }
  }

  // ------------------------------------------------------------------ small helpers

  function storageGet(key) {
    try { return localStorage.getItem(key); } catch { return null; }
  }
  function storageSet(key, value) {
    try { localStorage.setItem(key, value); } catch { /* storage disabled: keep in memory */ }
  }
  function storageRemove(key) {
    try { localStorage.removeItem(key); } catch { /* nothing stored */ }
  }

  function uuid() {
    if (crypto.randomUUID) return crypto.randomUUID(); // secure contexts (https, localhost)
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }

  function textOf(content) {
    if (typeof content === "string") return content;
    if (!Array.isArray(content)) return "";
    return content.filter((p) => p && p.type === "text").map((p) => String(p.text || "")).join("");
  }

  function setStatus(kind, text) {
    document.body.dataset.state = kind;
    ui.status.textContent = text;
  }

  // ------------------------------------------------------------------ transcript

  function nearBottom() {
    const t = ui.transcript;
    return t.scrollHeight - t.scrollTop - t.clientHeight < 120;
  }

  function scrollToEnd(force) {
    if (force || nearBottom()) ui.transcript.scrollTop = ui.transcript.scrollHeight;
  }

  function bubble(role, text) {
    const li = document.createElement("li");
    li.className = `msg ${role}`;
    const body = document.createElement("span");
    body.className = "text";
    body.textContent = text;
    const meta = document.createElement("span");
    meta.className = "meta";
    meta.hidden = true;
    li.append(body, meta);
    ui.transcript.append(li);
    return li;
  }

  function setText(li, text) {
    li.querySelector(".text").textContent = text;
  }

  function setMeta(li, text) {
    const meta = li.querySelector(".meta");
    meta.textContent = text;
    meta.hidden = !text;
  }

  function notice(text) {
    const li = bubble("notice", text);
    scrollToEnd(true);
    return li;
  }

  function renderHistory(messages, hasMore) {
    ui.transcript.replaceChildren();
    if (hasMore) notice(`Earlier messages are not shown (the last ${HISTORY_LIMIT} are).`);
    for (const m of messages) {
      if (!m || (m.role !== "user" && m.role !== "assistant")) continue;
      const text = textOf(m.content);
      const tools = Array.isArray(m.content)
        ? m.content.filter((p) => p && p.type === "toolCall").map((p) => String(p.name))
        : [];
      if (!text && !tools.length) continue;
      const li = bubble(m.role, text);
      li.dataset.state = "history";
      if (tools.length) setMeta(li, `used ${tools.join(", ")}`);
      if (m.stopReason === "aborted") {
        li.dataset.state = "aborted";
        setMeta(li, "stopped");
      }
    }
    for (const id of state.active) { // runs still going keep their bubbles, after the history
      const run = state.runs.get(id);
      if (run && run.user) ui.transcript.append(run.user);
      if (run && run.reply) ui.transcript.append(run.reply);
    }
    scrollToEnd(true);
  }

  function updateStop() {
    ui.stop.disabled = !(state.active.size && state.conn && state.conn.ready);
  }

  // ------------------------------------------------------------------ connection

  function request(method, params, conn = state.conn) {
    return new Promise((resolve, reject) => {
      if (!conn || conn.ws.readyState !== WebSocket.OPEN) {
        reject(new Error("not connected to the gateway"));
        return;
      }
      const id = `w${state.nextId++}`;
      const timer = setTimeout(() => {
        state.pending.delete(id);
        reject(new Error(`${method}: no answer from the gateway`));
      }, REQUEST_TIMEOUT_MS);
      state.pending.set(id, { resolve, reject, timer });
      conn.ws.send(JSON.stringify({ type: "req", id, method, params }));
    });
  }

  function open() {
    clearTimeout(state.retryTimer);
    const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/`;
    setStatus(state.attempt ? "reconnecting" : "connecting", "connecting…");
    let ws;
    try {
      ws = new WebSocket(url);
    } catch (err) {
      setStatus("failed", `cannot open a WebSocket to ${url}: ${err.message}`);
      return;
    }
    const conn = { ws, opened: false, ready: false, connectSent: false, refused: null };
    state.conn = conn;
    ws.onopen = () => { conn.opened = true; };
    ws.onmessage = (e) => onFrame(conn, e.data);
    ws.onclose = (e) => dropped(conn, e.code, e.reason);
  }

  function onFrame(conn, data) {
    if (state.conn !== conn) return;
    let frame;
    try {
      frame = JSON.parse(data);
    } catch {
      return;
    }
    if (conn.ready) armWatchdog(conn);
    if (frame.type === "res") {
      const waiter = state.pending.get(frame.id);
      if (!waiter) return;
      state.pending.delete(frame.id);
      clearTimeout(waiter.timer);
      if (frame.ok) waiter.resolve(frame.payload);
      else waiter.reject(new GatewayError(frame.error));
    } else if (frame.type === "event") {
      if (frame.event === "connect.challenge") sendConnect(conn);
      else if (frame.event === "chat") onChat(frame.payload);
      else if (frame.event === "shutdown") setStatus("reconnecting", "the gateway is shutting down…");
    }
  }

  function sendConnect(conn) {
    if (conn.connectSent) return;
    conn.connectSent = true;
    const params = {
      minProtocol: PROTOCOL,
      maxProtocol: PROTOCOL,
      client: { id: "moltbot-webchat", version: "1", platform: "web", mode: "webchat", displayName: "WebChat" },
      role: "operator",
      scopes: ["operator.read", "operator.write"],
      auth: state.auth || {},
      locale: navigator.language,
      userAgent: navigator.userAgent,
    };
    request("connect", params, conn).then((hello) => welcomed(conn, hello), (err) => refused(conn, err));
  }

  function welcomed(conn, hello) {
    if (state.conn !== conn) return;
    conn.ready = true;
    state.attempt = 0;
    if (state.remember && state.auth && (state.auth.token || state.auth.password)) {
      storageSet(AUTH_STORE, JSON.stringify(state.auth));
    }
    const tick = hello && hello.policy && hello.policy.tickIntervalMs;
    state.tickMs = typeof tick === "number" && tick > 0 ? tick : 30000;
    const version = hello && hello.server ? ` · gateway ${hello.server.version}` : "";
    setStatus("connected", `connected${version}`);
    showChat();
    armWatchdog(conn);
    loadHistory();
  }

  function refused(conn, err) {
    if (!(err instanceof GatewayError) || state.conn !== conn) return; // a drop: dropped() retries
    conn.refused = err;
    const detail = err.detail || "";
    if (detail.startsWith("AUTH_PASSWORD")) ui.loginForm.elements.kind.value = "password";
    if (detail.startsWith("AUTH_TOKEN")) ui.loginForm.elements.kind.value = "token";
    const probing = state.auth && !state.auth.token && !state.auth.password;
    if (/_MISMATCH$|_MISSING$/.test(detail)) storageRemove(AUTH_STORE);
    let message = err.message;
    if (err.retryAfterMs) message += ` (retry in ${Math.ceil(err.retryAfterMs / 1000)} s)`;
    showLogin(probing && detail.endsWith("_MISSING") ? "" : message);
  }

  function dropped(conn, code, reason) {
    if (state.conn !== conn) return;
    state.conn = null;
    clearTimeout(state.watchdog);
    for (const [id, waiter] of state.pending) {
      clearTimeout(waiter.timer);
      waiter.reject(new Error("the connection to the gateway closed"));
      state.pending.delete(id);
    }
    for (const id of state.active) {
      const run = state.runs.get(id);
      if (run && run.reply) setMeta(run.reply, "connection lost; the conversation reloads on reconnect");
    }
    state.active.clear();
    updateStop();
    if (conn.refused || !state.auth) return; // the login form says why
    if (conn.ws.readyState !== WebSocket.CLOSED) conn.ws.close();
    const delay = BACKOFF_MS[Math.min(state.attempt, BACKOFF_MS.length - 1)] * (0.8 + Math.random() * 0.4);
    state.attempt += 1;
    const why = conn.opened
      ? `connection lost (${code}${reason ? `: ${reason}` : ""})`
      : "cannot reach the gateway (a page not served from localhost needs its origin in gateway.controlUi.allowedOrigins)";
    setStatus("reconnecting", `${why}; retrying in ${Math.ceil(delay / 1000)} s`);
    state.retryTimer = setTimeout(open, delay);
  }

  function armWatchdog(conn) {
    clearTimeout(state.watchdog);
    state.watchdog = setTimeout(() => dropped(conn, 4000, "no tick from the gateway"), state.tickMs * 2.5);
  }

  function connect(auth, remember) {
    state.auth = auth;
    state.remember = remember;
    state.attempt = 0;
    if (state.conn) {
      const old = state.conn;
      state.conn = null;
      old.ws.close(1000);
    }
    open();
  }

  function showLogin(message) {
    state.auth = null;
    clearTimeout(state.retryTimer);
    if (state.conn) {
      const old = state.conn;
      state.conn = null;
      old.ws.close(1000);
    }
    setStatus("login", message ? "not connected: authentication failed" : "not connected");
    ui.loginError.textContent = message;
    ui.loginError.hidden = !message;
    ui.chat.hidden = true;
    ui.logout.hidden = true;
    ui.login.hidden = false;
    ui.secret.focus();
  }

  function showChat() {
    ui.login.hidden = true;
    ui.chat.hidden = false;
    ui.logout.hidden = false;
  }

  // ------------------------------------------------------------------ chat

  function matchesSession(key) {
    if (typeof key !== "string") return false;
    return key === state.sessionKey || key === state.session || key === `agent:main:${state.session}`;
  }

  function loadHistory() {
    const token = ++state.historyToken;
    request("chat.history", { sessionKey: state.session, limit: HISTORY_LIMIT }).then(
      (res) => {
        if (token !== state.historyToken) return;
        state.sessionKey = res.sessionKey || null;
        renderHistory(Array.isArray(res.messages) ? res.messages : [], Boolean(res.hasMore));
      },
      (err) => {
        if (token === state.historyToken) notice(`Could not load the history: ${err.message}`);
      },
    );
  }

  function onChat(p) {
    if (!p || typeof p.runId !== "string" || !matchesSession(p.sessionKey)) return;
    let run = state.runs.get(p.runId);
    if (!run) {
      run = { user: null, reply: null, seq: 0 };
      state.runs.set(p.runId, run);
    }
    if (typeof p.seq === "number") {
      if (p.seq < run.seq) return; // an older event of this run
      run.seq = p.seq;
    }
    const stick = nearBottom();
    if (!run.reply) run.reply = bubble("assistant", "");
    const li = run.reply;
    const text = p.message ? textOf(p.message.content) : null;
    if (p.state === "delta") {
      const current = li.querySelector(".text").textContent;
      setText(li, text !== null ? text : current + String(p.deltaText || ""));
      li.dataset.state = "delta";
      state.active.add(p.runId);
    } else {
      if (text !== null) setText(li, text);
      li.dataset.state = p.state === "final" || p.state === "error" || p.state === "aborted" ? p.state : "final";
      if (p.state === "error") setMeta(li, `error: ${p.errorMessage || "the run failed"}`);
      else if (p.state === "aborted") setMeta(li, "stopped");
      else if (!li.querySelector(".text").textContent) setMeta(li, "(no reply)");
      else setMeta(li, "");
      state.active.delete(p.runId);
    }
    updateStop();
    scrollToEnd(stick);
  }

  function send(text) {
    if (!state.conn || !state.conn.ready) {
      notice("Not connected: the message was not sent.");
      return;
    }
    const runId = uuid();
    ui.message.value = "";
    const run = { user: bubble("user", text), reply: bubble("assistant", ""), seq: 0 };
    run.reply.dataset.state = "pending";
    state.runs.set(runId, run);
    state.active.add(runId);
    updateStop();
    scrollToEnd(true);
    request("chat.send", { sessionKey: state.session, message: text, idempotencyKey: runId }).catch((err) => {
      run.user.dataset.state = "failed";
      setMeta(run.user, `failed: ${err.message}`);
      if (run.reply && run.reply.dataset.state === "pending") {
        run.reply.remove();
        run.reply = null;
      }
      state.active.delete(runId);
      updateStop();
      if (!ui.message.value) ui.message.value = text;
    });
  }

  function switchSession() {
    const wanted = ui.session.value.trim() || "main";
    ui.session.value = wanted;
    if (wanted === state.session) return;
    state.session = wanted;
    state.sessionKey = null;
    state.runs.clear();
    state.active.clear();
    updateStop();
    storageSet(SESSION_STORE, wanted);
    ui.transcript.replaceChildren();
    if (state.conn && state.conn.ready) loadHistory();
  }

  // ------------------------------------------------------------------ wiring

  function credentialsFromFragment() {
    const hash = location.hash.slice(1);
    if (!hash) return null;
    const params = new URLSearchParams(hash);
    const token = params.get("token");
    const password = params.get("password");
    if (token === null && password === null) return null;
    history.replaceState(null, "", location.pathname + location.search); // out of the address bar
    return token !== null ? { token } : { password };
  }

  function storedCredentials() {
    try {
      const saved = JSON.parse(storageGet(AUTH_STORE) || "null");
      if (saved && (typeof saved.token === "string" || typeof saved.password === "string")) return saved;
    } catch { /* unreadable: ignore */ }
    return null;
  }

  ui.loginForm.addEventListener("submit", (e) => {
    e.preventDefault();
    const secret = ui.secret.value;
    if (!secret) return;
    const kind = ui.loginForm.elements.kind.value === "password" ? "password" : "token";
    if (!ui.remember.checked) storageRemove(AUTH_STORE);
    ui.secret.value = "";
    ui.loginError.hidden = true;
    connect({ [kind]: secret }, ui.remember.checked);
  });

  ui.logout.addEventListener("click", () => {
    storageRemove(AUTH_STORE);
    showLogin("");
  });

  ui.composer.addEventListener("submit", (e) => {
    e.preventDefault();
    const text = ui.message.value;
    if (text.trim()) send(text);
  });

  ui.message.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      ui.composer.requestSubmit();
    }
  });

  ui.stop.addEventListener("click", () => {
    ui.stop.disabled = true;
    request("chat.abort", { sessionKey: state.session }).catch((err) => {
      notice(`Could not stop the run: ${err.message}`);
      updateStop();
    });
  });

  ui.sessionForm.addEventListener("submit", (e) => {
    e.preventDefault();
    switchSession();
  });
  ui.session.addEventListener("change", switchSession);

  state.session = storageGet(SESSION_STORE) || "main";
  ui.session.value = state.session;
  const fromFragment = credentialsFromFragment();
  const stored = fromFragment ? null : storedCredentials();
  connect(fromFragment || stored || {}, Boolean(stored));
})();
