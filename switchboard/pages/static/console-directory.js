// The console's department directory and transfer guard (console_directory.html).
//
// Reads GET /api/directory every 30 s and lists the departments. "Set over" transfers the
// caller the agent talks with (the directory's `caller`) through POST /api/calls/{sid}/transfer.
// When the directory's guard warns about the department, or the transfer is refused with
// 409 guard_warning, a modal dialog shows why, and offers a callback or an SMS with the
// self-service link instead, going ahead anyway (override_guard), or cancelling. The dialog
// takes the focus, Escape cancels, and the focus goes back to the button that opened it.
(function () {
  "use strict";

  var panel = document.getElementById("directory-panel");
  if (!panel) {
    return;
  }
  var words = JSON.parse(document.getElementById("directory-words").textContent);
  var lang = panel.getAttribute("data-lang") || "nn";
  var locale = { nn: "nn-NO", nb: "nb-NO", en: "en-GB" }[lang] || "nn-NO";
  var zone = "Europe/Oslo";
  var rows = document.getElementById("directory-rows");
  var statusLine = document.getElementById("directory-status");
  var updated = document.getElementById("directory-updated");
  var dialog = document.getElementById("directory-guard");
  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var state = { caller: null, now: null, departments: [] };
  var pending = null; // {department, opener}: the transfer the guard is asking about

  function say(key, values) {
    var text = words[key] || key;
    Object.keys(values || {}).forEach(function (name) {
      text = text.split("{" + name + "}").join(String(values[name]));
    });
    return text;
  }

  function clock(iso) {
    return new Intl.DateTimeFormat(locale, {
      timeZone: zone, hour: "2-digit", minute: "2-digit"
    }).format(new Date(iso));
  }

  function when(iso) {
    var at = new Date(iso);
    var day = new Intl.DateTimeFormat(locale, {
      timeZone: zone, weekday: "long", day: "numeric", month: "numeric"
    }).format(at);
    return day + " " + clock(iso);
  }

  function percent(share) {
    return share === null ? "–" : Math.round(share * 100) + " %";
  }

  function nameOf(department) {
    return department.names[lang] || department.name;
  }

  function cell(row, text, className) {
    var td = document.createElement("td");
    td.textContent = text;
    if (className) {
      td.className = className;
    }
    row.appendChild(td);
    return td;
  }

  function hours(department) {
    if (department.open) {
      return department.closes_at
        ? say("directory_open_until", { time: clock(department.closes_at) })
        : say("directory_open");
    }
    return department.next_opening
      ? say("directory_opens", { when: when(department.next_opening) })
      : say("directory_closed");
  }

  function buttonFor(id) {
    return rows.querySelector('button[data-department="' + id + '"]');
  }

  function render() {
    // A refresh must not take the focus away from the agent's keyboard.
    var focusedId = document.activeElement && rows.contains(document.activeElement)
      ? document.activeElement.getAttribute("data-department") : null;
    rows.textContent = "";
    state.departments.forEach(function (department) {
      var row = document.createElement("tr");
      var th = document.createElement("th");
      th.scope = "row";
      th.textContent = nameOf(department);
      row.appendChild(th);
      cell(row, department.number);
      cell(row, hours(department));
      cell(row, String(department.today.transfers), "figure");
      cell(row, percent(department.today.accepted_share), "figure");
      cell(row, department.today.returned + " (" + percent(department.today.return_rate) + ")",
        "figure");
      var guard = cell(row, department.guard.length ? "" : say("directory_ok"));
      department.guard.forEach(function (warning) {
        var badge = document.createElement("span");
        badge.className = "badge";
        badge.textContent = say("directory_badge_" + warning);
        guard.appendChild(badge);
      });
      var action = cell(row, "");
      var button = document.createElement("button");
      button.type = "button";
      button.textContent = say("directory_transfer");
      button.setAttribute("aria-label", say("directory_transfer_to", { name: nameOf(department) }));
      button.setAttribute("data-department", department.id);
      button.addEventListener("click", function () {
        setOver(department.id, button);
      });
      action.appendChild(button);
      rows.appendChild(row);
    });
    if (focusedId && buttonFor(focusedId)) {
      buttonFor(focusedId).focus();
    }
  }

  function load() {
    return fetch("/api/directory", { credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) {
          throw new Error(String(response.status));
        }
        return response.json();
      })
      .then(function (body) {
        state = body;
        render();
        updated.textContent = say("directory_title") + ". " +
          say("directory_updated", { time: clock(body.now) });
        if (statusLine.textContent === say("directory_loading")) {
          statusLine.textContent = "";
        }
      })
      .catch(function (error) {
        statusLine.textContent = say("directory_failed", { message: error.message });
      });
  }

  function find(id) {
    return state.departments.filter(function (d) { return d.id === id; })[0];
  }

  function post(path, body) {
    var headers = { "Content-Type": "application/json" };
    if (csrfMeta) {
      headers["X-CSRF-Token"] = csrfMeta.getAttribute("content");
    }
    return fetch(path, {
      method: "POST", credentials: "same-origin", headers: headers, body: JSON.stringify(body)
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (json) {
        return { status: response.status, body: json };
      });
    });
  }

  function failed(answer) {
    var detail = (answer.body && answer.body.detail) || {};
    statusLine.textContent = say("directory_failed", {
      message: detail.message || String(answer.status)
    });
  }

  function reason(warning, department) {
    if (warning === "closes_soon" && department.closes_at) {
      var minutes = Math.max(0, Math.round(
        (new Date(department.closes_at) - new Date(state.now)) / 60000));
      return say("directory_warning_closes_soon", {
        minutes: minutes, time: clock(department.closes_at)
      });
    }
    if (warning === "often_unanswered") {
      return say("directory_warning_often_unanswered", {
        unanswered: department.today.unanswered, whispers: department.today.whispers
      });
    }
    return say("directory_warning_" + warning);
  }

  function openGuard(department, warnings, opener) {
    pending = { department: department, opener: opener };
    document.getElementById("directory-guard-title").textContent =
      say("directory_guard_title", { name: nameOf(department) });
    var list = document.getElementById("directory-guard-reasons");
    list.textContent = "";
    warnings.forEach(function (warning) {
      var item = document.createElement("li");
      item.textContent = reason(warning, department);
      list.appendChild(item);
    });
    // No override opens a closed department: the server refuses it anyway.
    document.getElementById("directory-guard-go-ahead").hidden = warnings.indexOf("closed") >= 0;
    dialog.showModal();
    document.getElementById("directory-guard-callback").focus();
  }

  function closeGuard() {
    var opener = pending && pending.opener;
    var id = pending && pending.department.id;
    pending = null;
    if (dialog.open) {
      dialog.close();
    }
    if (opener && !document.body.contains(opener)) {
      opener = buttonFor(id); // the list was refreshed meanwhile
    }
    if (opener) {
      opener.focus();
    }
  }

  function transfer(department, opener, override) {
    var body = { department: department.id };
    if (override) {
      body.override_guard = true;
    }
    return post("/api/calls/" + state.caller + "/transfer", body).then(function (answer) {
      var detail = (answer.body && answer.body.detail) || {};
      if (answer.status === 409 && detail.error === "guard_warning") {
        openGuard(department, detail.warnings || [], opener);
        return;
      }
      closeGuard();
      if (answer.status === 202) {
        statusLine.textContent = say("directory_transferred", { name: nameOf(department) });
        state.caller = null;
        load();
      } else {
        failed(answer);
      }
    });
  }

  function setOver(id, opener) {
    // Read the directory again first: the caller on the line and the guard's verdict now.
    load().then(function () {
      decide(id, opener.isConnected ? opener : buttonFor(id));
    });
  }

  function decide(id, opener) {
    var department = find(id);
    if (!department) {
      return;
    }
    if (!state.caller) {
      statusLine.textContent = say("directory_no_caller");
      return;
    }
    if (department.guard.length) {
      openGuard(department, department.guard, opener);
      return;
    }
    transfer(department, opener, false);
  }

  function offer(path, doneKey) {
    var department = pending.department;
    post("/api/calls/" + state.caller + "/" + path, { department: department.id })
      .then(function (answer) {
        closeGuard();
        if (answer.status === 202) {
          statusLine.textContent = say(doneKey, { to: answer.body.to });
        } else {
          failed(answer);
        }
      });
  }

  function cancel() {
    if (!pending) {
      return;
    }
    var department = pending.department;
    closeGuard();
    statusLine.textContent = say("directory_cancelled");
    post("/api/directory/guard-cancelled", { department: department.id });
  }

  document.getElementById("directory-guard-callback").addEventListener("click", function () {
    offer("callback", "directory_callback_done");
  });
  document.getElementById("directory-guard-sms").addEventListener("click", function () {
    offer("sms-link", "directory_sms_done");
  });
  document.getElementById("directory-guard-go-ahead").addEventListener("click", function () {
    transfer(pending.department, pending.opener, true);
  });
  document.getElementById("directory-guard-cancel").addEventListener("click", cancel);
  // Escape: the browser fires `cancel` on a modal dialog; we close it ourselves.
  dialog.addEventListener("cancel", function (event) {
    event.preventDefault();
    cancel();
  });

  load();
  window.setInterval(load, 30000);
})();
