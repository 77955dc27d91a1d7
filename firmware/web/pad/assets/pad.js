// The tablet evaluation pad: see docs/ratings.md for the WebSocket messages.
(function () {
  'use strict';
  var $ = function (id) { return document.getElementById(id); };
  var st = null;          // the last state message
  var prompt = null;      // the open request: {id, number, service_name, total, deadline}
  var chosen = 0;         // a 差评 grade waiting for its reasons
  var busy = false;       // a rating was sent, its result is awaited
  var thanksTimer = 0, messageTimer = 0;
  var ws = null, backoff = 1000;

  function socketURL() {
    var u = new URL('ws', location.href);
    u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
    var token = new URLSearchParams(location.search).get('token');
    u.search = token ? '?token=' + encodeURIComponent(token) : '';
    return u.href;
  }

  function connect() {
    ws = new WebSocket(socketURL());
    ws.onopen = function () {
      backoff = 1000;
      document.body.dataset.connected = '1';
      $('conn').textContent = '';
    };
    ws.onmessage = function (ev) { handle(JSON.parse(ev.data)); };
    ws.onclose = function () {
      document.body.dataset.connected = '0';
      $('conn').textContent = '连接中…';
      busy = false;
      setTimeout(connect, backoff);
      backoff = Math.min(backoff * 2, 10000);
    };
  }

  function handle(m) {
    switch (m.type) {
      case 'state':
        var first = st === null;
        st = m;
        if (first) { build(); }
        if (m.pending) { ask(m.pending); } else { prompt = null; chosen = 0; }
        break;
      case 'request':
        ask(m.rating);
        break;
      case 'closed':
        if (prompt && prompt.id === m.rating) {
          prompt = null; chosen = 0; busy = false;
          if (m.outcome === 'given') { thank(); }
        }
        break;
      case 'result':
        busy = false;
        if (m.ok) {
          if (prompt && prompt.id === m.rating) { prompt = null; chosen = 0; }
          thank();
        } else {
          say(m.error);
          if (m.code === 'rating_closed' || m.code === 'no_rating') { prompt = null; chosen = 0; }
        }
        break;
    }
    render();
  }

  function ask(r) {
    if (prompt && prompt.id === r.id) { return; }
    prompt = { id: r.id, number: r.number, service: r.service_name, total: Math.max(r.remaining_ms, 1),
      deadline: Date.now() + r.remaining_ms };
    chosen = 0;
    stopThanks();
  }

  function thank() {
    stopThanks();
    thanksTimer = setTimeout(function () { thanksTimer = 0; render(); }, st ? st.thanks_ms : 5000);
  }

  function stopThanks() {
    if (thanksTimer) { clearTimeout(thanksTimer); thanksTimer = 0; }
  }

  function say(text) {
    var el = $('message');
    el.textContent = text;
    el.hidden = false;
    clearTimeout(messageTimer);
    messageTimer = setTimeout(function () { el.hidden = true; }, 4000);
  }

  // build makes the grade buttons and reason boxes once.
  function build() {
    var g = $('grades');
    st.grades.forEach(function (x) {
      var b = document.createElement('button');
      b.type = 'button';
      b.className = 'grade';
      b.dataset.grade = x.grade;
      b.textContent = x.label;
      b.addEventListener('click', function () { grade(x); });
      g.appendChild(b);
    });
    buildReasons();
    $('back').addEventListener('click', function () { chosen = 0; render(); });
    $('submit-reasons').addEventListener('click', function () {
      var codes = [];
      document.querySelectorAll('#reasons input:checked').forEach(function (i) { codes.push(i.value); });
      if (codes.length > 0) { send(chosen, codes); }
    });
  }

  function buildReasons() {
    var box = $('reasons');
    box.textContent = '';
    st.reasons.forEach(function (r) {
      var l = document.createElement('label');
      l.className = 'reason';
      var i = document.createElement('input');
      i.type = 'checkbox';
      i.value = r.code;
      i.addEventListener('change', render);
      var s = document.createElement('span');
      s.textContent = r.label;
      l.appendChild(i);
      l.appendChild(s);
      box.appendChild(l);
    });
  }

  function grade(x) {
    if (!prompt || busy) { return; }
    if (x.bad) {
      chosen = x.grade;
      document.querySelectorAll('#reasons input').forEach(function (i) { i.checked = false; });
      render();
      return;
    }
    send(x.grade, []);
  }

  function send(g, reasons) {
    if (!prompt || !ws || ws.readyState !== WebSocket.OPEN) { say('网络未连接，请稍后再试'); return; }
    busy = true;
    ws.send(JSON.stringify({ type: 'rate', rating: prompt.id, grade: g, reasons: reasons }));
    render();
  }

  function render() {
    if (!st) { return; }
    var w = st.window;
    $('window-name').textContent = (w.number ? w.number + ' 号窗口' : '') + (w.name ? ' ' + w.name : '');
    var s = st.staff;
    $('staff-name').textContent = s ? s.name || s.id : '';
    $('staff-number').textContent = s ? '工号 ' + s.number : '';
    var img = $('staff-photo');
    if (s && s.photo) {
      if (img.getAttribute('src') !== s.photo) { img.setAttribute('src', s.photo); }
      img.hidden = false;
    } else {
      img.hidden = true;
    }
    var ws_ = $('window-status');
    ws_.dataset.state = w.state;
    ws_.textContent = w.state === 'open' ? '正在为您服务'
      : w.state === 'paused' ? '暂停服务' + (w.pause_reason ? '（' + w.pause_reason + '）' : '')
      : '本窗口暂未开放';
    $('hint').hidden = w.state !== 'open' || !st.ratings;
    var showThanks = thanksTimer !== 0 && !prompt;
    $('thanks').hidden = !showThanks;
    $('prompt').hidden = showThanks || !prompt;
    $('idle').hidden = showThanks || !!prompt;
    if (prompt) {
      $('prompt-ticket').textContent = prompt.number + '　' + prompt.service;
      $('grades').hidden = chosen !== 0;
      $('reasons-box').hidden = chosen === 0;
      document.querySelectorAll('button.grade').forEach(function (b) { b.disabled = busy; });
      var any = document.querySelector('#reasons input:checked') !== null;
      $('submit-reasons').disabled = busy || !any;
    }
  }

  // The countdown: a request not rated in time returns to the staff card
  // (the hall closes it as not rated).
  setInterval(function () {
    if (!prompt) { return; }
    var left = prompt.deadline - Date.now();
    $('countdown-bar').style.width = Math.max(0, 100 * left / prompt.total) + '%';
    if (left <= 0) { prompt = null; chosen = 0; busy = false; render(); }
  }, 250);

  connect();
})();
