// The inspector: the world as the server's own APIs show it. Everything is fetched a page at a
// time (the million-invoice world included); the invoice filters are built from the OpenAPI
// documents the server serves, so they are each API's own.
"use strict";

const POLL_MS = 2000;
const PAGE_SIZE = 10; // invoices per page, at first; the filters let the user change it
const CUSTOMERS_PER_PAGE = 15;
const TOKEN_KEY = "mockserver.inspector.token";
const DEFAULT_TOKEN = "dev-token";
const JOURNAL = "/_mock/requests"; // shown once the control document lists it
const JOURNAL_ROWS = 50;
const WEBHOOKS = "/_mock/webhooks";
const UNJOURNALED = { "Mockserver-Journal": "off" }; // the journal leaves such a request out
const DIALECT = "Meteroid-Dialect";

// How each API lists a customer's invoices: the operation whose parameters become filters,
// the parameters the inspector sets itself, the page-size parameter and the columns shown.
const APIS = {
  metronome: {
    path: "/v1/customers/{customer_id}/invoices",
    own: new Set(["customer_id", "next_page", "webhook_notification_id", "include_historical_commit_invoices"]),
    size: "limit",
    columns: ["invoice", "type", "status", "billing period", "issued", "total"],
    row: (inv) => [
      shortId(inv.id), inv.type, inv.status,
      `${day(inv.start_timestamp)} → ${day(inv.end_timestamp)}`, day(inv.issued_at),
      money(inv.total, inv.credit_type.name.split(" ")[0]),
    ],
    uuid: (inv) => inv.id,
  },
  meteroid: {
    path: "/api/v1/invoices",
    own: new Set(["customer_id", "page"]),
    size: "per_page",
    columns: ["number", "status", "payment", "date", "total", "due"],
    // Filters whose values each dialect spells its own way: only the spelling in use is offered.
    spelt: { statuses: (doc, dialect) => doc.components.schemas[`${capitalized(dialect)}Invoice`].properties.status.enum },
    row: (inv) => [
      inv.invoice_number, inv.status, inv.payment_status, inv.invoice_date,
      money(inv.total, inv.currency), money(inv.amount_due, inv.currency),
    ],
    uuid: (inv) => fromPublicId("inv_", inv.id),
  },
};

const state = {
  docs: {},
  seq: null,
  busy: 0,
  loading: 0, // calls on their way, but the poll's
  journal: "", // the entries shown, by sequence number
  deliveries: "", // the attempts shown, by event, endpoint and attempt
  params: {}, // the invoice list's parameters, by name
  dialect: null, // the Meteroid spelling the filters offer
  customers: { cursors: [null], index: 0, next: null },
  customer: null, // as the Metronome-style API lists it
  api: "metronome",
  invoices: { cursors: [null], index: 0, next: null, page: 0, pages: 0 },
  invoice: null, // its UUID
  ingested: 0, // test events sent: part of their transaction ids
};

const $ = (id) => document.getElementById(id);

// --- formatting --------------------------------------------------------------------------------

function day(text) {
  return text ? text.slice(0, 10) : "";
}

function capitalized(text) {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function shortId(id) {
  return id.slice(0, 8) + "…";
}

function money(minor, currency) {
  return `${(minor / 100).toFixed(2)} ${currency}`;
}

// A change's argument in a line of the log: a list by its length (an ingest's events), an
// object as JSON (a customer's fields).
function brief(value) {
  if (Array.isArray(value)) return `[${value.length}]`;
  return value !== null && typeof value === "object" ? JSON.stringify(value) : value;
}

// Meteroid's public ids: the prefix, then the UUID's 128 bits rotated left by 67, in base62.
const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const MASK = (1n << 128n) - 1n;
const ROTATION = 67n;

function toPublicId(prefix, uuid) {
  let value = BigInt("0x" + uuid.replaceAll("-", ""));
  value = ((value << ROTATION) | (value >> (128n - ROTATION))) & MASK;
  let digits = "";
  while (value > 0n) {
    digits = BASE62[Number(value % 62n)] + digits;
    value /= 62n;
  }
  return prefix + (digits || "0");
}

function fromPublicId(prefix, id) {
  let value = 0n;
  for (const char of id.slice(prefix.length)) value = value * 62n + BigInt(BASE62.indexOf(char));
  value = ((value >> ROTATION) | (value << (128n - ROTATION))) & MASK;
  const hex = value.toString(16).padStart(32, "0");
  return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20)].join("-");
}

