// The driver app: find stations near me (list and a map drawn here, no tiles), book an EVSE,
// start and follow a charge (energy, power, cost, live), receipts, notifications, support.
// Everything goes through the driver API (/api/me/..., /api/station-search).
"use strict";

const { api, el, fill, $ } = Cl;
const PAGE = "driver";
const FOLLOW_MS = 2000; // how often a running session is re-read while it is shown
const KM_PER_DEG_LAT = 111.32;

const state = {
  view: "find",
  matches: [],
  selected: null, // station id selected in the list or on the map
  origin: null, // {lat, lon} of the last search
  radiusKm: 5,
  extentKm: 5, // what the map's outer ring stands for
  active: [], // my running sessions
  waitingForStart: null, // {station_id, evse_id, since} after a start the station accepted
  unread: 0,
  stream: null,
  follow: null,
};

// -- sign in and navigation ------------------------------------------------------------------

function showLogin(message) {
  ["#app", "#tabs", "#logout"].forEach((s) => $(s).classList.add("hidden"));
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
  if (state.stream) state.stream.stop();
  showLogin("");
});

document.querySelectorAll("#tabs button").forEach((button) => {
  button.addEventListener("click", () => show(button.dataset.view));
});

function show(view) {
  state.view = view;
  document.querySelectorAll(".view").forEach((v) => v.classList.toggle("hidden", v.id !== `view-${view}`));
  document.querySelectorAll("#tabs button").forEach((b) => b.classList.toggle("active", b.dataset.view === view));
  $("#title").textContent = $(`#view-${view}`).dataset.title;
  if (view === "charge") refreshCharge();
  if (view === "receipts") loadReceipts();
  if (view === "inbox") { state.unread = 0; renderUnread(); loadNotifications(); }
  if (view === "help") loadTickets();
}

async function start() {
  const token = Cl.takeToken(PAGE);
  if (!token) return showLogin("");
  Cl.useToken(token);
  let me;
  try {
    me = await api("GET", "/api/me");
  } catch (error) {
    return showLogin(error.status === 401 || error.status === 403
      ? `This is not a driver token of an account (${error.message}).` : error.message);
  }
  $("#login").classList.add("hidden");
  ["#app", "#tabs", "#logout"].forEach((s) => $(s).classList.remove("hidden"));
  $("#logout").title = `Signed in as ${me.name || me.id}`;
  if (state.stream) state.stream.stop();
  state.stream = Cl.stream("/api/me/events", onNotification, (s) => {
    const badge = $("#live");
    badge.dataset.state = s;
    badge.textContent = { live: "live", reconnecting: "…", stopped: "not live" }[s] || s;
  });
  const params = new URLSearchParams(location.hash.slice(1));
  const saved = JSON.parse(localStorage.getItem("chargeloop.driver.position") || "null");
  const lat = params.get("lat") ?? saved?.lat, lon = params.get("lon") ?? saved?.lon;
  if (lat != null && lon != null) {
    $("#lat").value = lat;
    $("#lon").value = lon;
    search();
  }
  refreshActive();
  show(params.get("view") || "find");
}

// -- find: search, list and map --------------------------------------------------------------

$("#locate").addEventListener("click", () => {
  if (!navigator.geolocation) { $("#search-error").textContent = "This browser cannot tell where you are."; return; }
  $("#search-error").textContent = "Finding you…";
  navigator.geolocation.getCurrentPosition((position) => {
    $("#lat").value = position.coords.latitude.toFixed(5);
    $("#lon").value = position.coords.longitude.toFixed(5);
    $("#search-error").textContent = "";
    search();
  }, (error) => { $("#search-error").textContent = `Position unavailable: ${error.message}. Type it in.`; },
  { enableHighAccuracy: false, timeout: 10000, maximumAge: 60000 });
});

$("#search-form").addEventListener("submit", (event) => { event.preventDefault(); search(); });

