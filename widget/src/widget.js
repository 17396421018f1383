/*
 * Net Ecoute chat widget. One tag embeds it:
 *   <script src="https://WIDGET_HOST/widget.js" data-server="https://RASA_HOST" defer></script>
 * Attributes: data-server (Rasa's socket.io server), data-exit-url (quick exit target),
 * data-lang (fr/en, else the page's <html lang>), data-transports ("websocket,polling").
 *
 * Privacy rules: the conversation is kept in sessionStorage only (this tab, gone when the tab
 * closes); quick exit (button or Escape) wipes it and replaces the page. Message text is
 * always put in the page with textContent, never as HTML.
 */
(function () {
  "use strict";
  if (window.__netEcouteWidget) return;
  window.__netEcouteWidget = true;

  var CONFIG = /*@WIDGET_CONFIG@*/null; // texts and default server, inlined by the widget server
  var STORE_KEY = "netecoute-widget";
  var TYPING_TIMEOUT_MS = 12000;
  var EXIT_WAIT_MS = 800;

  var script = document.currentScript || (function () {
    var all = document.querySelectorAll("script[src*='widget.js']");
    return all[all.length - 1];
  })();
  var base = new URL(".", script.src).href;
  var data = script.dataset || {};
  var config = CONFIG || { texts: null, server: location.protocol + "//" + location.hostname + ":5005" };
  var SERVER = data.server || config.server;
  var EXIT_URL = data.exitUrl || "https://www.meteofrance.com/";
  var TRANSPORTS = (data.transports || "websocket,polling").split(",").map(function (t) { return t.trim(); }).filter(Boolean);

  // ---------------------------------------------------------------- state (sessionStorage)
  function fresh() {
    return { v: 1, session_id: null, session_token: null, last_seq: 0, messages: [], pending: [],
             open: false, lang: null, counsellor: null, human: false };
  }

  function load() {
    try {
      var raw = window.sessionStorage.getItem(STORE_KEY);
      var parsed = raw ? JSON.parse(raw) : null;
      if (parsed && parsed.v === 1 && Array.isArray(parsed.messages)) return parsed;
    } catch (e) { /* storage blocked or corrupt: start afresh */ }
    return fresh();
  }

  function save() {
    if (exiting) return;
    try {
      // Nothing is written until there is a conversation (or the chat is open).
      if (!state.session_id && !state.messages.length && !state.open) window.sessionStorage.removeItem(STORE_KEY);
      else window.sessionStorage.setItem(STORE_KEY, JSON.stringify(state));
    } catch (e) { /* storage blocked: the conversation then lasts as long as the page */ }
  }

  function wipeStorage() {
    try {
      var doomed = [];
      for (var i = 0; i < window.sessionStorage.length; i++) {
        var key = window.sessionStorage.key(i);
        if (key && key.indexOf(STORE_KEY) === 0) doomed.push(key);
      }
      doomed.forEach(function (key) { window.sessionStorage.removeItem(key); });
    } catch (e) { /* nothing stored */ }
  }

  var state = load();
  var exiting = false;
  var socket = null;
  var confirmed = false;
  var everConnected = false;
  var typingTimer = null;

  function pageLang() {
    var wanted = (data.lang || document.documentElement.lang || "fr").toLowerCase();
    return wanted.indexOf("en") === 0 ? "en" : "fr";
  }

  function lang() { return state.lang || pageLang(); }

  function t(key, name) {
    var texts = (config.texts && (config.texts[lang()] || config.texts.fr)) || {};
    var value = texts[key];
    if (value === undefined) return key;
    return typeof value === "string" && name !== undefined ? value.replace("{name}", name) : value;
  }

  // ---------------------------------------------------------------- DOM helpers
  var uid = 0;
  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }
  function nextId(prefix) { uid += 1; return "ne-" + prefix + "-" + uid; }

  // Light Markdown of the bot's texts: **bold**, line breaks, "- " and "1. " lists, bare https links.
  function richText(text, container) {
    var list = null;
    var listTag = null;
    String(text || "").split(/\r?\n/).forEach(function (line) {
      var bullet = /^\s*[-•*]\s+(.*)$/.exec(line);
      var numbered = /^\s*(\d{1,2})[.)]\s+(.*)$/.exec(line);
      if (bullet || numbered) {
        var tag = bullet ? "ul" : "ol";
        if (!list || listTag !== tag) {
          list = el(tag);
          listTag = tag;
          if (numbered && numbered[1] !== "1") list.start = parseInt(numbered[1], 10);
          container.appendChild(list);
        }
        var item = el("li");
        inline(bullet ? bullet[1] : numbered[2], item);
        list.appendChild(item);
        return;
      }
      list = null;
      if (!line.trim()) return;
      var paragraph = el("p");
      inline(line, paragraph);
      container.appendChild(paragraph);
    });
  }

  function inline(text, parent) {
    text.split(/\*\*(.+?)\*\*/).forEach(function (part, index) {
      if (!part) return;
      var target = parent;
      if (index % 2 === 1) {
        target = el("strong");
        parent.appendChild(target);
      }
      linkify(part, target);
    });
  }

  function linkify(text, parent) {
    var pattern = /https:\/\/[^\s<>"'`]+/g;
    var at = 0;
    var match;
    while ((match = pattern.exec(text)) !== null) {
      var url = match[0].replace(/[.,;:!?)\]»]+$/, "");
      var safe = null;
      try {
        var parsed = new URL(url);
        if (parsed.protocol === "https:") safe = parsed.href;
      } catch (e) { safe = null; }
      if (!safe) continue;
      parent.appendChild(document.createTextNode(text.slice(at, match.index)));
      var link = el("a", "ne-link", url);
      link.href = safe;
      link.target = "_blank";
      link.rel = "noopener noreferrer";
      link.referrerPolicy = "no-referrer";
      link.appendChild(el("span", "ne-sr", " " + t("new_tab")));
      parent.appendChild(link);
      at = match.index + url.length;
      pattern.lastIndex = at;
    }
    parent.appendChild(document.createTextNode(text.slice(at)));
  }

  // ---------------------------------------------------------------- the widget's DOM
  var root = el("div", "ne-root");
  root.id = "netecoute-widget";
  root.hidden = true; // shown once its CSS is there

  var exitButton = el("button", "ne-exit");
  exitButton.type = "button";
  var exitText = el("span", "ne-exit-text");
  var exitKey = el("span", "ne-exit-key", "Esc");
  exitKey.setAttribute("aria-hidden", "true");
  exitButton.appendChild(exitText);
  exitButton.appendChild(exitKey);

  var launcher = el("button", "ne-launcher");
  launcher.type = "button";
  var launcherText = el("span", "ne-launcher-text");
  var launcherHint = el("span", "ne-launcher-hint");
  launcher.appendChild(launcherText);
  launcher.appendChild(launcherHint);

  var panel = el("section", "ne-panel");
  panel.id = nextId("panel");
  panel.setAttribute("role", "dialog");
  panel.setAttribute("aria-modal", "false");
  launcher.setAttribute("aria-controls", panel.id);

  var header = el("div", "ne-header");
  var title = el("h2", "ne-title");
  title.id = nextId("title");
  panel.setAttribute("aria-labelledby", title.id);
  var langButton = el("button", "ne-lang");
  langButton.type = "button";
  var minimise = el("button", "ne-minimise");
  minimise.type = "button";
  var minimiseIcon = el("span", "ne-minimise-icon");
  minimiseIcon.setAttribute("aria-hidden", "true");
  minimise.appendChild(minimiseIcon);
  var minimiseLabel = el("span", "ne-sr");
  minimise.appendChild(minimiseLabel);
  header.appendChild(title);
  header.appendChild(langButton);
  header.appendChild(minimise);

  var scroller = el("div", "ne-scroll");
  scroller.tabIndex = 0; // the conversation can be scrolled with the keyboard
  scroller.setAttribute("role", "region");
  var prechat = el("div", "ne-prechat");
  prechat.id = nextId("prechat");
  panel.setAttribute("aria-describedby", prechat.id);
  var log = el("div", "ne-log");
  log.setAttribute("role", "log");
  log.setAttribute("aria-live", "polite");
  log.setAttribute("aria-relevant", "additions");
  var replies = el("div", "ne-replies");
  replies.setAttribute("role", "group");
  var typing = el("div", "ne-typing");
  typing.setAttribute("role", "status");
  scroller.appendChild(prechat);
  scroller.appendChild(log);
  scroller.appendChild(replies);
  scroller.appendChild(typing);

  var status = el("div", "ne-status");
  status.setAttribute("role", "status");

  var form = el("form", "ne-form");
  form.setAttribute("novalidate", "");
  var inputLabel = el("label", "ne-sr");
  var input = el("textarea", "ne-input");
  input.id = nextId("input");
  inputLabel.htmlFor = input.id;
  input.rows = 2;
  input.maxLength = 2000;
  input.setAttribute("autocomplete", "off");
  var sendButton = el("button", "ne-send");
  sendButton.type = "submit";
  form.appendChild(inputLabel);
  form.appendChild(input);
  form.appendChild(sendButton);

  panel.appendChild(header);
  panel.appendChild(scroller);
  panel.appendChild(status);
  panel.appendChild(form);

  root.appendChild(exitButton);
  root.appendChild(panel);
  root.appendChild(launcher);

  function applyTexts() {
    root.setAttribute("lang", lang());
    exitText.textContent = t("quick_exit");
    exitButton.setAttribute("aria-label", t("quick_exit_label"));
    exitButton.title = t("quick_exit_label");
    launcherText.textContent = t("launcher");
    launcherHint.textContent = t("launcher_hint");
    title.textContent = t("title");
    langButton.textContent = t("language_switch");
    langButton.setAttribute("lang", lang() === "fr" ? "en" : "fr");
    langButton.setAttribute("aria-label", t("language_switch_label"));
    minimiseLabel.textContent = t("minimise");
    inputLabel.textContent = t("input_label");
    input.placeholder = t("placeholder");
    sendButton.textContent = t("send");
    scroller.setAttribute("aria-label", t("messages_label"));
    replies.setAttribute("aria-label", t("quick_replies_label"));
    prechat.textContent = "";
    (t("prechat") || []).forEach(function (line) { prechat.appendChild(el("p", "ne-prechat-line", line)); });
    prechat.appendChild(el("p", "ne-prechat-exit", t("quick_exit_note")));
    Array.prototype.forEach.call(log.querySelectorAll("[data-who]"), function (node) {
      node.firstChild.textContent = who(node.getAttribute("data-who"), node.getAttribute("data-author"));
    });
    Array.prototype.forEach.call(log.querySelectorAll("[data-notice]"), function (node) {
      node.textContent = noticeText(node.getAttribute("data-notice"), node.getAttribute("data-author"));
    });
    if (typing.textContent) typing.textContent = t("typing");
    showStatus(currentStatus);
  }

  // ---------------------------------------------------------------- rendering messages
  function who(from, author) {
    if (from === "user") return t("you");
    if (from === "counsellor") return author ? t("counsellor", author) : t("counsellor_unnamed");
    if (from === "system") return author ? t("counsellor", author) : t("team");
    return t("assistant");
  }

  function noticeText(kind, author) {
    var key = kind === "person_joined" ? "person_joined" : "person_left";
    return author ? t(key, author) : t(key + "_unnamed");
  }

  function renderMessage(message) {
    if (message.notice) {
      var note = el("p", "ne-notice", noticeText(message.notice, message.noticeAuthor));
      note.setAttribute("data-notice", message.notice);
      if (message.noticeAuthor) note.setAttribute("data-author", message.noticeAuthor);
      log.appendChild(note);
    }
    var from = message.from;
    var item = el("div", "ne-msg ne-from-" + (from === "system" ? "counsellor" : from));
    var marker = el("p", "ne-who");
    marker.setAttribute("data-who", from);
    if (message.author) marker.setAttribute("data-author", message.author);
    marker.appendChild(document.createTextNode(who(from, message.author)));
    marker.appendChild(el("span", "ne-sr", " :"));
    item.appendChild(marker);
    var body = el("div", "ne-body");
    if (from === "user") body.appendChild(el("p", "ne-plain", message.text));
    else richText(message.text, body);
    item.appendChild(body);
    log.appendChild(item);
  }

  function renderReplies() {
    replies.textContent = "";
    var last = state.messages[state.messages.length - 1];
    var options = last && last.from !== "user" && Array.isArray(last.quick_replies) ? last.quick_replies : [];
    replies.hidden = options.length === 0;
    options.forEach(function (option) {
      if (!option || typeof option.payload !== "string") return;
      var button = el("button", "ne-reply", option.title || option.payload);
      button.type = "button";
      button.addEventListener("click", function () {
        send(option.payload, option.title || option.payload);
        input.focus();
      });
      replies.appendChild(button);
    });
  }

  function scrollDown() { scroller.scrollTop = scroller.scrollHeight; }

  function renderAll() {
    log.textContent = "";
    state.messages.forEach(renderMessage);
    renderReplies();
    scrollDown();
  }

  function addMessage(message) {
    state.messages.push(message);
    save();
    renderMessage(message);
    renderReplies();
    scrollDown();
  }

  // ---------------------------------------------------------------- typing and status
  function setTyping(on) {
    clearTimeout(typingTimer);
    typing.textContent = on ? t("typing") : "";
    typing.classList.toggle("ne-typing-on", !!on);
    if (on) {
      typingTimer = setTimeout(function () { setTyping(false); }, TYPING_TIMEOUT_MS);
      scrollDown();
    }
  }

  var currentStatus = null;
  function showStatus(key) {
    currentStatus = key;
    status.textContent = key ? t(key) : "";
    status.hidden = !key;
  }

  // ---------------------------------------------------------------- the socket.io conversation
  function onBot(message) {
    if (!message || typeof message !== "object" || exiting) return;
    var seq = typeof message.seq === "number" ? message.seq : null;
    if (seq !== null) {
      if (seq <= state.last_seq) return; // already shown (replay after a reconnect)
      state.last_seq = seq;
    }
    var from = message.sender === "counsellor" || message.sender === "system" ? message.sender : "bot";
    var author = typeof message.author === "string" && message.author ? message.author.slice(0, 40) : null;
    var entry = { from: from, text: String(message.text || ""), seq: seq };
    if (author) entry.author = author;
    if (from === "counsellor") {
      state.human = true;
      if (author) state.counsellor = author;
    }
    if (message.notice === "person_joined" || message.notice === "person_left") {
      entry.notice = message.notice;
      var name = author || state.counsellor;
      if (name) entry.noticeAuthor = name;
      state.human = message.notice === "person_joined";
      if (message.notice === "person_left") state.counsellor = null;
    }
    if (Array.isArray(message.quick_replies) && message.quick_replies.length) {
      entry.quick_replies = message.quick_replies.slice(0, 8).map(function (q) {
        return { title: String(q.title || q.payload || ""), payload: String(q.payload || "") };
      });
    }
    if (!entry.text && !entry.quick_replies) return;
    setTyping(false);
    addMessage(entry);
  }

  function flushPending() {
    while (socket && confirmed && socket.connected && state.pending.length) {
      var next = state.pending.shift();
      socket.emit("user_uttered", { message: next.message, metadata: { language: next.language || lang() } });
    }
    save();
  }

  function send(message, shown) {
    message = String(message || "");
    if (!message.trim() || exiting) return;
    addMessage({ from: "user", text: shown || message });
    state.pending.push({ message: message, language: lang() });
    save();
    if (!state.human) setTyping(true);
    connect();
    flushPending();
  }

  function requestSession() {
    confirmed = false;
    socket.emit("session_request", {
      session_id: state.session_id || undefined,
      session_token: state.session_token || undefined,
      last_seq: state.last_seq || 0
    });
  }

  function connect() {
    if (socket || exiting) return;
    if (typeof window.io !== "function") {
      loadSocketIo(connect);
      return;
    }
    showStatus(everConnected ? "offline" : "connecting");
    socket = window.io(SERVER, {
      path: "/socket.io",
      transports: TRANSPORTS,
      tryAllTransports: true,
      reconnection: true,
      reconnectionDelay: 500,
      reconnectionDelayMax: 4000,
      timeout: 8000
    });
    socket.on("connect", requestSession);
    socket.on("session_confirm", function (session) {
      if (!session || typeof session.session_id !== "string") return;
      if (state.session_id && session.session_id !== state.session_id) {
        state.last_seq = 0; // a new conversation on the server: its numbering starts again
        state.human = false;
      }
      state.session_id = session.session_id;
      state.session_token = session.session_token;
      confirmed = true;
      everConnected = true;
      showStatus(null);
      if (exiting) {
        tellDeskAndLeave();
        return;
      }
      save();
      flushPending();
    });
    socket.on("session_required", requestSession);
    socket.on("bot_uttered", onBot);
    socket.on("disconnect", function () {
      confirmed = false;
      if (!exiting) showStatus("offline");
    });
    socket.on("connect_error", function () {
      if (!exiting) showStatus(everConnected ? "offline" : "connecting");
    });
  }

  var socketIoLoading = null;
  function loadSocketIo(then) {
    if (!socketIoLoading) {
      socketIoLoading = [];
      var tag = document.createElement("script");
      tag.src = base + "vendor/socket.io.min.js";
      tag.async = true;
      tag.onload = function () { socketIoLoading.forEach(function (fn) { fn(); }); };
      tag.onerror = function () { showStatus("offline"); };
      document.head.appendChild(tag);
    }
    socketIoLoading.push(then);
  }

  // ---------------------------------------------------------------- quick exit
  var leave = function () { window.location.replace(EXIT_URL); };
  var left = false;
  function go() {
    if (left) return;
    left = true;
    leave();
  }

  function tellDeskAndLeave() {
    socket.timeout(EXIT_WAIT_MS).emit("quick_exit", {}, function () { go(); });
  }

  function quickExit() {
    if (exiting) return;
    var hadSession = !!state.session_id;
    exiting = true;
    wipeStorage();
    state.pending = [];
    state.messages = [];
    // Nothing of the conversation stays on screen while the desk is told.
    document.title = "";
    log.textContent = "";
    replies.textContent = "";
    panel.hidden = true;
    var cover = el("div", "ne-cover");
    cover.classList.add("ne-cover-on");
    document.body.appendChild(cover);
    setTimeout(go, EXIT_WAIT_MS + 700);
    if (!hadSession) go();
    else if (socket && socket.connected && confirmed) tellDeskAndLeave();
    else if (!socket) connect(); // the session_confirm handler tells the desk, then leaves
  }

  exitButton.addEventListener("click", quickExit);
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" || event.isComposing || event.repeat) return;
    // Escape is the quick exit once the chat is open or a conversation exists in this tab;
    // on a page where the chat was never used, it does nothing.
    if (!state.open && !state.messages.length) return;
    event.preventDefault();
    event.stopPropagation();
    quickExit();
  }, true);

  // A page restored from the back-forward cache after a quick exit shows no conversation.
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) return;
    var stored = null;
    try { stored = window.sessionStorage.getItem(STORE_KEY); } catch (e) { stored = null; }
    if (!stored && state.messages.length) {
      state = fresh();
      renderAll();
      setOpen(false);
    }
  });

  // ---------------------------------------------------------------- open, close, language, send
  function setOpen(open, focus) {
    state.open = !!open;
    panel.hidden = !open;
    launcher.hidden = !!open;
    launcher.setAttribute("aria-expanded", open ? "true" : "false");
    root.classList.toggle("ne-open", !!open);
    save();
    if (open) {
      connect();
      scrollDown();
      if (focus) input.focus();
    } else if (focus) {
      launcher.focus();
    }
  }

  launcher.addEventListener("click", function () { setOpen(true, true); });
  minimise.addEventListener("click", function () { setOpen(false, true); });
  langButton.addEventListener("click", function () {
    state.lang = lang() === "fr" ? "en" : "fr";
    save();
    applyTexts();
    langButton.focus();
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value;
    if (!text.trim()) return;
    input.value = "";
    send(text);
    input.focus();
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit ? form.requestSubmit() : form.dispatchEvent(new Event("submit", { cancelable: true }));
    }
  });
  // No upload at all: pasted or dropped files are refused, kindly.
  function refuseFiles(event) {
    var transfer = event.clipboardData || event.dataTransfer;
    if (transfer && transfer.files && transfer.files.length) {
      event.preventDefault();
      showStatus("no_upload");
    }
  }
  input.addEventListener("paste", refuseFiles);
  panel.addEventListener("drop", refuseFiles);
  panel.addEventListener("dragover", function (event) { event.preventDefault(); });

  // ---------------------------------------------------------------- start
  function start() {
    var css = document.createElement("link");
    css.rel = "stylesheet";
    css.href = base + "widget.css";
    css.onload = function () { root.hidden = false; };
    css.onerror = function () { root.hidden = false; };
    document.head.appendChild(css);
    document.body.appendChild(root);
    applyTexts();
    // A restored conversation is not read out again on each page load: only new messages are.
    log.setAttribute("aria-live", "off");
    renderAll();
    setTimeout(function () { log.setAttribute("aria-live", "polite"); }, 0);
    setOpen(state.open, false);
    if (state.session_id || state.pending.length) connect();
  }

  function withTexts(then) {
    if (config.texts) return then();
    fetch(base + "texts.json", { credentials: "omit" })
      .then(function (response) { return response.json(); })
      .then(function (texts) { config.texts = texts; then(); })
      .catch(function () { config.texts = {}; then(); });
  }

  withTexts(function () {
    if (document.body) start();
    else document.addEventListener("DOMContentLoaded", start);
  });
})();
