// display.js: the hall display. State, calls and notices arrive over one
// EventSource; the browser resumes it with Last-Event-ID after a cut, and
// the gateway replays what was missed from its journal.
"use strict";
(() => {
  const {el, replace, maskName, waitText} = hallgw;
  const $ = (id) => document.getElementById(id);
  const data = document.body.dataset;
  const maxCalls = Number(data.calls) || 6;
  let calls = []; // newest first
  let day = null;
  let offset = 0; // hall clock − this clock, ms

  function destination(c) {
    return `请到 ${c.window_number} 号窗口`;
  }

  // holder text never reaches the screen unmasked
  function who(c) {
    return c.holder ? el("span", {class: "h"}, " ", maskName(c.holder)) : null;
  }

  function renderCalls(flash) {
    const latest = $("latest");
    if (calls.length === 0) {
      latest.classList.add("empty");
      $("latest-number").textContent = "—";
      $("latest-to").textContent = "等待叫号";
    } else {
      const c = calls[0];
      latest.classList.remove("empty");
      $("latest-number").textContent = c.number;
      replace($("latest-to"), destination(c), who(c));
      if (flash) {
        latest.classList.remove("flash");
        void latest.offsetWidth; // restart the animation
        latest.classList.add("flash");
      }
    }
    replace($("calls"), calls.slice(1).map((c) =>
      el("li", {class: c.recall ? "recall" : "", dataset: {seq: c.seq}},
        el("span", {class: "n num"}, c.number),
        el("span", {class: "to"}, destination(c), who(c)),
        el("span", {class: "t num"}, hallgw.clock(new Date(c.at))))));
    fitHistory();
  }

  // fitHistory hides the rows that the screen cuts: a half row is noise.
  function fitHistory() {
    const list = $("calls");
    const bottom = list.getBoundingClientRect().bottom;
    for (const li of list.children) {
      li.hidden = false;
      if (li.getBoundingClientRect().bottom > bottom + 0.5) li.hidden = true;
    }
  }

  function addCall(c) {
    calls = calls.filter((x) => x.seq !== c.seq);
    calls.unshift(c);
    calls.sort((a, b) => b.seq - a.seq);
    calls = calls.slice(0, maxCalls);
    renderCalls(calls[0].seq === c.seq);
  }

  function layoutWindows(n) {
    const grid = $("windows");
    const cols = Math.max(1, Math.ceil(Math.sqrt(n * 0.9)));
    const rows = Math.max(1, Math.ceil(n / cols));
    grid.style.setProperty("--cols", cols);
    grid.style.setProperty("--unit", `${Math.min(1.6, 4.4 / rows)}vh`);
  }

  function renderWindows(ws) {
    const current = calls.length ? calls[0].window : null;
    layoutWindows(ws.length);
    replace($("windows"), ws.map((w) => {
      let cur = w.current || "—";
      if (w.state === "paused") cur = "暂停服务";
      if (w.state === "closed") cur = "未开放";
      return el("div", {class: `win ${w.state}${w.id === current && w.current ? " called" : ""}`, dataset: {window: w.number}},
        el("div", {class: "head"}, `${w.number}号窗口`),
        el("div", {class: "name"}, w.name),
        el("div", {class: "cur num"}, cur));
    }));
  }

  function renderServices(ss) {
    replace($("services"), ss.map((s) =>
      el("div", {class: "svc", dataset: {service: s.id}},
        el("span", {class: "p"}, s.prefix),
        s.name, " 等候", el("span", {class: "w num"}, s.waiting), "人",
        el("span", {class: "e"}, s.estimate && s.estimate.known ? waitText(s.estimate) : ""))));
  }

  function setNotice(n) {
    const emergency = n.level === "emergency";
    const info = n.level === "info";
    $("emergency").hidden = !emergency;
    $("emergency-text").textContent = emergency ? n.text : "";
    const ticker = $("ticker");
    ticker.hidden = !info;
    $("ticker-text").textContent = info ? n.text : "";
    // A line that fits stands still; a longer one scrolls.
    ticker.classList.toggle("scroll", info && $("ticker-text").offsetWidth > ticker.clientWidth);
  }

  function applyState(s) {
    offset = new Date(s.now).getTime() - Date.now();
    if (s.fresh || (day !== null && s.day !== day)) {
      calls = (s.calls || []).slice().reverse().slice(0, maxCalls);
      renderCalls(false);
    }
    day = s.day;
    renderWindows(s.windows || []);
    renderServices(s.services || []);
    setNotice(s.notice || {level: "clear"});
    fitHistory(); // the footer may have grown
    tick();
  }

  function tick() {
    const now = new Date(Date.now() + offset);
    $("clock").textContent = hallgw.clock(now);
    $("date").textContent = now.toLocaleDateString("zh-CN",
      {month: "long", day: "numeric", weekday: "long", timeZone: data.tz || undefined});
  }

  function connected(ok) {
    $("conn").className = ok ? "dot live" : "dot down";
    document.body.dataset.connected = ok ? "1" : "0";
  }

  // The browser reconnects by itself after a network cut, sending
  // Last-Event-ID. After an HTTP error it gives up: then a new EventSource
  // resumes from the last id through the query.
  let lastId = "";
  function connect() {
    let url = data.events;
    if (lastId) url += (url.includes("?") ? "&" : "?") + "last_event_id=" + encodeURIComponent(lastId);
    const es = new EventSource(url);
    const on = (type, fn) => es.addEventListener(type, (e) => {
      if (e.lastEventId) lastId = e.lastEventId;
      fn(JSON.parse(e.data));
    });
    on("state", applyState);
    on("call", addCall);
    on("notice", setNotice);
    es.onopen = () => connected(true);
    es.onerror = () => {
      connected(false);
      if (es.readyState === EventSource.CLOSED) setTimeout(connect, 5000);
    };
  }
  connect();
  addEventListener("resize", fitHistory);
  setInterval(tick, 1000);
  tick();
})();
