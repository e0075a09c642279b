// Operator dashboard: stations with live status, open alerts (acknowledge), a station's detail
// with connectors, current sessions, recent OCPP messages and the common commands.
// Everything comes from the REST API; the event stream (/api/events) says what to re-read.
"use strict";

const { api, el, fill, $ } = Cl;
const PAGE = "dashboard";

const state = {
  stations: new Map(), // id -> StationView
  alerts: [],
  selected: null, // station id shown in the detail panel
  streamHandle: null,
};

// -- sign in -------------------------------------------------------------------------------

function showLogin(message) {
  $("#app").classList.add("hidden");
  $("#logout").classList.add("hidden");
  $("#login").classList.remove("hidden");
  $("#login-error").textContent = message || "";
}

$("#login-form").addEventListener("submit", (event) => {
  event.preventDefault();
  Cl.saveToken(PAGE, $("#token-input").value);
  start();
});

$("#logout").addEventListener("click", () => {
  Cl.forgetToken(PAGE);
  if (state.streamHandle) state.streamHandle.stop();
  showLogin("");
});

async function start() {
  const token = Cl.takeToken(PAGE);
  if (!token) return showLogin("");
  Cl.useToken(token);
  try {
    await loadStations();
  } catch (error) {
    return showLogin(error.status === 401 || error.status === 403
      ? `This token cannot read stations (${error.message}).` : error.message);
  }
  $("#login").classList.add("hidden");
  $("#app").classList.remove("hidden");
  $("#logout").classList.remove("hidden");
  await loadAlerts().catch((error) => console.warn(error));
  if (state.streamHandle) state.streamHandle.stop();
  state.streamHandle = Cl.stream("/api/events?kinds=station.,transaction.,alert.,meter_values",
    onEvent, onStreamState);
  const wanted = new URLSearchParams(location.hash.slice(1)).get("station");
  if (wanted && state.stations.has(wanted)) select(wanted);
}

function onStreamState(stateName, message) {
  const badge = $("#live");
  badge.dataset.state = stateName;
  badge.textContent = { live: "live", reconnecting: "reconnecting…", stopped: "not live" }[stateName] || stateName;
  if (message) badge.title = message;
}

// -- stations ------------------------------------------------------------------------------

async function loadStations() {
  const list = await api("GET", "/api/stations");
  state.stations = new Map(list.map((s) => [s.id, s]));
  renderStations();
}

async function refreshStation(id) {
  try {
    state.stations.set(id, await api("GET", `/api/stations/${encodeURIComponent(id)}`));
  } catch (error) {
    if (error.status === 404) state.stations.delete(id); else throw error;
  }
  renderStations();
  if (state.selected === id) renderDetail();
}

function connectorChips(station) {
  const connectors = station.connectors.filter((c) => c.evse_id > 0);
  if (!connectors.length) return el("span", { class: "muted" }, "–");
  return connectors.map((c) => el("span", {
    class: "chip", dataset: { status: c.status || "", evse: c.evse_id, connector: c.connector_id },
    title: c.error_code ? `${c.status} (${c.error_code})` : c.status,
  }, `${c.evse_id}${c.connector_id > 1 ? `.${c.connector_id}` : ""} ${c.status || "?"}`));
}

function renderStations() {
  const rows = [...state.stations.values()].sort((a, b) => a.id.localeCompare(b.id)).map((s) =>
    el("tr", {
      class: `clickable${state.selected === s.id ? " selected" : ""}`,
      dataset: { station: s.id, online: String(s.online) }, onclick: () => select(s.id),
    },
    el("td", {}, el("b", {}, s.id), el("div", { class: "muted small" }, [s.vendor, s.model].filter(Boolean).join(" "))),
    el("td", {}, s.ocpp_version || "–"),
    el("td", {}, el("span", { class: `chip ${s.online ? "online" : "offline"}` },
      s.connected ? (s.online ? "online" : "silent") : "offline")),
    el("td", { class: "connectors" }, connectorChips(s)),
    el("td", { class: "small" }, Cl.time(s.last_seen))));
  fill($("#stations tbody"), rows.length ? rows
    : el("tr", {}, el("td", { colspan: 5, class: "muted" }, "No stations yet: they appear when they connect.")));
  const online = [...state.stations.values()].filter((s) => s.online).length;
  $("#station-count").textContent = `${online} of ${state.stations.size} online`;
}

// -- alerts --------------------------------------------------------------------------------

async function loadAlerts() {
  const page = await api("GET", "/api/alerts?state=open&limit=100");
  state.alerts = page.items;
  renderAlerts();
}

