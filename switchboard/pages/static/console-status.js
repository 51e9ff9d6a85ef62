// The agent status panel (templates/console_status.html): shows the signed-in agent's status
// and their colleagues', and sets it with POST /api/agents/me/status. Plain JS, no build step;
// the words come from the panel's data- attributes, the CSRF token from <meta name="csrf-token">.
(function () {
  "use strict";

  function label(panel, key) {
    return panel.dataset["label" + key.charAt(0).toUpperCase() + key.slice(1)] || key;
  }

  function describe(panel, agent) {
    var text = label(panel, agent.status);
    if (agent.status === "paused" && agent.reason) {
      text += " (" + label(panel, agent.reason).toLowerCase() + ")";
    }
    return text;
  }

  function show(panel, agents) {
    var me = panel.dataset.agent;
    var now = panel.querySelector("[data-status-now]");
    var list = panel.querySelector("[data-status-list]");
    list.replaceChildren();
    agents.forEach(function (agent) {
      if (agent.id === me) {
        if (now) {
          now.textContent = describe(panel, agent);
          panel.dataset.status = agent.status;
        }
        return;
      }
      var item = document.createElement("li");
      var line = agent.connected
        ? label(panel, "connected")
        : label(panel, "notConnected");
      item.textContent = agent.name + ": " + describe(panel, agent) + ", " + line;
      item.dataset.agent = agent.id;
      list.appendChild(item);
    });
  }

  function load(panel) {
    return fetch("/api/agents", { credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.json();
      })
      .then(function (body) {
        show(panel, body.agents);
      });
  }

  function set(panel, status) {
    var message = panel.querySelector("[data-status-message]");
    var token = document.querySelector('meta[name="csrf-token"]');
    var body = { status: status };
    if (status === "paused") {
      body.reason = panel.querySelector("[data-status-reason]").value;
    }
    return fetch("/api/agents/me/status", {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        "X-CSRF-Token": token ? token.content : "",
      },
      body: JSON.stringify(body),
    })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        message.textContent = label(panel, "saved");
        return load(panel);
      })
      .catch(function () {
        message.textContent = label(panel, "failed");
      });
  }

  function start(panel) {
    panel.querySelectorAll("[data-status-set]").forEach(function (button) {
      button.addEventListener("click", function () {
        set(panel, button.dataset.statusSet);
      });
    });
    load(panel).catch(function () {});
    window.setInterval(function () {
      load(panel).catch(function () {});
    }, 10000);
  }

  document.querySelectorAll("[data-status-panel]").forEach(start);
})();
