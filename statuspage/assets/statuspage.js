// The heartbeat status page: fetches status.json beside this script and
// draws it with DOM text nodes only, so no name or error becomes markup.
"use strict";
(function () {
  var source = new URL("status.json", document.currentScript.src);
  var lastOK = null;

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  // state is a check's word on the page: pending until it has run, for
  // every caller (pending is a status, not a detail).
  function state(c) {
    if (c.pending) return "pending";
    if (!c.status) return "fail";
    return c.warning ? "warn" : "pass";
  }

  // rank orders the probes' sections failures first.
  var rank = { fail: 0, pending: 1, pass: 2 };

  function ago(t, now) {
    if (!t) return "never";
    var s = Math.max(0, Math.round((now - Date.parse(t)) / 1000));
    if (s < 60) return s + " s ago";
    if (s < 3600) return Math.floor(s / 60) + " min ago";
    if (s < 86400) return Math.floor(s / 3600) + " h ago";
    return Math.floor(s / 86400) + " d ago";
  }

  function duration(sec) {
    if (sec >= 1) return sec.toFixed(2) + " s";
    return (sec * 1000).toFixed(sec < 0.01 ? 2 : 0) + " ms";
  }

  function fact(list, label, value, title) {
    var li = el("li", "", label + ": " + value);
    if (title) li.title = title;
    list.appendChild(li);
  }

  function drawCheck(probe, c, st, now) {
    var s = state(c);
    var card = el("article", "check s-" + s);
    card.dataset.probe = probe.name;
    card.dataset.check = c.name;
    card.dataset.status = s;
    var head = el("div", "head");
    head.appendChild(el("span", "name", c.name));
    head.appendChild(el("span", "badge s-" + s, s));
    card.appendChild(head);
    if (!st.detailed) return card;
    if (c.error) card.appendChild(el("p", "message error", c.error));
    if (c.warning) card.appendChild(el("p", "message warning", c.warning));
    var facts = el("ul", "facts");
    if (c.outcome) {
      fact(facts, "last run", ago(c.lastRun, now), c.lastRun);
      fact(facts, "took", duration(c.duration || 0));
      fact(facts, "last success", ago(c.lastSuccess, now), c.lastSuccess);
      fact(facts, "since", ago(c.lastTransition, now), c.lastTransition);
    } else {
      fact(facts, "last run", "not yet run by a probe");
    }
    card.appendChild(facts);
    if (c.history && c.history.length) {
      var strip = el("div", "strip");
      strip.setAttribute("role", "img");
      strip.setAttribute("aria-label", "last " + c.history.length + " outcomes, oldest first: " + c.history.join(", "));
      c.history.forEach(function (o) {
        var i = el("i", "o-" + o);
        i.title = o;
        strip.appendChild(i);
      });
      card.appendChild(strip);
    }
    return card;
  }

  function draw(st) {
    var now = Date.parse(st.now);
    var probes = document.getElementById("probes");
    var checks = document.getElementById("checks");
    probes.replaceChildren();
    checks.replaceChildren();
    var failing = 0, warning = 0, pending = 0, total = 0;
    var sections = [];
    st.probes.forEach(function (p) {
      var words = { fail: 0, pending: 0 };
      p.checks.forEach(function (c) { words[state(c)]++; });
      var ps = p.status ? "pass" : words.fail || !words.pending ? "fail" : "pending";
      var card = el("div", "probe " + { pass: "up", fail: "down", pending: "" }[ps]);
      card.dataset.probe = p.name;
      card.dataset.status = ps;
      card.appendChild(el("b", "", p.name));
      card.appendChild(el("span", "", { pass: "passing", fail: "failing", pending: "not run yet" }[ps]));
      card.appendChild(el("span", "muted", p.checks.length + (p.checks.length === 1 ? " check" : " checks")));
      probes.appendChild(card);
      if (!p.checks.length) return;
      var section = el("section");
      section.appendChild(el("h2", "", p.name));
      p.checks.forEach(function (c) {
        var s = state(c);
        total++;
        if (s === "fail") failing++;
        if (s === "warn") warning++;
        if (s === "pending") pending++;
        section.appendChild(drawCheck(p, c, st, now));
      });
      sections.push({ rank: rank[ps], section: section });
    });
    // Failing probes' checks first; sort is stable, so otherwise in order.
    sections.sort(function (a, b) { return a.rank - b.rank; });
    sections.forEach(function (x) { checks.appendChild(x.section); });
    var summary = failing ? failing + " of " + total + " checks failing"
      : pending ? "No check failing" : total ? "All " + total + " checks passing" : "No checks subscribed";
    if (warning) summary += ", " + warning + " warning";
    if (pending) summary += ", " + pending + " not run yet by any probe";
    document.getElementById("summary").textContent = summary;
    document.title = (failing ? "✗ " : warning ? "! " : "✓ ") + "heartbeat status";
    document.getElementById("anonymous").hidden = st.detailed;
  }

  function poll() {
    var wait = 5000;
    fetch(source, { cache: "no-store", credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) {
        if (!r.ok) throw new Error("HTTP " + r.status);
        return r.json();
      })
      .then(function (st) {
        wait = st.refresh * 1000;
        draw(st);
        lastOK = new Date();
        document.getElementById("offline").hidden = true;
        document.getElementById("updated").textContent = "updated " + lastOK.toLocaleTimeString() + " · every " + st.refresh + " s";
      })
      .catch(function (err) {
        var off = document.getElementById("offline");
        off.textContent = "Cannot reach the service (" + err.message + ")" +
          (lastOK ? "; showing the state of " + lastOK.toLocaleTimeString() : "") + ". Retrying.";
        off.hidden = false;
      })
      .then(function () { setTimeout(poll, wait); });
  }
  poll();
})();