// --- talking to the server ---------------------------------------------------------------------

class Refused extends Error {}

function say(text, bad = false) {
  const status = $("status");
  status.textContent = text;
  status.classList.toggle("bad", bad);
}

// One request. The inspector's own are kept out of the journal unless the user asks to see them;
// while it is on its way, the header says "loading…" (but for the poll's, which `quiet` marks)
// and the panel it fills, if named, is dimmed.
async function call(path, { method = "GET", body, headers = {}, query, panel, quiet = false } = {}) {
  const url = new URL(path, location.origin);
  for (const [name, value] of query || []) url.searchParams.append(name, value);
  const own = $("journal-own").checked ? {} : UNJOURNALED;
  const init = { method, headers: { Authorization: `Bearer ${$("token").value.trim()}`, ...own, ...headers } };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers["Content-Type"] = "application/json";
  }
  const loads = [quiet ? null : $("loading"), panel ? $(panel) : null].filter(Boolean);
  loads.forEach((node) => loading(node, 1));
  try {
    const response = await fetch(url, init);
    const text = await response.text();
    const json = (response.headers.get("Content-Type") || "").includes("application/json");
    if (!response.ok) {
      const reason = json ? JSON.parse(text).message : text;
      throw new Refused(`${method} ${url.pathname}: ${response.status} ${reason}`);
    }
    return json ? JSON.parse(text) : text;
  } finally {
    loads.forEach((node) => loading(node, -1));
  }
}

// Counts the calls a node waits for: the header's indicator shows, a panel is aria-busy.
function loading(node, step) {
  const count = Number(node.dataset.loads || 0) + step;
  node.dataset.loads = count;
  if (node.id === "loading") node.hidden = count === 0;
  else node.setAttribute("aria-busy", String(count > 0));
}

// A user's action: a refused call is said on the status line, and the poll waits until it ends.
async function guarded(work) {
  state.busy += 1;
  try {
    await work();
  } catch (error) {
    if (!(error instanceof Refused)) throw error;
    say(error.message, true);
  } finally {
    state.busy -= 1;
  }
}

function element(tag, text, attributes = {}) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  return node;
}

// --- the world ---------------------------------------------------------------------------------

async function loadWorld() {
  const health = await call("/_mock/health");
  $("world-fixture").textContent = health.fixture;
  $("world-seed").textContent = health.seed;
  $("clock").textContent = health.now;
  $("world-seq").textContent = health.seq;
  $("world-customers").textContent = health.counts.customers.toLocaleString("en");
  const byStatus = Object.entries(health.counts.invoices_by_status).map(([s, n]) => `${s} ${n}`).join(", ");
  $("world-invoices").textContent = health.counts.invoices.toLocaleString("en");
  $("world-invoices").title = byStatus;
  state.seq = health.seq;
}

async function loadChanges() {
  const text = await call("/_mock/changes", { panel: "changes-panel" });
  const list = $("changes");
  list.replaceChildren();
  const lines = text.split("\n").filter(Boolean).map((line) => JSON.parse(line));
  for (const change of lines.reverse()) {
    const { seq, kind, ...args } = change;
    const detail = Object.entries(args).map(([k, v]) => `${k} ${brief(v)}`).join(", ");
    list.append(element("li", `${kind}${detail ? ": " + detail : ""}`, { value: seq }));
  }
  if (!lines.length) list.append(element("li", "none yet: the world is the fixture's", { class: "none" }));
}