async function search() {
  const lat = Number($("#lat").value), lon = Number($("#lon").value);
  if (!$("#lat").value || !$("#lon").value || !Number.isFinite(lat) || !Number.isFinite(lon)) {
    $("#search-error").textContent = "Give a latitude (-90..90) and longitude (-180..180), or use “Near me”.";
    return;
  }
  localStorage.setItem("chargeloop.driver.position", JSON.stringify({ lat, lon }));
  const query = new URLSearchParams({ latitude: lat, longitude: lon, radius_km: $("#radius").value });
  if ($("#connector-type").value) query.set("connector_type", $("#connector-type").value);
  if ($("#free-now").checked) query.set("free_now", "true");
  try {
    state.matches = await api("GET", `/api/station-search?${query}`);
    state.origin = { lat, lon };
    state.radiusKm = Number($("#radius").value);
    $("#search-error").textContent = "";
  } catch (error) {
    $("#search-error").textContent = error.message;
    return;
  }
  renderMap();
  renderMatches();
}

// The map shows what was found: its outer ring is a round distance just beyond the farthest
// station (at most the search radius), the inner ring half of it.
function mapExtentKm() {
  const farthest = Math.max(0, ...state.matches.map((m) => m.distance_km));
  const wanted = Math.min(state.radiusKm, Math.max(0.2, farthest * 1.15));
  const power = 10 ** Math.floor(Math.log10(wanted));
  return [1, 2, 5, 10].map((f) => f * power).find((nice) => nice >= wanted);
}

// Equirectangular around the searched position: plenty for a few km, and no tiles needed.
function project(lat, lon) {
  const scale = 140 / state.extentKm; // px per km: the outer ring sits at 140 px
  const x = (lon - state.origin.lon) * KM_PER_DEG_LAT * Math.cos((state.origin.lat * Math.PI) / 180);
  const y = (lat - state.origin.lat) * KM_PER_DEG_LAT;
  return [x * scale, -y * scale];
}

function svg(tag, attrs, ...children) {
  const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (name === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(name, value);
  }
  children.forEach((c) => node.append(c));
  return node;
}

function renderMap() {
  const map = $("#map");
  state.extentKm = mapExtentKm();
  const km = (d) => (d < 1 ? `${Math.round(d * 1000)} m` : `${d} km`);
  const parts = [
    svg("circle", { class: "ring", r: 140 }), svg("circle", { class: "ring", r: 70 }),
    svg("text", { class: "ring-label", x: 3, y: -142 }, km(state.extentKm)),
    svg("text", { class: "ring-label", x: 3, y: -72 }, km(state.extentKm / 2)),
    svg("circle", { class: "me", r: 6 }, svg("title", {}, "you")),
  ];
  for (const m of state.matches) {
    const [x, y] = project(m.latitude, m.longitude);
    const kind = !m.online ? "offline" : m.free ? "free" : "busy";
    parts.push(svg("circle", {
      class: `station ${kind}${state.selected === m.station_id ? " selected" : ""}`, cx: x.toFixed(1), cy: y.toFixed(1), r: 8,
      dataset: { station: m.station_id }, onclick: () => selectStation(m.station_id, true),
    }, svg("title", {}, `${m.name || m.station_id}: ${m.distance_km.toFixed(1)} km, ${kind}`)));
    parts.push(svg("text", { x: (x + 10).toFixed(1), y: (y + 3).toFixed(1) }, m.name || m.station_id));
  }
  map.replaceChildren(...parts);
  const free = state.matches.filter((m) => m.free).length;
  $("#map-caption").textContent = state.matches.length
    ? `${state.matches.length} station(s) within ${state.radiusKm} km, ${free} with a free connector. Green: free, grey: busy, red: offline.`
    : `No station within ${state.radiusKm} km matches.`;
}

function selectStation(id, scroll) {
  state.selected = id;
  renderMap();
  renderMatches();
  const card = document.querySelector(`.station-card[data-station="${CSS.escape(id)}"]`);
  if (card && scroll) card.scrollIntoView({ behavior: "smooth", block: "nearest" });
}

