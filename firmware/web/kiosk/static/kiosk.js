// kiosk.js: the ticket machine. It calls the kiosk service's endpoints
// under ./api/ (docs/kiosk.md) and never holds personal data beyond the
// masked name it is given.
"use strict";
(() => {
  const {el, replace, maskName, waitText} = hallgw;
  const $ = (id) => document.getElementById(id);
  const body = document.body;
  const returnMs = Number(body.dataset.returnMs) || 15000;
  const pollMs = Number(body.dataset.pollMs) || 5000;
  let services = [];
  let canPrint = true;
  let timer = null;     // auto-return
  let countdown = null;
  let busy = false;

  const titles = {
    daily_cap_reached: "今日号源已取完",
    printer_unavailable: "取号机暂停服务",
    no_open_window: "该业务暂停办理",
    appointment_early: "未到签到时间",
    appointment_late: "预约签到已过时",
    unknown_appointment: "未找到预约",
    no_card: "未读到身份证",
  };
  const fallback = "暂时无法取号，请到咨询台咨询";

  function show(name, returnAfter) {
    for (const s of document.querySelectorAll(".screen")) s.hidden = s.id !== name;
    body.dataset.screen = name;
    clearTimeout(timer);
    clearInterval(countdown);
    for (const c of document.querySelectorAll(".countdown")) c.textContent = "";
    if (returnAfter) {
      const end = Date.now() + returnAfter;
      const cd = document.querySelector(`#${name} .countdown`);
      const tickDown = () => { if (cd) cd.textContent = Math.max(0, Math.ceil((end - Date.now()) / 1000)); };
      tickDown();
      countdown = setInterval(tickDown, 250);
      timer = setTimeout(home, returnAfter);
    }
  }

  function home() {
    show("start", 0);
    load();
  }

  function setBusy(on) {
    busy = on;
    $("busy").hidden = !on;
  }

  async function call(method, path, payload) {
    const opts = {method, headers: {"Accept": "application/json"}};
    if (payload !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(payload);
    }
    const resp = await fetch(path, opts);
    let doc = {};
    try { doc = await resp.json(); } catch (e) { doc = {}; }
    return {status: resp.status, doc};
  }

  function serviceButton(s, onTap) {
    let note = [el("span", {}, `等候 ${s.waiting} 人`), " · ", el("span", {}, waitText(s.estimate))];
    let off = !canPrint;
    if (!s.open) { note = "暂停办理"; off = true; }
    else if (s.cap_left === 0) { note = "今日号已取完"; off = true; }
    return el("button", {class: "svc", type: "button", disabled: off, dataset: {service: s.id},
                         onclick: () => onTap(s)},
      el("span", {class: "p"}, s.prefix),
      el("span", {class: "n"}, s.name),
      el("span", {class: "d"}, note));
  }

  let shown = "";
  function render() {
    // Re-render only on a change: a button must not vanish under a finger.
    const key = JSON.stringify([services, canPrint]);
    if (key === shown) return;
    shown = key;
    replace($("services"), services.map((s) => serviceButton(s, takeTicket)));
    replace($("card-services"), services.map((s) => serviceButton(s, takeTicket)));
    $("card-btn").disabled = !canPrint;
  }

  function setPrinter(p) {
    canPrint = !p || p.can_print !== false;
    const banner = $("printer");
    banner.hidden = canPrint;
    banner.textContent = canPrint ? "" : (p.message || "取号机暂停服务，请到咨询台取号");
    body.dataset.canPrint = canPrint ? "1" : "0";
  }

  async function load() {
    try {
      const {status, doc} = await call("GET", "api/services");
      if (status !== 200) throw new Error(`status ${status}`);
      services = doc.services || [];
      setPrinter(doc.printer);
      $("card-btn").hidden = !doc.card_reader;
      body.dataset.loaded = "1";
    } catch (e) {
      setPrinter({can_print: false, message: "取号机暂时无法连接，请稍候或到咨询台取号"});
    }
    render();
  }

  function showTicket(t) {
    $("t-number").textContent = t.number;
    $("t-service").textContent = t.service_name || "";
    $("t-ahead").textContent = t.ahead ?? 0;
    $("t-wait").textContent = waitText(t.estimate);
    const ws = t.windows || [];
    $("t-windows").textContent = ws.length ? ws.map((w) => `${w}号`).join("、") + "窗口" : "请留意叫号屏";
    $("t-printed").textContent = t.printed ? "请取走小票，留意叫号" : "小票未能打印，请记住您的号码";
    show("ticket", returnMs);
  }

  function refuse(code, message) {
    $("r-title").textContent = titles[code] || "无法取号";
    $("r-message").textContent = message || fallback;
    body.dataset.refusal = code || "error";
    show("refusal", returnMs);
  }

  // answer shows the result of a ticket or check-in request.
  function answer(r) {
    if (r.status === 201 || r.status === 200) showTicket(r.doc);
    else refuse(r.doc.code, r.doc.error);
  }

  async function guarded(fn) {
    if (busy) return;
    setBusy(true);
    try { await fn(); }
    catch (e) { refuse("", fallback); }
    finally { setBusy(false); }
  }

  function takeTicket(s) {
    guarded(async () => answer(await call("POST", "api/tickets", {service: s.id})));
  }

  function checkIn(a) {
    guarded(async () => answer(await call("POST", "api/checkin", {appointment: a.id})));
  }

  function hhmm(s) {
    const d = new Date(s);
    return isNaN(d) ? "" : hallgw.clock(d);
  }

  async function swipe() {
    if (busy || !canPrint) return;
    show("swipe", 0);
    let r;
    try { r = await call("POST", "api/card"); }
    catch (e) { refuse("", fallback); return; }
    if (body.dataset.screen !== "swipe") return; // the citizen went back
    if (r.status === 408) { refuse("no_card", "请将身份证平放在读卡区后重试"); return; }
    if (r.status !== 200) { refuse(r.doc.code, r.doc.error); return; }
    const c = r.doc;
    $("greeting").textContent = `您好，${maskName(c.masked_name)}`;
    $("green").hidden = !c.green;
    const appts = c.appointments || [];
    $("appointments-box").hidden = appts.length === 0;
    replace($("appointments"), appts.map((a) => {
      const svc = services.find((s) => s.id === a.service);
      return el("button", {class: "appt", type: "button", dataset: {appointment: a.id}, onclick: () => checkIn(a)},
        el("span", {}, `${svc ? svc.name : a.service}  ${hhmm(a.start)}-${hhmm(a.end)}`),
        el("span", {}, "签到"));
    }));
    show("card", 2 * returnMs);
  }

  for (const b of document.querySelectorAll("[data-back]")) b.addEventListener("click", home);
  $("card-btn").addEventListener("click", swipe);
  addEventListener("contextmenu", (e) => e.preventDefault());
  setInterval(() => { if (body.dataset.screen === "start" && !busy) load(); }, pollMs);
  setInterval(() => { $("clock").textContent = hallgw.clock(new Date()); }, 1000);
  $("clock").textContent = hallgw.clock(new Date());
  home();
})();
