// The scorecard view of compare_sessions: an MCP App (io.modelcontextprotocol/ui).
// It speaks JSON-RPC over postMessage with its host only: ui/initialize, then the tool's input and
// result as notifications; get_transcript through the host's tools/call; follow-ups through
// ui/message. Every string from the scoreboard is set with textContent, never parsed as HTML.
"use strict";
(function () {
  const PROTOCOL_VERSION = "2026-01-26";
  const host = window.parent;
  const pending = new Map();
  let nextId = 1;
  let hostCapabilities = {};
  let hostContext = {};
  let board = null;
  let sortKey = "overall"; // "overall", "name" or a criterion's index as "c0", "c1", ...
  let sortDescending = true;
  let openSessionId = null;
  const transcripts = new Map(); // sessionId -> the get_transcript result (a CallToolResult)

  const $ = (id) => document.getElementById(id);

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  // ------------------------------------------------------------ the bridge

  function send(message) {
    host.postMessage({ jsonrpc: "2.0", ...message }, "*");
  }

  function request(method, params) {
    const id = nextId++;
    send({ id, method, params });
    return new Promise((resolve, reject) => pending.set(id, { resolve, reject }));
  }

  function notify(method, params) {
    send({ method, params });
  }

  window.addEventListener("message", (event) => {
    if (event.source !== host) return; // only the host speaks to the app
    const message = event.data;
    if (!message || message.jsonrpc !== "2.0") return;
    if (message.method === undefined && pending.has(message.id)) {
      const waiter = pending.get(message.id);
      pending.delete(message.id);
      if (message.error) waiter.reject(new Error(String(message.error.message || "request failed")));
      else waiter.resolve(message.result || {});
      return;
    }
    if (message.id !== undefined && message.method) {
      answerHost(message);
      return;
    }
    if (message.method) onNotification(message.method, message.params || {});
  });

  function answerHost(message) {
    if (message.method === "ui/resource-teardown" || message.method === "ping") {
      send({ id: message.id, result: {} });
    } else {
      send({ id: message.id, error: { code: -32601, message: "Method not found: " + message.method } });
    }
  }

  function onNotification(method, params) {
    if (method === "ui/notifications/tool-result") showResult(params);
    else if (method === "ui/notifications/host-context-changed") applyHostContext(params);
    else if (method === "ui/notifications/tool-cancelled") say("The scoreboard was cancelled" + (params.reason ? ": " + params.reason : "."));
  }

  function applyHostContext(changed) {
    hostContext = { ...hostContext, ...changed };
    const root = document.documentElement;
    if (hostContext.theme === "light" || hostContext.theme === "dark") root.dataset.theme = hostContext.theme;
    else delete root.dataset.theme; // prefers-color-scheme decides
    const variables = (hostContext.styles && hostContext.styles.variables) || {};
    for (const [name, value] of Object.entries(variables)) {
      if (name.startsWith("--") && typeof value === "string") root.style.setProperty(name, value);
    }
  }

  let lastSize = "";
  function reportSize() {
    const size = { width: Math.ceil(document.documentElement.scrollWidth), height: Math.ceil(document.documentElement.scrollHeight) };
    const key = size.width + "x" + size.height;
    if (key !== lastSize) {
      lastSize = key;
      notify("ui/notifications/size-changed", size);
    }
  }

  async function connect() {
    const result = await request("ui/initialize", {
      protocolVersion: PROTOCOL_VERSION,
      appInfo: { name: "aural-scorecard", version: "1.0.0" },
      appCapabilities: { availableDisplayModes: ["inline"] },
    });
    hostCapabilities = result.hostCapabilities || {};
    applyHostContext(result.hostContext || {});
    notify("ui/notifications/initialized", {});
    new ResizeObserver(() => requestAnimationFrame(reportSize)).observe(document.body);
  }

  function say(text) {
    $("status").textContent = text;
  }

  // ------------------------------------------------------------ the board

  function showResult(result) {
    const data = result && result.structuredContent;
    if ((result && result.isError) || !data || !Array.isArray(data.sessions)) {
      const text = result && Array.isArray(result.content) ? result.content.filter((c) => c.type === "text").map((c) => c.text).join("\n") : "";
      say(text || "The scoreboard could not be shown.");
      return;
    }
    board = data;
    say("");
    const count = data.sessions.length;
    $("title").textContent = "Scorecard: " + count + (count === 1 ? " candidate" : " candidates");
    $("summary").textContent = "Interview " + data.interviewId + " · status " + data.status +
      (data.separable ? "" : " · some candidates tie on the overall score");
    renderHead();
    renderRows();
    renderFollowUp();
  }

  function criteriaNames() {
    const names = [];
    for (const row of board.sessions) {
      for (const c of row.criteria || []) if (!names.includes(c.name)) names.push(c.name);
    }
    return names;
  }

  function candidateName(row) {
    return row.candidateName || row.candidateEmail || "Anonymous candidate";
  }

  function criterionScore(row, name) {
    const found = (row.criteria || []).find((c) => c.name === name);
    return found && typeof found.score === "number" ? found.score : null;
  }

  function sortValue(row) {
    if (sortKey === "name") return candidateName(row).toLowerCase();
    if (sortKey === "overall") return typeof row.overallScore === "number" ? row.overallScore : null;
    return criterionScore(row, criteriaNames()[Number(sortKey.slice(1))]);
  }

  function sortedRows() {
    const rows = board.sessions.slice();
    rows.sort((a, b) => {
      const x = sortValue(a), y = sortValue(b);
      if (x === null || y === null) return x === null ? (y === null ? 0 : 1) : -1; // no score: last
      const order = x < y ? -1 : x > y ? 1 : 0;
      return sortDescending ? -order : order;
    });
    return rows;
  }

  function columns() {
    return [
      { key: "rank", label: "Rank" },
      { key: "name", label: "Candidate", sortable: true },
      { key: "overall", label: "Overall", sortable: true },
      ...criteriaNames().map((name, i) => ({ key: "c" + i, label: name, sortable: true })),
      { key: "flags", label: "Flags" },
    ];
  }

  function renderHead() {
    const head = $("head-row");
    head.replaceChildren();
    for (const col of columns()) {
      const th = el("th");
      th.scope = "col";
      if (!col.sortable) {
        th.textContent = col.label;
      } else {
        const button = el("button", null, col.label);
        if (col.key === sortKey) {
          th.setAttribute("aria-sort", sortDescending ? "descending" : "ascending");
          const arrow = el("span", "arrow", sortDescending ? "\u25BC" : "\u25B2");
          arrow.setAttribute("aria-hidden", "true"); // aria-sort says it to assistive technology
          button.append(arrow);
        }
        button.type = "button";
        button.dataset.sort = col.key;
        button.addEventListener("click", () => {
          if (sortKey === col.key) sortDescending = !sortDescending;
          else { sortKey = col.key; sortDescending = col.key !== "name"; }
          renderHead();
          renderRows();
          $("head-row").querySelector('button[data-sort="' + col.key + '"]').focus();
          syncCriterionPick();
        });
        th.append(button);
      }
      head.append(th);
    }
  }

  function scoreCell(score, overall) {
    const td = el("td");
    const wrap = el("div", "score");
    const value = el("span", "value", typeof score === "number" ? score : "—");
    const bar = el("span", overall ? "bar overall" : "bar");
    bar.setAttribute("aria-hidden", "true"); // the number beside it says the same
    const fill = el("span", "fill");
    fill.style.width = (typeof score === "number" ? Math.max(0, Math.min(10, score)) * 10 : 0) + "%";
    bar.append(fill);
    wrap.append(value, bar);
    td.append(wrap);
    return td;
  }

  function renderRows() {
    const body = $("rows");
    body.replaceChildren();
    const names = criteriaNames();
    for (const row of sortedRows()) {
      const tr = el("tr", "candidate");
      tr.dataset.sessionId = row.sessionId;
      tr.append(el("td", "rank", row.rank === null || row.rank === undefined ? "—" : "#" + row.rank));
      const who = el("td");
      const button = el("button", "who", candidateName(row));
      button.type = "button";
      button.setAttribute("aria-expanded", String(openSessionId === row.sessionId));
      button.setAttribute("aria-controls", "detail-" + row.sessionId);
      button.addEventListener("click", (event) => { event.stopPropagation(); toggle(row); });
      who.append(button);
      tr.append(who);
      tr.append(scoreCell(row.overallScore, true));
      for (const name of names) tr.append(scoreCell(criterionScore(row, name), false));
      const flags = el("td");
      for (const flag of row.flags || []) flags.append(el("span", "badge", flag));
      tr.append(flags);
      tr.addEventListener("click", () => toggle(row));
      if (openSessionId === row.sessionId) tr.classList.add("open");
      body.append(tr);
      if (openSessionId === row.sessionId) body.append(detailRow(row, names.length + 4));
    }
  }

  function toggle(row) {
    openSessionId = openSessionId === row.sessionId ? null : row.sessionId;
    renderRows();
    const button = $("rows").querySelector('tr[data-session-id="' + row.sessionId + '"] .who');
    if (button) button.focus();
    if (openSessionId && !transcripts.has(row.sessionId)) loadTranscript(row);
  }

  function detailRow(row, span) {
    const tr = el("tr", "detail");
    const td = el("td");
    td.colSpan = span;
    td.id = "detail-" + row.sessionId;
    const body = el("div", "detail-body");
    const title = el("h2", null, "Evidence for " + candidateName(row));
    body.append(title, el("p", "muted mono", "session " + row.sessionId + (row.status ? " · " + row.status : "")));
    if (row.error) body.append(el("p", "status", row.error));
    const reasons = (row.criteria || []).filter((c) => c.reason);
    if (reasons.length) {
      body.append(el("h3", null, "Why these scores"));
      const list = el("ul", "reasons");
      for (const c of reasons) list.append(el("li", null, c.name + ": " + c.reason));
      body.append(list);
    }
    body.append(el("h3", null, "Transcript (compact)"));
    const transcript = el("div", "transcript");
    transcript.setAttribute("aria-live", "polite");
    fillTranscript(transcript, row);
    body.append(transcript);
    td.append(body);
    tr.append(td);
    return tr;
  }

  function questionTexts() {
    const texts = new Map();
    for (const row of board.sessions) {
      for (const q of row.questions || []) if (q.questionId && q.question && !texts.has(q.questionId)) texts.set(q.questionId, q.question);
    }
    return texts;
  }

  function fillTranscript(node, row) {
    node.replaceChildren();
    if (!hostCapabilities.serverTools) {
      node.append(el("p", "muted", "This host does not pass tool calls from apps: ask for get_transcript with session " + row.sessionId + "."));
      return;
    }
    const result = transcripts.get(row.sessionId);
    if (!result) {
      node.append(el("p", "muted", "Loading the transcript…"));
      return;
    }
    const data = result.structuredContent;
    if (result.isError || !data || !Array.isArray(data.messages)) {
      const text = Array.isArray(result.content) ? result.content.filter((c) => c.type === "text").map((c) => c.text).join("\n") : "";
      node.append(el("p", "status", text || "The transcript could not be read."));
      return;
    }
    if (!data.messages.length) node.append(el("p", "muted", "No messages yet."));
    const texts = questionTexts();
    let question = null;
    for (const m of data.messages) {
      if (m.questionId && m.questionId !== question) {
        question = m.questionId;
        node.append(el("h3", null, texts.get(question) || "Question " + question));
      }
      const isCandidate = m.role === "USER";
      const box = el("div", isCandidate ? "message candidate" : "message interviewer");
      box.append(el("span", "speaker", isCandidate ? "Candidate's words" : "Interviewer"));
      box.append(el("p", null, m.content));
      node.append(box);
    }
    if (data.messagesCut) node.append(el("p", "muted", data.messagesCut + " later messages left out for size."));
  }

  async function loadTranscript(row) {
    if (!hostCapabilities.serverTools) return;
    let result;
    try {
      result = await request("tools/call", { name: "get_transcript", arguments: { sessionId: row.sessionId, format: "compact" } });
    } catch (error) {
      result = { isError: true, content: [{ type: "text", text: "The transcript could not be read: " + error.message }] };
    }
    transcripts.set(row.sessionId, result);
    const node = document.querySelector("#detail-" + CSS.escape(row.sessionId) + " .transcript");
    if (node) fillTranscript(node, row);
  }

  // ------------------------------------------------------------ follow-ups through the host

  function renderFollowUp() {
    const section = $("followup");
    // Only where the host says it takes messages from apps (hostCapabilities.message).
    section.hidden = !hostCapabilities.message || board.sessions.length < 2;
    if (section.hidden) return;
    const rows = sortedRows();
    for (const [id, pick] of [["pick-a", 0], ["pick-b", 1]]) {
      const select = $(id);
      select.replaceChildren();
      rows.forEach((row, i) => {
        const option = el("option", null, candidateName(row));
        option.value = row.sessionId;
        if (i === pick) option.selected = true;
        select.append(option);
      });
    }
    const criterion = $("pick-criterion");
    criterion.replaceChildren();
    for (const [value, label] of [["overall", "Overall score"], ...criteriaNames().map((n, i) => ["c" + i, n])]) {
      const option = el("option", null, label);
      option.value = value;
      criterion.append(option);
    }
    syncCriterionPick();
  }

  function syncCriterionPick() {
    const criterion = $("pick-criterion");
    if (criterion.querySelector('option[value="' + sortKey + '"]')) criterion.value = sortKey;
  }

  // A candidate's name is their own text: quoted, on one line and short in the message the model reads.
  function quotedName(row) {
    const name = candidateName(row).replace(/\s+/g, " ").slice(0, 40);
    return "\u201c" + name + "\u201d (session " + row.sessionId + ")";
  }

  async function askToCompare() {
    const byId = new Map(board.sessions.map((r) => [r.sessionId, r]));
    const a = byId.get($("pick-a").value), b = byId.get($("pick-b").value);
    if (!a || !b || a === b) {
      say("Choose two different candidates to compare.");
      return;
    }
    const key = $("pick-criterion").value;
    const on = key === "overall" ? "their overall score" : "the criterion " + criteriaNames()[Number(key.slice(1))];
    const text = "Compare " + quotedName(a) + " and " + quotedName(b) + " on " + on +
      " in interview " + board.interviewId + ", citing their answers (get_transcript).";
    try {
      const result = await request("ui/message", { role: "user", content: [{ type: "text", text }] });
      say(result && result.isError ? "The host did not send the message." : "");
    } catch (error) {
      say("The host did not send the message: " + error.message);
    }
  }

  $("ask-compare").addEventListener("click", askToCompare);
  connect().catch((error) => say("Could not connect to the host: " + error.message));
})();