function renderMatches() {
  const cards = state.matches.map((m) => {
    const evses = new Map();
    for (const c of m.connectors) {
      if (!evses.has(c.evse_id)) evses.set(c.evse_id, []);
      evses.get(c.evse_id).push(c);
    }
    return el("div", {
      class: `card station-card${state.selected === m.station_id ? " selected" : ""}`,
      dataset: { station: m.station_id },
      onclick: (e) => {
        if (e.target.closest("button, form, input, select") || state.selected === m.station_id) return;
        selectStation(m.station_id, false);
      },
    },
    el("div", { class: "row" }, el("b", {}, m.name || m.station_id), el("span", { class: "spacer" }),
      el("span", { class: "muted" }, `${m.distance_km.toFixed(1)} km`)),
    el("div", { class: "muted small" }, m.address || "", m.online ? "" : " · offline"),
    [...evses.entries()].map(([evseId, connectors]) => evseRow(m, evseId, connectors)));
  });
  fill($("#results"), cards);
}

function evseRow(match, evseId, connectors) {
  const free = connectors.some((c) => c.free);
  const bookForm = el("form", { class: "book-form hidden", onsubmit: (e) => { e.preventDefault(); book(match, evseId, e.target); } },
    el("div", { class: "row" },
      el("label", { class: "small" }, "From ", el("input", { type: "datetime-local", name: "start", required: true, value: localInput(new Date()) })),
      el("label", { class: "small" }, "for ", el("select", { name: "minutes" },
        [30, 60, 90, 120].map((n) => el("option", { value: n }, `${n} min`)))),
      el("button", { class: "primary", type: "submit", dataset: { action: "confirm-booking" } }, "Book")),
    el("p", { class: "small booking-result" }));
  return el("div", { class: "evse", dataset: { evse: evseId } },
    el("div", { class: "row" },
      el("div", {}, el("b", {}, `EVSE ${evseId}`), " ",
        connectors.map((c) => el("span", { class: "chip", dataset: { status: c.status || "" } },
          `${c.connector_type || "?"} ${c.max_power_w ? Cl.kw(c.max_power_w) : ""} · ${c.status || "?"}`))),
      el("div", { class: "row" },
        el("button", { type: "button", dataset: { action: "book" }, onclick: () => bookForm.classList.toggle("hidden") }, "Book"),
        el("button", { type: "button", class: "primary", dataset: { action: "start" }, disabled: !match.online,
          title: free ? "" : "Occupied or reserved: the station may refuse",
          onclick: () => startCharging(match.station_id, evseId) }, "Start charging"))),
    bookForm);
}

function localInput(date) {
  const d = new Date(date.getTime() - date.getTimezoneOffset() * 60000);
  return d.toISOString().slice(0, 16);
}

async function book(match, evseId, form) {
  const output = form.querySelector(".booking-result");
  const startsAt = new Date(form.start.value);
  const endsAt = new Date(startsAt.getTime() + Number(form.minutes.value) * 60000);
  // "now" in the form is the current minute: never before the present instant
  const from = startsAt < new Date() ? new Date() : startsAt;
  try {
    const booking = await api("POST", "/api/me/bookings", {
      station_id: match.station_id, evse_id: evseId,
      starts_at: from.toISOString(), ends_at: endsAt.toISOString(),
    });
    output.className = "small booking-result ok";
    output.textContent = `Booked: EVSE ${booking.evse_id}, ${Cl.time(booking.starts_at)} to ${Cl.clock(booking.ends_at)} (booking ${booking.id}, ${booking.status}).`;
  } catch (error) {
    output.className = "small booking-result error";
    output.textContent = `Could not book: ${error.message}`;
  }
}

// -- charge: start, follow, stop ---------------------------------------------------------------

async function startCharging(stationId, evseId) {
  const box = $("#start-result");
  show("charge");
  fill(box, el("div", { class: "card" }, `Asking ${stationId} to start on EVSE ${evseId}…`));
  try {
    const result = await api("POST", "/api/me/sessions", { station_id: stationId, evse_id: evseId });
    const ok = result.status === "Accepted";
    fill(box, el("div", { class: `card result ${ok ? "ok" : "fail"}`, dataset: { status: result.status || "" } },
      ok ? `${stationId} accepted: plug in if you have not yet; your session appears below when it starts.`
        : `${stationId} answered ${result.status}: it will not start now.`));
    if (ok) state.waitingForStart = { station_id: stationId, evse_id: evseId, since: Date.now() };
  } catch (error) {
    fill(box, el("div", { class: "card result fail" }, `Could not start: ${error.message}`));
  }
  refreshActive();
}