// The latest requests the APIs answered, newest first; the poll keeps the table up to date.
async function loadJournal() {
  const listed = JOURNAL in state.docs.control.paths;
  $("journal-note").textContent = listed
    ? `The latest ${JOURNAL_ROWS} requests to the APIs, newest first, live from ${JOURNAL}.`
    : `This server keeps no request journal (its control document lists no ${JOURNAL}).`;
  $("journal").hidden = !listed;
  if (!listed) return;
  const { requests } = await call(JOURNAL, { query: [["limit", String(JOURNAL_ROWS)]], quiet: true });
  const shown = requests.map((entry) => entry.seq).join();
  if (shown === state.journal && $("journal").tBodies[0].rows.length) return; // as it is: no flicker
  state.journal = shown;
  const body = $("journal").tBodies[0];
  body.replaceChildren(...requests.reverse().map(journalRow));
  if (!requests.length) body.append(emptyRow("no requests yet", 6));
}

function journalRow(entry) {
  const pairs = Object.entries(entry.query).flatMap(([name, value]) => [value].flat().map((v) => [name, v]));
  const query = new URLSearchParams(pairs).toString();
  const cells = [
    [entry.seq, "num"],
    [entry.method, ""],
    [entry.path + (query ? `?${query}` : ""), "path"],
    [entry.status ?? "dropped", "status num"],
    [entry.duration_ms.toFixed(1), "num"],
    [entry.fault ?? "", "fault"],
  ];
  const row = element("tr", undefined, { "data-id": entry.seq });
  for (const [text, kind] of cells) row.append(element("td", String(text), kind ? { class: kind } : {}));
  row.classList.toggle("failed", entry.status === null || entry.status >= 400);
  row.classList.toggle("faulted", entry.fault !== null);
  if (entry.error) row.title = entry.error;
  return row;
}

// The endpoints, and the latest delivery attempts this process made, newest first.
async function loadDeliveries() {
  const [{ data: endpoints }, { data: attempts }] = await Promise.all([
    call(WEBHOOKS, { quiet: true }),
    call(`${WEBHOOKS}/deliveries`, { query: [["limit", String(JOURNAL_ROWS)]], quiet: true }),
  ]);
  $("webhooks-note").textContent = endpoints.length
    ? `To ${endpoints.map((e) => `${e.api} ${e.url}`).join(", ")}: the latest attempts, newest first.`
    : `No endpoint: POST ${WEBHOOKS} registers one, and the world's changes are sent to it.`;
  const shown = attempts.map(deliveryKey).join();
  const body = $("deliveries").tBodies[0];
  if (shown === state.deliveries && body.rows.length) return; // as it is: no flicker
  state.deliveries = shown;
  body.replaceChildren(...attempts.map(deliveryRow));
  if (!attempts.length) body.append(emptyRow("no deliveries yet", 7));
}

function deliveryKey(attempt) {
  return `${attempt.event_id}/${attempt.endpoint}/${attempt.attempt}`;
}

function deliveryRow(attempt) {
  const cells = [
    [attempt.at.slice(11, 23), ""],
    [attempt.type, ""],
    [shortId(attempt.event_id), "path"],
    [shortId(attempt.endpoint), ""],
    [attempt.attempt, "num"],
    [attempt.response_status ?? "no answer", "status num"],
    [attempt.duration_ms.toFixed(1), "num"],
  ];
  const row = element("tr", undefined, { "data-id": deliveryKey(attempt) });
  for (const [text, kind] of cells) row.append(element("td", String(text), kind ? { class: kind } : {}));
  row.classList.toggle("failed", attempt.response_status === null || attempt.response_status > 299);
  if (attempt.error) row.title = attempt.error;
  return row;
}

function emptyRow(text, columns) {
  const row = element("tr");
  row.append(element("td", text, { colspan: columns }));
  return row;
}

// --- customers ---------------------------------------------------------------------------------

async function loadCustomers() {
  const page = state.customers;
  const query = [["limit", String(CUSTOMERS_PER_PAGE)], ["only_archived", String($("archived").checked)]];
  if (page.cursors[page.index]) query.push(["next_page", page.cursors[page.index]]);
  const answer = await call("/v1/customers", { query, panel: "customers-panel" });
  page.next = answer.next_page;
  const body = $("customers").tBodies[0];
  body.replaceChildren();
  for (const customer of answer.data) {
    const row = element("tr", undefined, { "data-id": customer.id });
    const name = element("td", customer.name);
    name.append(element("div", customer.ingest_aliases.join(", "), { class: "aside" }));
    const ids = element("td");
    ids.append(element("div", customer.id, { class: "id" }), element("div", toPublicId("cus_", customer.id), { class: "id" }));
    row.append(name, ids);
    row.classList.toggle("picked", state.customer?.id === customer.id);
    row.addEventListener("click", () => guarded(() => pickCustomer(customer)));
    body.append(row);
  }
  $("customers-page").textContent = `page ${page.index + 1}`;
  $("customers-prev").disabled = page.index === 0;
  $("customers-next").disabled = !page.next;
}