function renderAlerts() {
  const items = state.alerts.map((a) => el("div", {
    class: `alert${a.acknowledged_at ? " acknowledged" : ""}`, dataset: { alert: a.id, kind: a.kind },
  },
  el("div", { class: "what" },
    el("span", { class: `sev-${a.severity}` }, a.severity), " · ",
    el("a", { href: "#", onclick: (e) => { e.preventDefault(); select(a.station_id); } }, a.station_id),
    a.evse_id ? ` EVSE ${a.evse_id}` : "", " · ", a.kind,
    el("div", {}, a.message),
    el("div", { class: "muted small" }, `first ${Cl.time(a.first_seen)} · last ${Cl.time(a.last_seen)}`,
      a.count > 1 ? ` · ×${a.count}` : "",
      a.acknowledged_by ? ` · acknowledged by ${a.acknowledged_by}` : "")),
  a.acknowledged_at ? null : el("button", { class: "ack", onclick: () => acknowledge(a.id) }, "Acknowledge")));
  fill($("#alerts"), items.length ? items : el("p", { class: "muted" }, "No open alerts."));
  $("#alert-count").textContent = items.length ? `(${items.length})` : "";
}

async function acknowledge(id) {
  try {
    const updated = await api("POST", `/api/alerts/${id}/acknowledge`);
    state.alerts = state.alerts.map((a) => (a.id === id ? updated : a));
    renderAlerts();
  } catch (error) {
    report("Acknowledge alert", false, error.message);
  }
}

// -- the station detail --------------------------------------------------------------------

function select(id) {
  state.selected = id;
  $("#detail").classList.remove("hidden");
  renderStations();
  renderDetail();
  refreshSessions();
  refreshMessages();
  history.replaceState(null, "", `#station=${encodeURIComponent(id)}`);
}

$("#detail-close").addEventListener("click", () => {
  state.selected = null;
  $("#detail").classList.add("hidden");
  renderStations();
  history.replaceState(null, "", location.pathname);
});

function renderDetail() {
  const s = state.stations.get(state.selected);
  if (!s) return;
  $("#detail").dataset.station = s.id;
  $("#detail-title").textContent = `Station ${s.id}`;
  fill($("#detail-info"),
    `${s.ocpp_version || "?"} · ${s.vendor || "?"} ${s.model || ""} · firmware ${s.firmware_version || "?"} · `,
    s.connected ? `connected since ${Cl.time(s.connected_since)}` : "not connected",
    ` · last boot ${Cl.time(s.last_boot)} · registration ${s.registration}`);

  const v16 = s.ocpp_version === "ocpp1.6";
  const resets = v16 ? [["soft", "Soft reset"], ["hard", "Hard reset"]]
    : [["on-idle", "Reset when idle"], ["immediate", "Reset now"]];
  fill($("#station-commands"),
    resets.map(([type, label]) => el("button", {
      dataset: { command: `reset-${type}` },
      onclick: () => command(`${label}`, "reset", { type }),
    }, label)),
    el("button", { dataset: { command: "station-inoperative" },
      onclick: () => command("Station inoperative", "availability", { operative: false }) }, "Make inoperative"),
    el("button", { dataset: { command: "station-operative" },
      onclick: () => command("Station operative", "availability", { operative: true }) }, "Make operative"));

  const rows = s.connectors.filter((c) => c.evse_id > 0).map((c) => {
    const where = { evse_id: c.evse_id, connector_id: c.connector_id };
    const name = `EVSE ${c.evse_id}${v16 ? "" : ` connector ${c.connector_id}`}`;
    return el("tr", { dataset: { evse: c.evse_id, connector: c.connector_id } },
      el("td", {}, c.evse_id), el("td", {}, c.connector_id),
      el("td", {}, el("span", { class: "chip", dataset: { status: c.status || "" } }, c.status || "?")),
      el("td", {}, c.error_code || ""),
      el("td", { class: "small" }, Cl.time(c.status_time)),
      el("td", { class: "row" },
        el("button", { dataset: { command: "unlock" }, onclick: () => command(`Unlock ${name}`, "unlock", where) }, "Unlock"),
        el("button", { dataset: { command: "inoperative" },
          onclick: () => command(`${name} inoperative`, "availability", { operative: false, evse_id: c.evse_id, connector_id: v16 ? undefined : c.connector_id }) }, "Inoperative"),
        el("button", { dataset: { command: "operative" },
          onclick: () => command(`${name} operative`, "availability", { operative: true, evse_id: c.evse_id, connector_id: v16 ? undefined : c.connector_id }) }, "Operative")));
  });
  fill($("#connectors tbody"), rows.length ? rows
    : el("tr", {}, el("td", { colspan: 6, class: "muted" }, "The station has reported no connectors.")));
}