async function stopCharging(session) {
  try {
    const result = await api("POST", `/api/me/sessions/${encodeURIComponent(session.station_id)}/${encodeURIComponent(session.transaction_id)}/stop`);
    fill($("#start-result"), el("div", { class: `card result ${result.status === "Accepted" ? "ok" : "fail"}` },
      `Stop requested: ${session.station_id} answered ${result.status}.`));
  } catch (error) {
    fill($("#start-result"), el("div", { class: "card result fail" }, `Could not stop: ${error.message}`));
  }
  refreshActive();
}

async function refreshActive() {
  try {
    state.active = await api("GET", "/api/me/sessions?active=true");
  } catch (error) {
    fill($("#active"), el("div", { class: "card error" }, error.message));
    return;
  }
  if (state.active.length) {
    state.waitingForStart = null;
    $("#start-result").replaceChildren();
  }
  renderActive();
  // follow while something runs or a start is pending (at most two minutes)
  const waiting = state.waitingForStart && Date.now() - state.waitingForStart.since < 120000;
  clearTimeout(state.follow);
  if (state.active.length || waiting) state.follow = setTimeout(refreshActive, FOLLOW_MS);
}

function renderActive() {
  const cards = state.active.map((s) => {
    const cost = s.cost;
    return el("div", { class: "card session-card", dataset: { transaction: s.transaction_id, station: s.station_id } },
      el("div", { class: "row" }, el("b", {}, `Charging at ${s.station_id}`), el("span", { class: "spacer" }),
        el("span", { class: "chip", dataset: { status: s.charging_state || "Charging" } }, s.charging_state || s.state)),
      el("div", { class: "muted small" }, `EVSE ${s.evse_id ?? "?"} · since ${Cl.time(s.started_at)} · session ${s.transaction_id}`),
      el("div", { class: "figures" },
        figure("energy", Cl.kwh(s.energy_wh), "energy"),
        figure("power", Cl.kw(s.power_w), "power now"),
        figure("cost", cost ? Cl.money(cost.total, cost.currency) : "free", cost && !cost.final ? "cost so far" : "cost"),
        figure("duration", Cl.since(s.started_at), "duration")),
      el("button", { class: "danger", dataset: { action: "stop" }, onclick: () => stopCharging(s) }, "Stop charging"));
  });
  fill($("#active"), cards.length ? cards : el("div", { class: "card muted" },
    state.waitingForStart ? "Waiting for the station to start your session…" : "Nothing charging. Find a station to start."));
}

function figure(name, value, label) {
  return el("div", { class: "figure", dataset: { figure: name } }, el("div", { class: "value" }, value), el("div", { class: "label" }, label));
}

async function refreshCharge() {
  refreshActive();
  try {
    const bookings = await api("GET", "/api/me/bookings?limit=10");
    fill($("#bookings"), bookings.length ? bookings.map((b) => el("div", { class: "list-item", dataset: { booking: b.id, status: b.status } },
      el("div", { class: "row" }, el("b", {}, `${b.station_id} EVSE ${b.evse_id}`), el("span", { class: "spacer" }), el("span", { class: "chip" }, b.status)),
      el("div", { class: "muted small" }, `${Cl.time(b.starts_at)} – ${Cl.clock(b.ends_at)}`, b.detail ? ` · ${b.detail}` : ""),
      b.active ? el("button", { class: "danger", onclick: () => cancelBooking(b.id) }, "Cancel") : null))
      : el("p", { class: "muted" }, "No bookings."));
  } catch (error) {
    fill($("#bookings"), el("p", { class: "error" }, error.message));
  }
  try {
    const recent = await api("GET", "/api/me/sessions?active=false&limit=5");
    fill($("#recent"), recent.length ? recent.map((s) => el("div", { class: "list-item", dataset: { transaction: s.transaction_id } },
      el("div", { class: "row" }, el("b", {}, s.station_id), el("span", { class: "spacer" }),
        s.cost ? Cl.money(s.cost.total, s.cost.currency) : "free"),
      el("div", { class: "muted small" }, `${Cl.time(s.started_at)} · ${Cl.kwh(s.energy_wh)}`),
      s.receipt_id ? el("button", { onclick: () => { show("receipts"); openReceipt(s.receipt_id); } }, "Receipt") : null))
      : el("p", { class: "muted" }, "No finished sessions yet."));
  } catch (error) {
    fill($("#recent"), el("p", { class: "error" }, error.message));
  }
}