async function turnCustomers(step) {
  const page = state.customers;
  if (step > 0) page.cursors[page.index + 1] = page.next;
  page.index += step;
  await loadCustomers();
}

async function pickCustomer(customer) {
  state.customer = customer;
  for (const row of $("customers").tBodies[0].rows) row.classList.toggle("picked", row.dataset.id === customer.id);
  $("customer-name").textContent = `of ${customer.name}`;
  $("ingest-button").disabled = false;
  restartInvoices();
  await showInvoices();
}

// --- invoices ----------------------------------------------------------------------------------

function listOperation(api) {
  return state.docs[api].paths[APIS[api].path].get;
}

// The list operation's parameters as form fields: enums as selects, booleans as checkboxes,
// integers as numbers within their range, arrays of an enum as a set of checkboxes.
function buildFilters() {
  const api = APIS[state.api];
  const form = $("filters");
  form.replaceChildren();
  const params = listOperation(state.api).parameters.filter((p) => p.in !== "path" && !api.own.has(p.name));
  state.params = Object.fromEntries(params.map((param) => [param.name, param]));
  state.dialect = state.params[DIALECT]?.schema.default ?? null;
  for (const param of params) form.append(field(param, api.size));
}

// The dialect picked in the filters (else the document's default) spells the spelt filters anew.
function respell(dialect) {
  state.dialect = dialect || state.params[DIALECT].schema.default;
  for (const set of $("filters").querySelectorAll("fieldset[data-spelt]")) {
    set.replaceWith(field(state.params[set.dataset.name], APIS[state.api].size));
  }
}

// A parameter that also takes an empty value (read as absent) is offered in its other form.
const filled = (schema) => schema.anyOf?.find((form) => form.maxLength !== 0) ?? schema;

function field(param, size) {
  const schema = filled(param.schema);
  const items = schema.items && filled(schema.items);
  const name = param.name;
  const title = param.description;
  if (schema.type === "array" && items.enum) {
    const spelt = APIS[state.api].spelt?.[name];
    const set = element("fieldset", undefined, { "data-name": name, "data-in": param.in, title });
    if (spelt) set.dataset.spelt = state.dialect;
    set.append(element("span", name));
    for (const value of spelt ? spelt(state.docs[state.api], state.dialect) : items.enum) {
      const label = element("label");
      label.append(element("input", undefined, { type: "checkbox", value }), value);
      set.append(label);
    }
    return set;
  }
  const label = element("label", name, { title });
  let input;
  if (schema.enum) {
    input = element("select");
    input.append(element("option", `(default${schema.default ? ": " + schema.default : ""})`, { value: "" }));
    for (const value of schema.enum) input.append(element("option", value, { value }));
  } else if (schema.type === "boolean") {
    input = element("input", undefined, { type: "checkbox" });
  } else if (schema.type === "integer") {
    input = element("input", undefined, { type: "number", min: schema.minimum, max: schema.maximum });
    input.placeholder = schema.default ?? "";
    if (name === size) input.value = PAGE_SIZE;
  } else {
    input = element("input", undefined, { type: "text", size: schema.format === "date-time" ? 20 : 12 });
    if (schema.format === "date-time") input.placeholder = "2026-01-01T00:00:00Z";
  }
  input.dataset.name = name;
  input.dataset.in = param.in;
  label.append(input);
  return label;
}