const refreshSessions = Cl.throttle(async () => {
  const id = state.selected;
  if (!id) return;
  try {
    const page = await api("GET", `/api/stations/${encodeURIComponent(id)}/transactions?state=Active&limit=50`);
    if (state.selected !== id) return;
    const rows = page.items.map((tx) => el("tr", { dataset: { transaction: tx.transaction_id } },
      el("td", { class: "mono" }, tx.transaction_id),
      el("td", {}, tx.evse_id ?? "–"),
      el("td", { class: "mono" }, tx.id_token || "–"),
      el("td", { class: "small" }, Cl.time(tx.started_at)),
      el("td", { class: "energy" }, Cl.kwh(tx.energy_wh)),
      el("td", {}, tx.charging_state || tx.state),
      el("td", {}, el("button", {
        class: "danger", dataset: { command: "remote-stop" },
        onclick: () => command(`Stop session ${tx.transaction_id}`, "remote-stop", { transaction_id: tx.transaction_id }),
      }, "Remote stop"))));
    fill($("#sessions tbody"), rows.length ? rows
      : el("tr", {}, el("td", { colspan: 7, class: "muted" }, "No session running.")));
  } catch (error) {
    fill($("#sessions tbody"), el("tr", {}, el("td", { colspan: 7, class: "error" }, error.message)));
  }
}, 1000);

const refreshMessages = Cl.throttle(async () => {
  const id = state.selected;
  if (!id) return;
  try {
    const frames = await api("GET", `/api/stations/${encodeURIComponent(id)}/messages?limit=20`);
    if (state.selected !== id) return;
    const types = { 2: "CALL", 3: "RESULT", 4: "ERROR", 5: "RESULTERROR", 6: "SEND" };
    const rows = frames.reverse().map((f) => el("tr", { dataset: { action: f.action || "" } },
      el("td", { class: "small" }, Cl.clock(f.at)),
      el("td", { title: f.direction === "in" ? "from the station" : "to the station" }, f.direction === "in" ? "→" : "←"),
      el("td", {}, f.action || "?"),
      el("td", {}, types[f.message_type] || "?"),
      el("td", { class: f.outcome === "ok" ? "" : "error" }, f.outcome),
      el("td", {}, el("details", {}, el("summary", { class: "mono" }, f.raw.slice(0, 60)),
        el("pre", { class: "raw mono" }, f.raw)))));
    fill($("#messages tbody"), rows.length ? rows
      : el("tr", {}, el("td", { colspan: 6, class: "muted" }, "No messages yet.")));
  } catch (error) {
    fill($("#messages tbody"), el("tr", {}, el("td", { colspan: 6, class: "error" }, error.message)));
  }
}, 1000);

// -- commands ------------------------------------------------------------------------------

async function command(label, name, body) {
  const id = state.selected;
  const buttons = document.querySelectorAll("#detail button[data-command]");
  buttons.forEach((b) => { b.disabled = true; });
  try {
    const result = await api("POST", `/api/stations/${encodeURIComponent(id)}/commands/${name}`, body);
    const accepted = !result.status || ["Accepted", "Unlocked", "Scheduled"].includes(result.status);
    report(`${label} (${result.action})`, accepted, `the station answered ${result.status || JSON.stringify(result.response)}`);
  } catch (error) {
    report(label, false, error.message);
  } finally {
    buttons.forEach((b) => { b.disabled = false; });
    refreshMessages();
    refreshSessions();
  }
}

function report(label, ok, text) {
  const results = $("#results");
  if (results.querySelector("p.muted")) results.replaceChildren();
  results.prepend(el("div", { class: `result ${ok ? "ok" : "fail"}`, dataset: { ok: String(ok) } },
    el("b", {}, label), ": ", text, el("span", { class: "muted small" }, ` · ${Cl.clock(new Date())}`)));
  while (results.children.length > 10) results.lastChild.remove();
}

// -- live events ---------------------------------------------------------------------------

const pendingStations = new Set();
const flushStations = Cl.throttle(() => {
  const ids = [...pendingStations];
  pendingStations.clear();
  ids.forEach((id) => refreshStation(id).catch((error) => console.warn(error)));
}, 300);
const refreshAlerts = Cl.throttle(() => loadAlerts().catch((error) => console.warn(error)), 500);

function onEvent(kind, data) {
  const id = data.station_id;
  if (kind.startsWith("alert.")) refreshAlerts();
  if (kind.startsWith("station.") && id) {
    pendingStations.add(id);
    flushStations();
  }
  if (id && id === state.selected) {
    if (kind.startsWith("transaction.") || kind === "meter_values") refreshSessions();
    refreshMessages();
  }
}

setInterval(() => { if (state.selected) renderStations(); }, 30000); // "last seen" ages

start();
