// hallgw.js: what the gateway's pages share. No dependencies, no network.
"use strict";

const hallgw = (() => {
  // maskName shows a name as the gateway does (drivers/idcard MaskName):
  // the first and last characters stay, the others become '*'; two
  // characters keep the first, one becomes '*'. Masking twice changes
  // nothing, so text that was masked already passes unchanged.
  function maskName(s) {
    const r = Array.from(String(s ?? "").trim());
    switch (r.length) {
      case 0: return "";
      case 1: return "*";
      case 2: return r[0] + "*";
    }
    return r[0] + "*".repeat(r.length - 2) + r[r.length - 1];
  }

  // maskNumber keeps the first four and last four characters of an ID
  // number (drivers/idcard MaskNumber); a shorter one is starred whole.
  function maskNumber(s) {
    const r = Array.from(String(s ?? "").trim());
    if (r.length < 12) return "*".repeat(r.length);
    return r.slice(0, 4).join("") + "*".repeat(r.length - 8) + r.slice(-4).join("");
  }

  // waitText says an estimate as the printed ticket does: the low bound
  // rounded down and the high bound rounded up to whole minutes.
  function waitText(e) {
    if (!e || !e.known) return "暂无法估计";
    const lo = Math.floor((e.lo_s || 0) / 60);
    const hi = Math.ceil((e.hi_s || 0) / 60);
    if (hi <= 1) return "约 1 分钟内";
    if (lo === hi) return `约 ${hi} 分钟`;
    return `约 ${lo}-${hi} 分钟`;
  }

  // el makes an element: el("div", {class: "x"}, "text", child…).
  function el(tag, attrs, ...children) {
    const n = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === false || v === null || v === undefined) continue;
      if (k === "class") n.className = v;
      else if (k === "dataset") Object.assign(n.dataset, v);
      else if (k.startsWith("on")) n.addEventListener(k.slice(2), v);
      else n.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined || c === false) continue;
      n.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return n;
  }

  // replace puts children in place of what node holds.
  function replace(node, ...children) {
    node.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined));
  }

  // clock formats a Date as HH:MM in the page's zone.
  function clock(d) {
    return d.toLocaleTimeString("zh-CN", {hour: "2-digit", minute: "2-digit", hour12: false, timeZone: document.body.dataset.tz || undefined});
  }

  return {maskName, maskNumber, waitText, el, replace, clock};
})();