// The filters as query pairs and headers, each as the API's document spells it.
function filterValues() {
  const query = [];
  const headers = {};
  const put = (where, name, value) => (where === "header" ? (headers[name] = value) : query.push([name, value]));
  for (const set of $("filters").querySelectorAll("fieldset")) {
    for (const box of set.querySelectorAll("input:checked")) put(set.dataset.in, set.dataset.name, box.value);
  }
  for (const input of $("filters").querySelectorAll("label > input, label > select")) {
    if (!input.dataset.name) continue;
    const value = input.type === "checkbox" ? (input.checked ? "true" : "") : input.value.trim();
    if (value) put(input.dataset.in, input.dataset.name, value);
  }
  return { query, headers };
}

function restartInvoices() {
  Object.assign(state.invoices, { cursors: [null], index: 0, next: null, page: 0, pages: 0 });
}

async function loadInvoices() {
  const customer = state.customer;
  if (!customer) return;
  const api = APIS[state.api];
  const page = state.invoices;
  const { query, headers } = filterValues();
  let answer;
  if (state.api === "metronome") {
    if (page.cursors[page.index]) query.push(["next_page", page.cursors[page.index]]);
    answer = await call(api.path.replace("{customer_id}", customer.id), { query, headers, panel: "invoices-panel" });
    page.next = answer.next_page;
    $("invoices-page").textContent = `page ${page.index + 1}`;
    $("invoices-prev").disabled = page.index === 0;
    $("invoices-next").disabled = !page.next;
  } else {
    query.push(["customer_id", toPublicId("cus_", customer.id)], ["page", String(page.page)]);
    answer = await call(api.path, { query, headers, panel: "invoices-panel" });
    const meta = answer.pagination_meta;
    page.pages = meta.total_pages;
    $("invoices-page").textContent = `page ${meta.page + 1} of ${Math.max(meta.total_pages, 1)} · ${meta.total_items} invoices`;
    $("invoices-prev").disabled = page.page === 0;
    $("invoices-next").disabled = page.page + 1 >= meta.total_pages;
  }
  const table = $("invoices");
  const head = element("tr");
  for (const column of api.columns) head.append(element("th", column));
  table.tHead.replaceChildren(head);
  const body = table.tBodies[0];
  body.replaceChildren();
  for (const invoice of answer.data) {
    const uuid = api.uuid(invoice);
    const row = element("tr", undefined, { "data-id": uuid });
    api.row(invoice).forEach((cell, i) => row.append(element("td", cell, i >= 4 ? { class: "num" } : {})));
    row.classList.toggle("picked", uuid === state.invoice);
    row.addEventListener("click", () => guarded(() => showInvoice(uuid)));
    body.append(row);
  }
  if (!answer.data.length) body.append(emptyRow("no invoices on this page", api.columns.length));
  return answer.data.length;
}

// A page of invoices the user asked for, and a word on what it holds; a refresh after a change
// loads the page silently, so the status line keeps saying what the change did.
async function showInvoices() {
  const count = await loadInvoices();
  if (count === undefined) return;
  say(`${count} invoices of ${state.customer.name} through the ${state.api === "metronome" ? "Metronome" : "Meteroid"}-style API`);
}

async function turnInvoices(step) {
  const page = state.invoices;
  if (state.api === "metronome") {
    if (step > 0) page.cursors[page.index + 1] = page.next;
    page.index += step;
  } else {
    page.page += step;
  }
  await showInvoices();
}

// One invoice in both shapes: Meteroid's API takes the invoice's UUID as well as its `inv_` id.
async function showInvoice(uuid) {
  state.invoice = uuid;
  for (const row of $("invoices").tBodies[0].rows) row.classList.toggle("picked", row.dataset.id === uuid);
  const { headers } = filterValues();
  const [metronome, meteroid] = await Promise.all([
    call(`/v1/customers/${state.customer.id}/invoices/${uuid}`, { panel: "invoice-panel" }),
    call(`/api/v1/invoices/${uuid}`, { headers, panel: "invoice-panel" }),
  ]);
  $("invoice-id").textContent = `${uuid} · ${meteroid.invoice_number}`;
  $("invoice-metronome").textContent = JSON.stringify(metronome.data, null, 2);
  $("invoice-meteroid").textContent = JSON.stringify(meteroid, null, 2);
}

function pickApi(api) {
  state.api = api;
  for (const tab of document.querySelectorAll(".tabs button")) tab.setAttribute("aria-selected", String(tab.dataset.api === api));
  buildFilters();
  restartInvoices();
}

