// Live updates for the desk. Data from users is only ever put in the page with textContent.
(function () {
  "use strict";
  var body = document.body;
  var strings = {};
  try { strings = JSON.parse(document.getElementById("strings").textContent); } catch (e) { strings = {}; }
  var csrf = body.getAttribute("data-csrf") || "";
  var offset = 0; // server clock minus browser clock, in seconds

  function s(key, values) {
    var text = strings[key] || key;
    Object.keys(values || {}).forEach(function (k) { text = text.split("{" + k + "}").join(String(values[k])); });
    return text;
  }
  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  function now() { return Date.now() / 1000 + offset; }
  function clock(ts) {
    var d = new Date(ts * 1000);
    return ("0" + d.getHours()).slice(-2) + ":" + ("0" + d.getMinutes()).slice(-2);
  }
  function formatTimes(root) {
    (root || document).querySelectorAll("time[data-ts]").forEach(function (t) {
      var ts = parseFloat(t.getAttribute("data-ts"));
      if (!isNaN(ts)) t.textContent = clock(ts);
    });
  }
  function setStatus(key) {
    var node = document.getElementById("live-status");
    if (node) node.textContent = s(key);
  }

  // Server-Sent Events, with a polling fallback when the stream cannot stay open.
  function live(url, handlers, poll, pollEvery) {
    var timer = null;
    function startPolling() {
      if (timer) return;
      setStatus("live_polling");
      poll();
      timer = setInterval(poll, pollEvery);
    }
    if (!window.EventSource) { startPolling(); return; }
    var source = new EventSource(url);
    source.onopen = function () {
      if (timer) { clearInterval(timer); timer = null; }
      setStatus("live_on");
    };
    source.onerror = function () { startPolling(); };
    Object.keys(handlers).forEach(function (name) {
      source.addEventListener(name, function (event) { handlers[name](JSON.parse(event.data)); });
    });
  }

  // ---------------- queue ----------------
  var queueData = null;

  function renderQueue(data) {
    queueData = data;
    offset = data.now - Date.now() / 1000;
    var tbody = document.getElementById("queue-body");
    var empty = document.getElementById("queue-empty");
    while (tbody.firstChild) tbody.removeChild(tbody.firstChild);
    data.cases.forEach(function (c) {
      var tr = el("tr", "risk-" + c.risk_level);
      tr.setAttribute("data-case-id", c.id);
      var risk = el("td"); risk.appendChild(el("span", "badge risk-" + c.risk_level, c.risk_label)); tr.appendChild(risk);
      tr.appendChild(el("td", null, c.summary || ""));
      var waiting = el("td", "waiting"); waiting.setAttribute("data-created", c.created_at); tr.appendChild(waiting);
      tr.appendChild(el("td", null, c.status_label + (c.assigned_to ? " · " + c.assigned_to : "")));
      var flags = el("td");
      if (c.alert) flags.appendChild(el("strong", "flag-crisis", s("flag_crisis")));
      if (c.user_left) flags.appendChild(el("span", "flag-left", s("flag_left")));
      tr.appendChild(flags);
      var open = el("td"); var a = el("a", null, s("open_case", {id: c.id})); a.href = c.url; open.appendChild(a);
      tr.appendChild(open);
      tr.setAttribute("data-status", c.status);
      tbody.appendChild(tr);
    });
    empty.hidden = data.cases.length > 0;
    tickQueue();
  }

  function tickQueue() {
    if (!queueData) return;
    var overdue = 0;
    document.querySelectorAll("#queue-body tr").forEach(function (tr) {
      var cell = tr.querySelector(".waiting");
      var id = parseInt(tr.getAttribute("data-case-id"), 10);
      var c = queueData.cases.filter(function (x) { return x.id === id; })[0];
      if (!c || !cell) return;
      var waited = c.status === "queued" ? now() - c.created_at : c.waiting_seconds;
      cell.textContent = Math.floor(waited / 60) + " " + s("minutes");
      var late = c.status === "queued" && waited > queueData.alert_after;
      tr.classList.toggle("overdue", late);
      if (late) overdue += 1;
    });
    var alertBox = document.getElementById("unclaimed-alert");
    if (overdue > 0) {
      alertBox.textContent = s("unclaimed_alert", {n: overdue, minutes: Math.round(queueData.alert_after / 60)});
      alertBox.hidden = false;
    } else {
      alertBox.hidden = true;
      alertBox.textContent = "";
    }
  }

  function queuePage() {
    function poll() {
      fetch("/queue.json", {credentials: "same-origin", headers: {"Accept": "application/json"}})
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) { if (data) renderQueue(data); })
        .catch(function () {});
    }
    live("/events/queue", {queue: renderQueue}, poll, 10000);
    setInterval(tickQueue, 5000);
  }

  // ---------------- case ----------------
  function casePage() {
    var root = document.getElementById("case");
    var caseId = root.getAttribute("data-case-id");
    var last = parseInt(root.getAttribute("data-last-message"), 10) || 0;
    var status = root.getAttribute("data-status");
    var list = document.getElementById("transcript");
    var deadline = null;
    var leaving = false; // a form is navigating away: never reload over it
    document.addEventListener("submit", function (event) { if (!event.defaultPrevented) leaving = true; });

    function addMessage(m) {
      if (list.querySelector('[data-message-id="' + m.id + '"]')) return;
      var li = el("li", "msg msg-" + m.sender);
      li.setAttribute("data-message-id", m.id);
      li.appendChild(el("span", "who", s("sender_" + m.sender) + (m.author ? " (" + m.author + ")" : "")));
      var t = el("time", null, clock(m.timestamp)); t.setAttribute("data-ts", m.timestamp); li.appendChild(t);
      li.appendChild(el("p", "text", m.text));
      if (m.sender === "counsellor" && m.delivered === false) li.appendChild(el("p", "undelivered", s("undelivered")));
      list.appendChild(li);
      last = Math.max(last, m.id);
      li.scrollIntoView({block: "nearest"});
    }

    function updateCase(c) {
      var badge = document.getElementById("case-status");
      badge.textContent = c.status_label + (c.assigned_to ? " · " + c.assigned_to : "");
      document.getElementById("summary").textContent = c.summary || "";
      var risk = document.getElementById("risk-badge");
      risk.textContent = c.risk_label; risk.className = "badge risk-" + c.risk_level;
      document.getElementById("risk-reasons").textContent = (c.risk_reasons || []).join(", ");
      var crisis = document.getElementById("crisis-alert");
      crisis.hidden = !c.alert;
      deadline = c.alert ? c.crisis_deadline : null;
      document.getElementById("left-banner").hidden = !c.user_left;
      var typing = document.getElementById("reply-text");
      // Claimed, transferred or closed elsewhere: show the right buttons (unless the counsellor is typing).
      if (c.status !== status && !leaving && !(typing && typing.value)) { window.location.reload(); }
      status = c.status;
      tickCrisis();
    }

    function tickCrisis() {
      var node = document.getElementById("crisis-countdown");
      if (!deadline) { node.textContent = ""; return; }
      var left = Math.round(deadline - now());
      node.textContent = left > 0 ? s("crisis_countdown", {s: left}) : s("crisis_sent");
    }
    var crisisBox = document.getElementById("crisis-alert");
    var initial = parseFloat(crisisBox.getAttribute("data-deadline"));
    if (!crisisBox.hidden && !isNaN(initial)) deadline = initial;
    setInterval(tickCrisis, 1000);
    tickCrisis();

    function poll() {
      fetch("/cases/" + caseId + "/transcript.json?after=" + last, {credentials: "same-origin"})
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) { if (data) { updateCase(data.case); data.messages.forEach(addMessage); } })
        .catch(function () {});
    }
    live("/events/cases/" + caseId + "?after=" + last, {case: updateCase, message: addMessage}, poll, 5000);

    var canned = document.getElementById("canned");
    var text = document.getElementById("reply-text");
    if (canned && text) {
      canned.addEventListener("change", function () {
        var option = canned.options[canned.selectedIndex];
        var value = option.getAttribute("data-text");
        if (value) { text.value = text.value ? text.value + "\n\n" + value : value; text.focus(); }
        canned.selectedIndex = 0;
      });
    }
    var form = document.getElementById("reply-form");
    if (form) {
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        var statusNode = document.getElementById("reply-status");
        var button = form.querySelector("button[type=submit]");
        button.disabled = true;
        statusNode.textContent = s("sending");
        statusNode.className = "";
        fetch(form.action, {
          method: "POST", credentials: "same-origin",
          headers: {"X-CSRF-Token": csrf, "X-Requested-With": "fetch", "Accept": "application/json",
                    "Content-Type": "application/x-www-form-urlencoded"},
          body: new URLSearchParams({text: text.value}).toString()
        }).then(function (r) { return r.json().then(function (data) { return {ok: r.ok, data: data}; }); })
          .then(function (result) {
            statusNode.textContent = result.data.message || result.data.error || "";
            statusNode.className = result.ok ? "ok" : "error";
            if (result.ok) { text.value = ""; }
            poll();
          })
          .catch(function () { statusNode.textContent = s("not_delivered"); statusNode.className = "error"; })
          .then(function () { button.disabled = false; });
      });
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    formatTimes(document);
    var page = body.getAttribute("data-page");
    if (page === "queue") queuePage();
    if (page === "case") casePage();
  });
})();
