// The partner portal: one screen on the public GraphQL schema. Each panel runs one named
// operation from /portal/operations/ (validated against the schema by the test suite). The
// token lives in this module's memory only: never in localStorage, gone with the tab.

const NOT_SHARED = "not shared with you";
let token = null;
const operations = new Map();

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) {
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

async function sha256Hex(text) {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

// An operation's text and id: the SHA-256 of the text as served, the id `make` lists in the
// trusted-documents manifest. No id where crypto.subtle is missing (a page not on https).
async function operation(name) {
  if (!operations.has(name)) {
    const response = await fetch(`/portal/operations/${name}.graphql`);
    const text = await response.text();
    operations.set(name, { text, hash: globalThis.crypto?.subtle ? await sha256Hex(text) : null });
  }
  return operations.get(name);
}

// Automatic persisted queries (Apollo's protocol): the id first; the text only when the
// server answers PERSISTED_QUERY_NOT_FOUND. With trusted documents the id alone runs.
function byId(hash) {
  return { persistedQuery: { version: 1, sha256Hash: hash } };
}

function notFound(errors) {
  return (errors || []).some((e) => e.extensions?.code === "PERSISTED_QUERY_NOT_FOUND");
}

function firstRequest(name, variables, { text, hash }) {
  const base = { variables, operationName: name };
  return hash ? { ...base, extensions: byId(hash) } : { ...base, query: text };
}

function withText(name, variables, { text, hash }) {
  return { variables, operationName: name, query: text, extensions: byId(hash) };
}

async function post(body) {
  const response = await fetch("/graphql", {
    method: "POST",
    headers: {
      "Content-Type": "application/json",
      Accept: "application/graphql-response+json",
      Authorization: `Bearer ${token}`,
    },
    body: JSON.stringify(body),
  });
  return response.json();
}

// Runs one operation; answers { data, denied } where `denied` holds the paths (joined by ".")
// of fields the token may not read. Any other error is thrown.
async function run(name, variables = {}) {
  const op = await operation(name);
  let answer = await post(firstRequest(name, variables, op));
  if (notFound(answer.errors)) answer = await post(withText(name, variables, op));
  const denied = new Set();
  for (const error of answer.errors || []) {
    if (error.extensions?.code === "UNAUTHORIZED_FIELD_OR_TYPE" && error.path) {
      denied.add(error.path.join("."));
    } else {
      throw new Error(error.message);
    }
  }
  return { data: answer.data, denied };
}

// A value, or "not shared with you" when its path was denied.
function shown(value, path, denied) {
  if (denied.has(path)) return el("span", { class: "denied" }, NOT_SHARED);
  if (value === null || value === undefined || value === "") return "—";
  return String(value);
}

function when(instant) {
  return instant ? new Date(instant).toISOString().replace("T", " ").slice(0, 16) + " UTC" : "—";
}

function facts(pairs) {
  const list = el("dl");
  for (const [term, value] of pairs) list.append(el("dt", {}, term), el("dd", {}, value));
  return list;
}

// --- Live updates (graphql-transport-ws on /graphql) -------------------------------------

let socket = null;
let nextId = 1;
const listeners = new Map();

function liveSocket() {
  if (socket) return socket;
  const url = new URL("/graphql", location.href);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  const opened = new WebSocket(url, "graphql-transport-ws");
  socket = new Promise((resolve, reject) => {
    opened.addEventListener("open", () => {
      opened.send(JSON.stringify({ type: "connection_init", payload: { Authorization: `Bearer ${token}` } }));
    });
    opened.addEventListener("message", (event) => {
      const message = JSON.parse(event.data);
      if (message.type === "connection_ack") resolve(opened);
      else if (message.type === "ping") opened.send(JSON.stringify({ type: "pong" }));
      else if (message.type === "next") listeners.get(message.id)?.next(message.payload);
      else if (message.type === "error") listeners.get(message.id)?.error(message.payload);
    });
    opened.addEventListener("close", () => {
      socket = null; // the token expired or the server went away: the next subscribe reconnects
      reject(new Error("the live connection closed"));
    });
  });
  return socket;
}

// Subscribes with operation `name`; `onNext` gets each payload ({ data, errors }).
async function live(name, variables, onNext) {
  const opened = await liveSocket();
  const op = await operation(name);
  const id = String(nextId++);
  const subscribe = (payload) => opened.send(JSON.stringify({ id, type: "subscribe", payload }));
  // APQ as over HTTP: the server has not seen the text yet, so the same id again with it.
  const error = (errors) => {
    if (op.hash && notFound(errors)) subscribe(withText(name, variables, op));
    else listeners.delete(id);
  };
  listeners.set(id, { next: onNext, error });
  subscribe(firstRequest(name, variables, op));
  return () => {
    listeners.delete(id);
    opened.send(JSON.stringify({ id, type: "complete" }));
  };
}

// --- Panels ------------------------------------------------------------------------------

function eventItem(node) {
  const code = node.equipmentEventTypeCode || node.transportEventTypeCode || node.shipmentEventTypeCode;
  const text = `${when(node.eventDateTime)} · ${node.eventType} ${code} (${node.eventClassifier})`;
  return el("li", { "data-event": node.eventID }, text);
}

let following = [];

// Each container on screen gets its new events as they are stored.
async function follow(numbers) {
  for (const stop of following) stop();
  following = [];
  for (const number of numbers) {
    const stop = await live("ContainerEvents", { number }, (payload) => {
      const node = payload.data?.events?.node;
      const list = document.querySelector(`[data-container="${number}"] ol.timeline`);
      if (node && list) list.prepend(eventItem(node));
    }).catch(() => null);
    if (stop) following.push(stop);
  }
}

function containerCard(number, container, base, denied) {
  if (!container) return el("div", { class: "card" }, el("h3", {}, number), "Not found (or not yours to see).");
  const holds = container.holds.filter((h) => !h.releasedAt);
  const shipment = container.shipment;
  const events = el("ol", { class: "timeline" });
  for (const { node } of container.events.edges) events.append(eventItem(node));
  return el(
    "div",
    { class: "card", "data-container": container.number },
    el("h3", {}, container.number),
    facts([
      ["Status", container.status],
      ["Terminal", shown(container.terminal?.name, `${base}.terminal`, denied)],
      ["Yard location", shown(container.yardLocation, `${base}.yardLocation`, denied)],
      ["Available for pickup", container.availableForPickup ? "yes" : "no"],
      ["Last free day", shown(container.lastFreeDay, `${base}.lastFreeDay`, denied)],
      ["Holds", holds.length ? holds.map((h) => `${h.type} ${h.reasonCode}`).join(", ") : "none"],
      ["Commodity", shipment ? shown(shipment.commodity, `${base}.shipment.commodity`, denied) : "—"],
      ["Consignee", shipment ? shown(shipment.consignee?.name, `${base}.shipment.consignee`, denied) : "—"],
    ]),
    el("h4", {}, "Events"),
    events,
  );
}

async function lookUp(event) {
  event.preventDefault();
  const target = document.getElementById("lookup");
  const numbers = document.getElementById("numbers").value.split(/[\s,;]+/).filter(Boolean).slice(0, 20);
  target.replaceChildren("Looking up…");
  try {
    const cards = await Promise.all(
      numbers.map(async (number) => {
        const { data, denied } = await run("ContainerLookup", { number });
        return containerCard(number, data.container, "container", denied);
      }),
    );
    target.replaceChildren(...cards);
    await follow(numbers);
    target.setAttribute("data-live", "yes");
  } catch (error) {
    target.replaceChildren(el("p", { class: "error" }, error.message));
  }
}

async function schedule() {
  const target = document.getElementById("schedule");
  const from = new Date(Date.now() - 3 * 24 * 3600 * 1000).toISOString();
  const { data, denied } = await run("Schedule", { from });
  const rows = data.portCalls.edges.map(({ node }, i) => {
    const latest = node.timestamps ? node.timestamps[node.timestamps.length - 1] : null;
    const jit = denied.has(`portCalls.edges.${i}.node.timestamps`)
      ? el("span", { class: "denied" }, NOT_SHARED)
      : latest ? `${latest.classifier} ${latest.eventType} ${when(latest.eventDateTime)}` : "—";
    return el(
      "tr",
      {},
      el("td", {}, node.vessel?.name ?? "—"),
      el("td", {}, node.status),
      el("td", {}, when(node.actualArrival || node.estimatedArrival)),
      el("td", {}, node.terminal?.name ?? "—"),
      el("td", {}, jit),
    );
  });
  const head = el("tr", {}, ...["Vessel", "Status", "Arrival", "Terminal", "Latest JIT"].map((h) => el("th", { scope: "col" }, h)));
  const table = el("table", {}, el("thead", {}, head), el("tbody", {}, ...rows));
  const empty = rows.length ? [] : [el("p", {}, `No port calls arriving from ${when(from)}.`)];
  target.replaceChildren(table, ...empty);
}

async function advisories() {
  const target = document.getElementById("advisories");
  const { data, denied } = await run("Advisories");
  if (data.advisories === null) {
    target.replaceChildren(el("p", { class: "denied" }, NOT_SHARED));
    return;
  }
  const items = data.advisories.edges.map(({ node }) =>
    el("div", { class: "card" }, el("span", { class: `tlp tlp-${node.tlp}` }, `TLP:${node.tlp}`), " ", el("strong", {}, node.title), el("p", {}, node.summary)),
  );
  target.replaceChildren(...(items.length ? items : ["No advisories."]));
}

// One labelled bar per row: `parts` are [value, class] segments of one track, scaled to `max`.
function bars(rows, max) {
  return el(
    "div",
    { class: "bars" },
    ...rows.map(({ label, parts, text }) => {
      const track = el("div", { class: "track", role: "img", "aria-label": `${label}: ${text}` });
      for (const [value, kind] of parts) {
        const fill = el("div", { class: `fill ${kind}` });
        fill.style.width = `${max ? (100 * value) / max : 0}%`; // CSSOM: allowed by the CSP
        track.append(fill);
      }
      return el("div", { class: "bar" }, el("span", {}, label), track, el("span", {}, text));
    }),
  );
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

async function turnTimes() {
  const target = document.getElementById("turn-times");
  const { data } = await run("GateTurnTimes");
  if (data.gateTransactions === null) {
    target.replaceChildren(el("p", { class: "denied" }, NOT_SHARED));
    return;
  }
  const byTerminal = new Map();
  for (const { node } of data.gateTransactions.edges) {
    if (node.turnTimeMinutes === null) continue;
    const key = node.smdgCode;
    byTerminal.set(key, [...(byTerminal.get(key) || []), node.turnTimeMinutes]);
  }
  const rows = [...byTerminal].sort().map(([terminal, minutes]) => ({
    label: terminal,
    parts: [[median(minutes), ""]],
    text: `${Math.round(median(minutes))} min`,
  }));
  const max = Math.max(0, ...rows.map((r) => r.parts[0][0]));
  target.replaceChildren(
    rows.length
      ? el("div", { "data-chart": "turn-times" }, el("p", { class: "legend" }, "Median turn time of the latest moves"), bars(rows, max))
      : el("p", {}, "No completed gate moves."),
  );
}

async function emptyReturns(event) {
  event?.preventDefault();
  const target = document.getElementById("empty-returns");
  const carrier = document.getElementById("empty-carrier").value.trim() || null;
  const isoType = document.getElementById("empty-type").value.trim() || null;
  try {
    const { data } = await run("EmptyReturns", { carrier, isoType });
    const rows = data.emptyReturns.edges.map(({ node }) =>
      el(
        "tr",
        {},
        el("td", {}, node.smdgCode),
        el("td", {}, `${node.carrierScac} ${node.isoType}`),
        el("td", {}, node.accepting ? "accepting" : `not accepting${node.alternateSmdgCode ? `: go to ${node.alternateSmdgCode}` : ""}`),
      ),
    );
    const head = el("tr", {}, ...["Terminal", "Line and type", "Now"].map((h) => el("th", { scope: "col" }, h)));
    target.replaceChildren(rows.length ? el("table", {}, el("thead", {}, head), el("tbody", {}, ...rows)) : el("p", {}, "No rule in force."));
  } catch (error) {
    target.replaceChildren(el("p", { class: "error" }, error.message));
  }
}

async function inbound() {
  const target = document.getElementById("inbound");
  const { data } = await run("InboundVolume");
  const weeks = data.insights?.inboundVolume;
  if (!weeks) {
    target.replaceChildren(el("p", { class: "denied" }, NOT_SHARED));
    return;
  }
  const rows = weeks.map((w) => ({
    label: `${w.isoWeek} ${w.smdgCode}`,
    parts: [[w.teuRail, "rail"], [w.teuLocal, "local"]],
    text: `${Math.round(w.teuRail + w.teuLocal)} TEU`,
  }));
  const max = Math.max(0, ...weeks.map((w) => w.teuRail + w.teuLocal));
  const legend = el("p", { class: "legend" }, el("span", { class: "key-rail" }, "■ rail"), " ", el("span", { class: "key-local" }, "■ local"));
  target.replaceChildren(el("div", { "data-chart": "inbound" }, legend, bars(rows, max)));
}

// --- Sign-in -----------------------------------------------------------------------------

async function signIn(given) {
  token = given.trim();
  const error = document.getElementById("sign-in-error");
  error.textContent = "";
  try {
    const { data } = await run("Me");
    const organization = data.me.organization;
    if (!organization) throw new Error("this token names no partner");
    document.getElementById("who").textContent = `${organization.name} (${organization.kind})`;
    document.getElementById("token").value = ""; // held in memory only, not left on screen
    document.getElementById("panels").hidden = false;
    const started = performance.now();
    await Promise.allSettled([schedule(), advisories(), turnTimes(), emptyReturns(), inbound()]);
    performance.mark("harborgraph:first-data", { detail: performance.now() - started });
    // Live: the schedule and the advisories are read again when they change.
    live("ScheduleUpdates", {}, () => schedule().catch(() => null)).catch(() => null);
    if (data.me.scopes.includes("security:read")) {
      live("AdvisoryUpdates", {}, () => advisories().catch(() => null)).catch(() => null);
    }
  } catch (failure) {
    token = null;
    error.textContent = `Sign-in failed: ${failure.message}`;
  }
}

async function demo(event) {
  event.preventDefault();
  const kind = document.getElementById("demo-kind").value;
  const response = await fetch(`/portal/demo-token?kind=${encodeURIComponent(kind)}`);
  const answer = await response.json();
  if (!response.ok) {
    document.getElementById("sign-in-error").textContent = answer.error;
    return;
  }
  await signIn(answer.token);
}

async function start() {
  document.getElementById("token-form").addEventListener("submit", (event) => {
    event.preventDefault();
    signIn(document.getElementById("token").value);
  });
  document.getElementById("lookup-form").addEventListener("submit", lookUp);
  document.getElementById("empty-returns-form").addEventListener("submit", emptyReturns);
  // The demo sign-in exists only in development: ask whether this server offers it.
  const probe = await fetch("/portal/demo-token?kind=", { method: "GET" });
  if (probe.status === 400) {
    const form = document.getElementById("demo-form");
    form.hidden = false;
    form.addEventListener("submit", demo);
  }
}

start();
