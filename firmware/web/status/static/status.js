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

  function testNames(panel) {
    return Array.from(panel.querySelectorAll("[data-test]"), (b) => b.dataset.test).join("\n");
  }

  async function refresh() {
    if (running) return;
    try {
      const resp = await fetch(location.href, {headers: {"X-Hallgw-Request": "1"}, cache: "no-store"});
      if (!resp.ok) return;
      const doc = new DOMParser().parseFromString(await resp.text(), "text/html");
      if (running) return; // a test began meanwhile: keep its buttons
      const fresh = document.adoptNode(doc.getElementById("live"));
      const cur = document.getElementById("tests");
      const next = fresh.querySelector("#tests");
      if (cur && next && testNames(cur) === testNames(next)) {
        // The same tests: keep the panel itself, so that a press that is
        // half done (button down, not yet up) still lands on its button,
        // and the last result stays as it was.
        next.replaceWith(cur);
      } else {
        const out = document.getElementById("test-result");
        const again = fresh.querySelector("#test-result");
        if (out && again) { again.className = out.className; again.textContent = out.textContent; if (out.dataset.outcome) again.dataset.outcome = out.dataset.outcome; }
      }
      document.getElementById("live").replaceWith(fresh);
      document.getElementById("now").textContent = doc.getElementById("now").textContent;
      document.body.dataset.refreshed = String(Number(document.body.dataset.refreshed || 0) + 1);
    } catch (e) { /* the next refresh tries again */ }
  }
  setInterval(refresh, Number(document.body.dataset.refreshMs) || 10000);
})();
