/* The console's "why did the caller come back?" (docs/console.md): the returns of the last
   hour from /api/returns, the ones this agent took here first, with one button per reason.
   A click saves the reason (POST /api/returns/{transfer_id}). Plain script, no build step. */
(function () {
  "use strict";

  var section = document.getElementById("return-tags");
  if (!section) { return; }
  var config = JSON.parse(document.getElementById("console-words").textContent);
  var words = config.words;
  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var csrf = csrfMeta ? csrfMeta.getAttribute("content") : "";
  var list = document.getElementById("tag-list");
  var none = document.getElementById("tag-none");
  var announce = document.getElementById("tag-announce");
  var REASONS = ["wrong_department", "no_answer", "department_closed", "wanted_switchboard", "other"];
  var SHOWN = 5;
  var REFRESH_MS = 30000;  // returns come from the ingest: a short lag, not a live feed
  var STORE = "console-taken";

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (whole, name) {
      return Object.prototype.hasOwnProperty.call(values, name) ? values[name] : whole;
    });
  }

  function takenHere() {
    try { return JSON.parse(window.sessionStorage.getItem(STORE) || "[]"); } catch (e) { return []; }
  }

  function took(callSid) {
    var sids = takenHere().filter(function (sid) { return sid !== callSid; });
    sids.unshift(callSid);
    try { window.sessionStorage.setItem(STORE, JSON.stringify(sids.slice(0, 20))); } catch (e) { /* private mode */ }
    refresh();
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function time(iso) {
    var at = new Date(iso);
    var pad = function (n) { return (n < 10 ? "0" : "") + n; };
    return pad(at.getHours()) + ":" + pad(at.getMinutes());
  }

  function describe(ret) {
    var parts = [fill(words.console_returned, { department: config.departments[ret.department] || ret.department })];
    parts.push(config.kinds[ret.kind] || ret.kind);
    if (ret.cause) { parts.push(words["console_cause_" + ret.cause] || ret.cause); }
    parts.push(time(ret.detected_at));
    return parts.join(" · ");
  }

  function save(ret, reason, note, status) {
    var body = { reason: reason };
    if (reason === "other" && note.value.trim()) { body.note = note.value.trim(); }
    fetch("/api/returns/" + encodeURIComponent(ret.transfer_id), {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRF-Token": csrf, "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify(body)
    }).then(function (response) {
      if (!response.ok) { throw new Error(String(response.status)); }
      return response.json();
    }).then(function (saved) {
      var label = config.reasons[saved.reason] || saved.reason;
      status.textContent = fill(words.console_tagged, { reason: label });
      announce.textContent = fill(words.console_tag_saved, { reason: label });
    }).catch(function () {
      announce.textContent = words.console_tag_failed;
    });
  }

  function build(ret) {
    var item = element("li", "tag-item");
    item.setAttribute("data-transfer-id", ret.transfer_id);
    item.setAttribute("data-call-sid", ret.call_sid);
    var headingId = "tag-" + ret.transfer_id.replace(/[^A-Za-z0-9_-]/g, "_");
    var title = element("p", "what", describe(ret));
    title.id = headingId;
    item.appendChild(title);
    var status = element("p", "tagged",
      ret.reason ? fill(words.console_tagged, { reason: config.reasons[ret.reason] || ret.reason }) : "");
    item.appendChild(status);
    var group = element("div", "reasons");
    group.setAttribute("role", "group");
    group.setAttribute("aria-labelledby", headingId);
    var noteLabel = element("label", "note");
    noteLabel.appendChild(element("span", "", words.console_tag_note));
    var note = element("input");
    note.type = "text";
    note.maxLength = 200;
    noteLabel.appendChild(note);
    REASONS.forEach(function (reason) {
      var button = element("button", "reason", config.reasons[reason] || reason);
      button.type = "button";
      button.setAttribute("data-reason", reason);
      button.addEventListener("click", function () { save(ret, reason, note, status); });
      if (reason === "other") { group.appendChild(noteLabel); }
      group.appendChild(button);
    });
    item.appendChild(group);
    return item;
  }

  function show(returns) {
    var mine = takenHere();
    var rank = function (ret) { var at = mine.indexOf(ret.call_sid); return at < 0 ? mine.length : at; };
    returns.sort(function (a, b) { return rank(a) - rank(b) || (a.detected_at < b.detected_at ? 1 : -1); });
    var shown = returns.slice(0, SHOWN);
    var keep = {};
    Array.prototype.forEach.call(list.children, function (item) {
      keep[item.getAttribute("data-transfer-id")] = item;
    });
    shown.forEach(function (ret) {
      var item = keep[ret.transfer_id] || build(ret);
      delete keep[ret.transfer_id];
      list.appendChild(item);  // an existing element keeps its focus and the note typed
    });
    Object.keys(keep).forEach(function (id) {
      if (!keep[id].contains(document.activeElement)) { keep[id].remove(); }
    });
    none.hidden = list.children.length > 0;
  }

  function refresh() {
    fetch("/api/returns?hours=1", { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (returns) { if (returns) { show(returns); } })
      .catch(function () { /* the next refresh tries again */ });
  }

  window.consoleTags = { refresh: refresh, took: took };
  refresh();
  window.setInterval(refresh, REFRESH_MS);
}());