async function cancelBooking(id) {
  try { await api("DELETE", `/api/me/bookings/${id}`); } catch (error) { alert(error.message); }
  refreshCharge();
}

// -- receipts --------------------------------------------------------------------------------

async function loadReceipts() {
  try {
    const receipts = await api("GET", "/api/me/receipts?limit=50");
    fill($("#receipts"), receipts.length ? receipts.map((r) => el("div", {
      class: "list-item clickable", dataset: { receipt: r.id }, onclick: () => openReceipt(r.id),
    },
    el("div", { class: "row" }, el("b", {}, r.station_id), el("span", { class: "spacer" }), el("b", {}, Cl.money(r.total, r.currency))),
    el("div", { class: "muted small" }, `${Cl.time(r.started_at)} · ${Cl.kwh(r.energy_wh)} · receipt ${r.id}`)))
      : el("p", { class: "muted" }, "No receipts yet: one comes after each paid session."));
  } catch (error) {
    fill($("#receipts"), el("p", { class: "error" }, error.message));
  }
}

async function openReceipt(id) {
  const box = $("#receipt");
  box.classList.remove("hidden");
  try {
    const r = await api("GET", `/api/me/receipts/${encodeURIComponent(id)}`);
    const printable = await api("GET", `/api/me/receipts/${encodeURIComponent(id)}/html`);
    fill(box, el("h2", {}, `Receipt ${r.id}`),
      el("div", { class: "muted small" }, `${r.station_id} EVSE ${r.evse_id ?? "?"} · ${Cl.time(r.started_at)} – ${Cl.clock(r.stopped_at)} · issued ${Cl.time(r.issued_at)}`),
      el("table", { class: "lines" },
        el("thead", {}, el("tr", {}, el("th", {}, "Item"), el("th", {}, "Quantity"), el("th", {}, "Amount"))),
        el("tbody", {}, r.lines.map((line) => el("tr", {},
          el("td", {}, [line.kind, line.band].filter(Boolean).join(" · ")),
          el("td", {}, `${line.quantity ?? ""} ${line.unit ?? ""}`),
          el("td", {}, line.amount ?? ""))),
        el("tr", {}, el("td", {}, "Net"), el("td", {}), el("td", {}, r.net)),
        el("tr", {}, el("td", {}, `VAT ${r.vat_percent} %`), el("td", {}), el("td", {}, r.vat)),
        el("tr", {}, el("td", {}, el("b", {}, "Total")), el("td", {}, Cl.kwh(r.energy_wh)), el("td", { class: "total" }, el("b", {}, Cl.money(r.total, r.currency)))))),
      el("p", { class: "small" }, `Paid ${Cl.money(r.paid, r.currency)}`, Number(r.outstanding) > 0 ? ` · outstanding ${Cl.money(r.outstanding, r.currency)}` : ""),
      el("details", {}, el("summary", {}, "Printable receipt"),
        el("iframe", { class: "printable", sandbox: "", title: "printable receipt", srcdoc: printable })));
    box.dataset.receipt = r.id;
  } catch (error) {
    fill(box, el("p", { class: "error" }, error.message));
  }
}

// -- notifications ---------------------------------------------------------------------------