// --- changing the world ------------------------------------------------------------------------

async function advanceClock() {
  const moved = await call("/_mock/clock", { method: "POST", body: { advance: $("advance").value.trim() } });
  const did = Object.entries(moved.changed).map(([what, n]) => `${what} ${n}`).join(", ");
  await refresh();
  say(`Clock moved from ${moved.previous} to ${moved.now}: ${did}`);
}

// One usage event for the customer picked, through the Metronome-style API; without a timestamp
// it is ingested at the world's clock, so it lands on the draft open now (if a metric counts it).
async function ingestEvent() {
  const customer = state.customer;
  const type = $("ingest-type").value.trim();
  const id = `inspector-${Date.now()}-${++state.ingested}`;
  const event = { transaction_id: id, customer_id: customer.id, event_type: type };
  const user = $("ingest-user").value.trim();
  if (user) event.properties = { user_id: user };
  await call("/v1/ingest", { method: "POST", body: [event] });
  await refresh();
  if (state.invoice) await showInvoice(state.invoice);
  say(`Ingested one ${type} event for ${customer.name} (transaction_id ${id})`);
}

async function resetWorld() {
  const reset = await call("/_mock/reset", { method: "POST" });
  restartInvoices();
  await refresh();
  say(`World reset to the fixture's; clock ${reset.now}`);
}

// What depends on the world, again: its summary, the log, the pages shown.
async function refresh() {
  await loadWorld();
  await Promise.all([loadChanges(), loadJournal(), loadDeliveries(), loadCustomers(), loadInvoices()]);
}

// Every few seconds: the world again if it changed, and the requests the APIs answered since.
async function poll() {
  try {
    const now = await call("/_mock/clock", { quiet: true });
    if (now.seq !== state.seq && !state.busy) await refresh();
    else if (!state.busy) await Promise.all([loadJournal(), loadDeliveries()]);
  } catch (error) {
    if (!(error instanceof Refused)) say(`The server is not answering (${error.message})`, true);
  } finally {
    setTimeout(poll, POLL_MS);
  }
}

async function start() {
  const token = $("token");
  token.value = localStorage.getItem(TOKEN_KEY) || DEFAULT_TOKEN;
  token.addEventListener("change", () => {
    localStorage.setItem(TOKEN_KEY, token.value.trim());
    guarded(refresh);
  });
  const names = ["metronome", "meteroid", "control"];
  const docs = await Promise.all(names.map((name) => call(`/_mock/openapi/${name}.json`)));
  names.forEach((name, i) => (state.docs[name] = docs[i]));

  $("archived").addEventListener("change", () => {
    Object.assign(state.customers, { cursors: [null], index: 0 });
    guarded(loadCustomers);
  });
  $("customers-prev").addEventListener("click", () => guarded(() => turnCustomers(-1)));
  $("customers-next").addEventListener("click", () => guarded(() => turnCustomers(1)));
  $("invoices-prev").addEventListener("click", () => guarded(() => turnInvoices(-1)));
  $("invoices-next").addEventListener("click", () => guarded(() => turnInvoices(1)));
  for (const tab of document.querySelectorAll(".tabs button")) {
    tab.addEventListener("click", () => {
      pickApi(tab.dataset.api);
      guarded(showInvoices);
    });
  }
  $("filters").addEventListener("change", (event) => {
    if (event.target.dataset.name === DIALECT) respell(event.target.value);
    restartInvoices();
    guarded(showInvoices);
  });
  $("filters").addEventListener("submit", (event) => event.preventDefault());
  $("advance-button").addEventListener("click", () => guarded(advanceClock));
  $("ingest-button").addEventListener("click", () => guarded(ingestEvent));
  $("ingest").addEventListener("submit", (event) => event.preventDefault());
  $("reset-button").addEventListener("click", () => guarded(resetWorld));
  $("controls").addEventListener("submit", (event) => event.preventDefault());
  $("journal-own").addEventListener("change", () => guarded(loadJournal));

  pickApi(state.api);
  await guarded(refresh);
  say("Pick a customer to see its invoices.");
  setTimeout(poll, POLL_MS);
}

start();
