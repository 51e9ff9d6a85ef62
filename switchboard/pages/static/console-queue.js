/* The agent console's live queue (docs/console.md): Server-Sent Events from /agent/events, a
   list that keeps each caller's element (and so the keyboard focus) across updates, "Ta denne",
   and tagging why a returned caller came back. Plain script, no build step. */
(function () {
  "use strict";

  var region = document.getElementById("live-queue");
  if (!region) { return; }
  var config = JSON.parse(document.getElementById("console-words").textContent);
  var words = config.words;
  var canTake = region.getAttribute("data-can-take") === "yes";
  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var csrf = csrfMeta ? csrfMeta.getAttribute("content") : "";
  var list = document.getElementById("queue-list");
  var empty = document.getElementById("queue-empty");
  var announce = document.getElementById("queue-announce");
  var connection = document.getElementById("queue-connection");
  var QUEUE_ORDER = { returns: 0, main: 1 };

  var waiting = {};  // call_sid -> the waiting caller, as the server sends it
  var clockOffset = 0;  // the server's clock minus ours, in ms
  var taken = {};  // call_sid -> true: this agent took the caller here

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (whole, name) {
      return Object.prototype.hasOwnProperty.call(values, name) ? values[name] : whole;
    });
  }

  function serverNow() { return (Date.now() + clockOffset) / 1000; }

  function heardAt(at) {
    if (typeof at === "number" && at > 0) { clockOffset = at * 1000 - Date.now(); }
  }

  function waitedText(joined) {
    var total = Math.max(0, Math.floor(serverNow() - joined));
    var seconds = String(total % 60);
    if (seconds.length < 2) { seconds = "0" + seconds; }
    return fill(words.console_seconds, { minutes: Math.floor(total / 60), seconds: seconds });
  }

  function causeText(cause) { return words["console_cause_" + cause] || cause; }

  function departmentName(id) { return config.departments[id] || id; }

  // One menu choice, "<via>,<key>,<target>" (ivr.call.MenuChoice), in words.
  function choiceText(choice) {
    var parts = choice.split(",");
    var via = parts[0], key = parts[1] || "", target = parts.slice(2).join(",");
    var how = fill(words["console_via_" + via] || via, { key: key });
    var what;
    if (target.indexOf("department:") === 0) {
      what = departmentName(target.slice("department:".length));
    } else {
      what = words["console_target_" + (target.split(":")[0] || "none")] || target;
    }
    return how + ": " + what;
  }

  function flagText(caller) {
    var parts = [fill(words.console_returned, { department: departmentName(caller.department) })];
    if (caller.kind) { parts.push(config.kinds[caller.kind] || caller.kind); }
    if (caller.cause) { parts.push(causeText(caller.cause)); }
    if (caller.initiator) { parts.push(words["console_initiator_" + caller.initiator] || ""); }
    return parts.filter(Boolean).join(" · ");
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function build(caller) {
    var item = element("li", "caller");
    item.setAttribute("data-call-sid", caller.call_sid);
    var head = element("div", "head");
    head.appendChild(element("span", "place"));
    head.appendChild(element("span", "who"));
    head.appendChild(element("span", "queue-name"));
    item.appendChild(head);
    item.appendChild(element("p", "flag"));
    var facts = element("dl");
    facts.appendChild(element("dt", "", words.console_waited));
    facts.appendChild(element("dd", "waited"));
    facts.appendChild(element("dt", "", words.console_path));
    facts.appendChild(element("dd", "path"));
    item.appendChild(facts);
    if (canTake) {
      var button = element("button", "take", words.console_take);
      button.type = "button";
      button.addEventListener("click", function () { take(caller.call_sid, button); });
      item.appendChild(button);
    }
    return item;
  }

  function update(item, caller, place) {
    item.classList.toggle("returned", Boolean(caller.department));
    item.classList.toggle("taken", Boolean(taken[caller.call_sid]));
    item.querySelector(".place").textContent = fill(words.console_place, { place: place });
    item.querySelector(".who").textContent = words.console_caller + " " + caller.caller;
    item.querySelector(".queue-name").textContent = words["console_queue_" + caller.queue] || "";
    var flag = item.querySelector(".flag");
    flag.hidden = !caller.department;
    flag.textContent = caller.department ? flagText(caller) : "";
    item.querySelector(".waited").textContent = waitedText(caller.joined);
    item.querySelector(".path").textContent =
      caller.path && caller.path.length ? caller.path.map(choiceText).join(" → ") : words.console_no_path;
    var button = item.querySelector("button.take");
    if (button) {
      button.setAttribute("aria-label", fill(words.console_take_label, { caller: caller.caller }));
    }
  }

  function ordered() {
    return Object.keys(waiting).map(function (sid) { return waiting[sid]; }).sort(function (a, b) {
      var byQueue = (QUEUE_ORDER[a.queue] || 0) - (QUEUE_ORDER[b.queue] || 0);
      return byQueue !== 0 ? byQueue : a.joined - b.joined;
    });
  }

  function render() {
    var existing = {};
    Array.prototype.forEach.call(list.children, function (item) {
      existing[item.getAttribute("data-call-sid")] = item;
    });
    var callers = ordered();
    var places = {};
    callers.forEach(function (caller) {
      places[caller.queue] = (places[caller.queue] || 0) + 1;
      var item = existing[caller.call_sid] || build(caller);
      delete existing[caller.call_sid];
      update(item, caller, places[caller.queue]);
      list.appendChild(item);  // moves an existing element; its focus stays
    });
    Object.keys(existing).forEach(function (sid) {
      var item = existing[sid];
      if (item.contains(document.activeElement)) { region.focus(); }
      item.remove();
    });
    empty.hidden = callers.length > 0;
  }

  function tick() {
    Array.prototype.forEach.call(list.children, function (item) {
      var caller = waiting[item.getAttribute("data-call-sid")];
      if (caller) { item.querySelector(".waited").textContent = waitedText(caller.joined); }
    });
  }

  function say(text) { announce.textContent = text; }

  function connect() {
    var source = new EventSource("/agent/events");
    source.addEventListener("open", function () { connection.textContent = words.console_live; });
    source.addEventListener("error", function () { connection.textContent = words.console_offline; });
    source.addEventListener("snapshot", function (event) {
      var data = JSON.parse(event.data);
      heardAt(data.at);
      waiting = {};
      data.waiting.forEach(function (caller) { waiting[caller.call_sid] = caller; });
      render();
    });
    source.addEventListener("join", function (event) {
      var caller = JSON.parse(event.data);
      heardAt(caller.at);
      var known = Boolean(waiting[caller.call_sid]);
      waiting[caller.call_sid] = caller;
      render();
      if (!known) { say(fill(words.console_joined, { caller: caller.caller })); }
    });
    source.addEventListener("leave", function (event) {
      var data = JSON.parse(event.data);
      heardAt(data.at);
      var caller = waiting[data.call_sid];
      if (caller && caller.queue === data.queue) {
        delete waiting[data.call_sid];
        render();
        if (caller.department && window.consoleTags) { window.consoleTags.refresh(); }
      }
    });
    source.addEventListener("flag", function (event) {
      var data = JSON.parse(event.data);
      var caller = waiting[data.call_sid];
      if (caller) {
        ["department", "kind", "cause", "initiator"].forEach(function (field) {
          if (data[field]) { caller[field] = data[field]; }
        });
        render();
      }
    });
  }

  var OUTCOMES = {
    already_taken: "console_already_taken",
    agent_not_connected: "console_not_connected",
    no_agent_id: "console_not_connected",
    not_waiting: "console_not_waiting"
  };

  function take(callSid, button) {
    var caller = waiting[callSid] || { caller: "" };
    button.disabled = true;
    say(words.console_taking);
    fetch("/api/queue/" + encodeURIComponent(callSid) + "/take", {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRF-Token": csrf, "Accept": "application/json" }
    }).then(function (response) {
      if (response.status === 202) {
        taken[callSid] = true;
        say(fill(words.console_taken, { caller: caller.caller }));
        if (window.consoleTags) { window.consoleTags.took(callSid); }
        render();
        return null;
      }
      return response.json().then(function (body) {
        var code = body && body.detail && body.detail.error;
        say(fill(words[OUTCOMES[code] || "console_take_failed"], { caller: caller.caller }));
        button.disabled = false;
      });
    }).catch(function () {
      say(words.console_take_failed);
      button.disabled = false;
    });
  }

  region.setAttribute("tabindex", "-1");
  connect();
  window.setInterval(tick, 1000);
}());
