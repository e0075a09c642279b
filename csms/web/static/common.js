// Shared by the operator dashboard and the driver app: the API token, REST calls, the live
// event stream and a tiny DOM builder. Plain ES2020, no build step, no dependencies.
"use strict";

const Cl = (() => {
  // -- the API token -----------------------------------------------------------------------
  // A link may carry it in the fragment (#token=...), which never reaches a server log; it is
  // then kept in this browser's localStorage and removed from the address bar.
  function takeToken(page) {
    const key = `chargeloop.${page}.token`;
    const hash = new URLSearchParams(location.hash.slice(1));
    if (hash.get("token")) {
      localStorage.setItem(key, hash.get("token"));
      hash.delete("token");
      const rest = hash.toString();
      history.replaceState(null, "", location.pathname + location.search + (rest ? `#${rest}` : ""));
    }
    return localStorage.getItem(key);
  }

  function forgetToken(page) {
    localStorage.removeItem(`chargeloop.${page}.token`);
  }

  function saveToken(page, token) {
    localStorage.setItem(`chargeloop.${page}.token`, token.trim());
  }

  let token = null;
  function useToken(value) { token = value; }

  // -- REST --------------------------------------------------------------------------------
  class ApiError extends Error {
    constructor(status, message, body) {
      super(message);
      this.status = status;
      this.body = body;
    }
  }

  // FastAPI errors: {"detail": "text"}, {"detail": [{"loc": [...], "msg": ...}]} (422), or a
  // command failure {"detail": {"outcome": ..., "message": ...}}.
  function errorText(status, body) {
    const detail = body && body.detail;
    if (typeof detail === "string") return `${status}: ${detail}`;
    if (Array.isArray(detail)) {
      return `${status}: ` + detail.map((d) => `${(d.loc || []).slice(1).join(".")} ${d.msg}`).join("; ");
    }
    if (detail && detail.message) return `${status} ${detail.outcome || ""}: ${detail.message}`;
    return `HTTP ${status}`;
  }

  async function api(method, path, body) {
    const headers = { Accept: "application/json" };
    if (token) headers.Authorization = `Bearer ${token}`;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(path, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
    });
    const type = response.headers.get("Content-Type") || "";
    const data = response.status === 204 ? null
      : type.includes("json") ? await response.json() : await response.text();
    if (!response.ok) throw new ApiError(response.status, errorText(response.status, data), data);
    return data;
  }

  // -- the live stream (server-sent events over fetch, so the token goes in a header) -------
  // Reconnects with back-off and Last-Event-ID; onState("live" | "reconnecting" | "stopped").
  function stream(path, onEvent, onState) {
    let stopped = false;
    let lastId = null;
    let controller = null;
    let delay = 500;

    async function once() {
      controller = new AbortController();
      const headers = { Accept: "text/event-stream", Authorization: `Bearer ${token}` };
      if (lastId !== null) headers["Last-Event-ID"] = lastId;
      const response = await fetch(path, { headers, signal: controller.signal });
      if (response.status === 401 || response.status === 403) {
        throw new ApiError(response.status, `${response.status}: the token may not read ${path}`);
      }
      if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
      onState("live");
      delay = 500;
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += decoder.decode(value, { stream: true });
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = { id: null, kind: "message", data: "" };
          for (const line of frame.split("\n")) {
            if (line.startsWith(":")) continue; // comment / keepalive
            const colon = line.indexOf(":");
            const field = colon < 0 ? line : line.slice(0, colon);
            const text = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
            if (field === "id") event.id = text;
            else if (field === "event") event.kind = text;
            else if (field === "data") event.data += (event.data ? "\n" : "") + text;
          }
          if (!event.data) continue;
          if (event.id !== null) lastId = event.id;
          let data;
          try { data = JSON.parse(event.data); } catch { data = { text: event.data }; }
          try { onEvent(event.kind, data); } catch (error) { console.warn("event handler", error); }
        }
      }
    }

    (async () => {
      while (!stopped) {
        try {
          await once();
        } catch (error) {
          if (stopped) break;
          if (error instanceof ApiError) { onState("stopped", error.message); return; }
        }
        if (stopped) break;
        onState("reconnecting");
        await new Promise((resolve) => setTimeout(resolve, delay));
        delay = Math.min(delay * 2, 10000);
      }
    })();
    return { stop() { stopped = true; if (controller) controller.abort(); onState("stopped"); } };
  }

  // -- DOM ---------------------------------------------------------------------------------
  // el("td", {class: "x", dataset: {station: id}, onclick: fn}, "text", childNode, ...)
  // Text is always set as text, never parsed as HTML.
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "dataset") Object.assign(node.dataset, value);
      else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
      else if (name === "class") node.className = value;
      else node.setAttribute(name, value === true ? "" : value);
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : String(child));
    }
    return node;
  }

  function fill(node, ...children) {
    node.replaceChildren();
    for (const child of children.flat()) {
      if (child !== null && child !== undefined && child !== false) node.append(child);
    }
    return node;
  }

  function $(selector, root) { return (root || document).querySelector(selector); }

  // -- formatting --------------------------------------------------------------------------
  function time(value) {
    if (!value) return "–";
    const d = new Date(value);
    return d.toLocaleString(undefined, { dateStyle: "short", timeStyle: "medium" });
  }
  function clock(value) {
    if (!value) return "–";
    return new Date(value).toLocaleTimeString(undefined, { timeStyle: "medium" });
  }
  function kwh(wh) {
    if (wh === null || wh === undefined) return "–";
    return wh < 1000 ? `${Math.round(wh)} Wh` : `${(wh / 1000).toFixed(2)} kWh`;
  }
  function kw(w) { return w === null || w === undefined ? "–" : `${(w / 1000).toFixed(1)} kW`; }
  function money(amount, currency) {
    return amount === null || amount === undefined ? "–" : `${amount} ${currency || ""}`.trim();
  }
  function since(value) {
    if (!value) return "–";
    const s = Math.max(0, Math.round((Date.now() - new Date(value).getTime()) / 1000));
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
    return h ? `${h} h ${m} min` : m ? `${m} min ${r} s` : `${r} s`;
  }

  // A function that runs fn at most once per `ms`, the last call winning (for refreshes).
  function throttle(fn, ms) {
    let timer = null, again = false;
    return function run() {
      if (timer) { again = true; return; }
      fn();
      timer = setTimeout(() => { timer = null; if (again) { again = false; run(); } }, ms);
    };
  }

  return {
    takeToken, saveToken, forgetToken, useToken, api, ApiError, stream, el, fill, $, time, clock,
    kwh, kw, money, since, throttle,
  };
})();