function describe(kind, data) {
  const where = data.station_id ? ` at ${data.station_id}` : "";
  const cost = data.cost && data.cost.total ? `, ${data.cost.total} ${data.cost.currency}` : "";
  switch (kind) {
    case "session.started": return `Charging started${where}.`;
    case "session.progress": return `${Cl.kwh(data.energy_wh)} so far${where}${cost}.`;
    case "session.completed": return `Charging finished${where}: ${Cl.kwh(data.energy_wh)}${cost}.`;
    case "session.suspended": return `Charging paused${where} (by the ${data.by || "station"}).`;
    case "session.resumed": return `Charging resumed${where}.`;
    case "session.fault": return `A fault${where}: ${data.reason || data.error_code || "see support"}.`;
    case "receipt.issued": return `Your receipt is ready${data.total ? `: ${data.total} ${data.currency}` : ""}.`;
    case "availability.free": case "approaching.free": return `A connector is free${where}.`;
    default: return `${kind.replace(".", ": ").replace(/_/g, " ")}${where}.`;
  }
}

function notificationItem(n) {
  return el("div", { class: "list-item", dataset: { notification: n.id, kind: n.kind } },
    el("div", {}, describe(n.kind, n.data || {})),
    el("div", { class: "muted small" }, `${n.kind} · ${Cl.time(n.created_at)}`));
}

async function loadNotifications() {
  try {
    const page = await api("GET", "/api/me/notifications?limit=30");
    fill($("#notifications"), page.items.length ? page.items.map(notificationItem)
      : el("p", { class: "muted" }, "Nothing yet."));
  } catch (error) {
    fill($("#notifications"), el("p", { class: "error" }, error.message));
  }
}

function onNotification(kind, payload) {
  const list = $("#notifications");
  if (list.querySelector("p.muted")) list.replaceChildren();
  if (!list.querySelector(`[data-notification="${payload.id}"]`)) list.prepend(notificationItem(payload));
  if (state.view !== "inbox") { state.unread += 1; renderUnread(); }
  if (kind.startsWith("session.")) refreshActive();
  if (kind === "receipt.issued" && state.view === "receipts") loadReceipts();
  if (kind.startsWith("booking.") && state.view === "charge") refreshCharge();
}

function renderUnread() {
  const badge = $("#unread");
  badge.textContent = state.unread;
  badge.classList.toggle("hidden", !state.unread);
}

// -- help ------------------------------------------------------------------------------------

async function loadTickets() {
  try {
    const sessions = await api("GET", "/api/me/sessions?limit=10");
    fill($("#ticket-session"), el("option", { value: "" }, "none"), sessions.map((s) => el("option", {
      value: `${s.station_id}\u0000${s.transaction_id}` }, `${s.station_id} · ${Cl.time(s.started_at)}`)));
    if (!$("#ticket-station").value && state.selected) $("#ticket-station").value = state.selected;
    const page = await api("GET", "/api/me/tickets?limit=20");
    fill($("#tickets"), page.items.length ? page.items.map((t) => el("div", { class: "list-item", dataset: { ticket: t.id, status: t.status } },
      el("div", { class: "row" }, el("b", {}, t.subject), el("span", { class: "spacer" }), el("span", { class: "chip" }, t.status.replace(/_/g, " "))),
      el("div", { class: "muted small" }, `#${t.id} · ${Cl.time(t.created_at)}`, t.station_id ? ` · ${t.station_id}` : "")))
      : el("p", { class: "muted" }, "No tickets."));
  } catch (error) {
    fill($("#tickets"), el("p", { class: "error" }, error.message));
  }
}

$("#ticket-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const body = { category: $("#ticket-category").value, message: $("#ticket-message").value };
  const [station, transaction] = $("#ticket-session").value.split("\u0000");
  if (transaction) { body.station_id = station; body.transaction_id = transaction; }
  else if ($("#ticket-station").value.trim()) body.station_id = $("#ticket-station").value.trim();
  const output = $("#ticket-result");
  try {
    const ticket = await api("POST", "/api/me/tickets", body);
    output.className = "ok";
    output.textContent = `Ticket #${ticket.id} opened: we will answer here and in your notifications.`;
    $("#ticket-message").value = "";
    loadTickets();
  } catch (error) {
    output.className = "error";
    output.textContent = `Could not open a ticket: ${error.message}`;
  }
});

start();
