// status.js: the test buttons, and a refresh of the page's figures every
// ten seconds without reloading it.
"use strict";
(() => {
  let running = false;

  // result shows a test's outcome; it looks the element up each time,
  // since a refresh replaces it.
  function result(cls, text, outcome) {
    const out = document.getElementById("test-result");
    if (!out) return;
    out.className = cls;
    out.textContent = text;
    if (outcome) out.dataset.outcome = outcome; else delete out.dataset.outcome;
  }

  async function runTest(button) {
    if (running) return;
    running = true;
    for (const b of document.querySelectorAll("[data-test]")) b.disabled = true;
    const label = button.textContent;
    result("result", `${label}：进行中…`, "");
    try {
      const resp = await fetch(`selftest/${encodeURIComponent(button.dataset.test)}`,
        {method: "POST", headers: {"X-Hallgw-Request": "1"}});
      const res = await resp.json().catch(() => ({ok: false, error: `HTTP ${resp.status}`}));
      if (res.ok) result("result ok", `${label}：通过（${res.took}）`, "ok");
      else result("result fail", `${label}：失败 — ${res.error}`, "fail");
    } catch (e) {
      result("result fail", `${label}：失败 — ${e}`, "fail");
    } finally {
      for (const b of document.querySelectorAll("[data-test]")) b.disabled = false;
      running = false;
    }
  }

  document.addEventListener("click", (e) => {
    const b = e.target.closest("[data-test]");
    if (b) runTest(b);
  });

  async function refresh() {
    if (running) return;
    try {
      const resp = await fetch(location.href, {headers: {"X-Hallgw-Request": "1"}, cache: "no-store"});
      if (!resp.ok) return;
      const doc = new DOMParser().parseFromString(await resp.text(), "text/html");
      if (running) return; // a test began meanwhile: keep its buttons
      const cur = document.getElementById("test-result");
      const keep = cur ? [cur.className, cur.textContent, cur.dataset.outcome] : null;
      document.getElementById("live").replaceWith(doc.getElementById("live"));
      document.getElementById("now").textContent = doc.getElementById("now").textContent;
      const again = document.getElementById("test-result");
      if (keep && again) { [again.className, again.textContent] = keep; if (keep[2]) again.dataset.outcome = keep[2]; }
      document.body.dataset.refreshed = String(Number(document.body.dataset.refreshed || 0) + 1);
    } catch (e) { /* the next refresh tries again */ }
  }
  setInterval(refresh, Number(document.body.dataset.refreshMs) || 10000);
})();
