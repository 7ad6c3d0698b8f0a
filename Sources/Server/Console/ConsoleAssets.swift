// ConsoleAssets — the console's stylesheet and script, served by the service itself.
//
// Owns: the CSS and the small script (live job progress, the live degraded banner, the
// rollback confirmation), their
// content-addressed names and their cache headers.
// Never: loads anything from elsewhere (no CDN: the service runs where there is no internet);
// is needed for a page to work (every page reads and acts without JavaScript).
// Invariant: an asset's name carries the SHA-256 prefix of its bytes, so it is cached for a
// year (`immutable`) and a new build's asset is a new name.

import Crypto
import Foundation
import Hex

enum ConsoleAssets {
    struct Asset: Sendable {
        let name: String
        let contentType: String
        let data: Data
        let etag: String
    }

    static let stylesheet = asset("console", "css", "text/css; charset=utf-8", css)
    static let script = asset("console", "js", "text/javascript; charset=utf-8", javascript)
    static let cacheControl = "public, max-age=31536000, immutable"

    static func named(_ name: String) -> Asset? {
        [stylesheet, script].first { $0.name == name }
    }

    private static func asset(_ stem: String, _ ext: String, _ type: String, _ text: String) -> Asset {
        let data = Data(text.utf8)
        let digest = SHA256.hash(data: data).prefix(6).hexEncoded
        return Asset(name: "\(stem)-\(digest).\(ext)", contentType: type, data: data, etag: "\"\(digest)\"")
    }

    static let css = """
    :root { --ink: #1b1f24; --muted: #57606a; --line: #d0d7de; --bg: #ffffff; --panel: #f6f8fa;
            --ok: #1a7f37; --warn: #9a6700; --bad: #cf222e; --accent: #0550ae; }
    * { box-sizing: border-box; }
    body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: var(--bg); }
    a { color: var(--accent); }
    a:focus, button:focus, input:focus, select:focus, summary:focus { outline: 3px solid #0969da; outline-offset: 1px; }
    header.top { display: flex; flex-wrap: wrap; gap: .5rem 1.5rem; align-items: center; padding: .6rem 1rem;
                 background: #24292f; color: #fff; }
    header.top a { color: #fff; text-decoration: none; font-weight: 600; }
    header.top nav { display: flex; gap: 1rem; flex-wrap: wrap; }
    header.top .who { margin-left: auto; display: flex; gap: .6rem; align-items: center; font-size: .9rem; }
    header.top .who button { background: transparent; color: #fff; border: 1px solid #8c959f; }
    main { max-width: 1280px; margin: 0 auto; padding: 1rem; }
    h1 { font-size: 1.5rem; margin: .5rem 0 1rem; }
    h2 { font-size: 1.15rem; margin: 1.6rem 0 .6rem; border-bottom: 1px solid var(--line); padding-bottom: .3rem; }
    .banner { padding: .7rem 1rem; border-left: 6px solid var(--bad); background: #ffebe9; margin: 0; }
    .banner ul { margin: .2rem 0 0; padding-left: 1.2rem; }
    .notice { padding: .6rem 1rem; border-left: 6px solid var(--ok); background: #dafbe1; margin-bottom: 1rem; }
    .error { padding: .6rem 1rem; border-left: 6px solid var(--bad); background: #ffebe9; margin-bottom: 1rem; }
    .table-wrap { overflow-x: auto; }
    table { border-collapse: collapse; width: 100%; font-size: .92rem; }
    th, td { text-align: left; padding: .4rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
    th { background: var(--panel); font-weight: 600; }
    td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
    code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .85em; word-break: break-all; }
    .badge { display: inline-block; padding: .05rem .5rem; border-radius: 1rem; font-size: .8rem; font-weight: 600;
             border: 1px solid currentColor; white-space: nowrap; }
    .mode-serving, .chain-ok, .state-succeeded { color: var(--ok); }
    .mode-rebuilding, .state-running, .state-queued { color: var(--warn); }
    .mode-frozen, .chain-bad, .state-failed, .state-cancelled { color: var(--bad); }
    .sev { font-weight: 700; }
    .age, .muted { color: var(--muted); font-size: .85em; }
    dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; margin: 0 0 1rem; }
    dl.facts dt { font-weight: 600; color: var(--muted); }
    dl.facts dd { margin: 0; }
    form.inline { display: flex; flex-wrap: wrap; gap: .4rem; align-items: end; margin: 0; }
    form.panel { background: var(--panel); border: 1px solid var(--line); padding: .8rem; border-radius: 6px; margin: .6rem 0;
                 display: grid; gap: .5rem; max-width: 40rem; }
    label { font-size: .85rem; font-weight: 600; display: grid; gap: .15rem; }
    textarea { font: inherit; padding: .3rem .45rem; border: 1px solid #8c959f; border-radius: 4px; width: 100%; }
    h3 { font-size: 1rem; margin: 1rem 0 .3rem; }
    input[type=text], input[type=password], input[type=date], select { font: inherit; padding: .3rem .45rem; border: 1px solid #8c959f; border-radius: 4px; min-width: 10rem; }
    button { font: inherit; padding: .3rem .8rem; border-radius: 4px; border: 1px solid #8c959f; background: #f6f8fa; cursor: pointer; }
    button.danger { background: var(--bad); color: #fff; border-color: var(--bad); }
    button.primary { background: #1f883d; color: #fff; border-color: #1a7f37; }
    button:disabled { opacity: .55; cursor: not-allowed; }
    form.panel button { justify-self: start; }
    progress { width: 12rem; height: 1rem; }
    ol.timeline { list-style: none; padding: 0; margin: 0; border-left: 3px solid var(--line); }
    ol.timeline li { margin: 0 0 .9rem; padding-left: .9rem; position: relative; }
    ol.timeline li::before { content: ""; position: absolute; left: -8px; top: .4rem; width: 11px; height: 11px; border-radius: 50%; background: var(--accent); }
    ol.timeline .what { font-weight: 600; }
    details pre { background: var(--panel); padding: .5rem; overflow-x: auto; font-size: .8rem; }
    .cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(17rem, 1fr)); gap: .8rem; }
    .card { border: 1px solid var(--line); border-radius: 6px; padding: .8rem; }
    .card h2 { border: 0; margin: 0 0 .4rem; padding: 0; }
    .signin { max-width: 26rem; margin: 3rem auto; }
    figure.histogram { margin: .6rem 0 1rem; max-width: 44rem; }
    figure.histogram svg { width: 100%; height: auto; background: var(--panel); border: 1px solid var(--line); border-radius: 6px; }
    figure.histogram figcaption { font-size: .85rem; color: var(--muted); }
    svg .bar { fill: #8c959f; }
    svg .bar.flagged, .swatch.flagged { fill: var(--bad); background: var(--bad); }
    svg .threshold { stroke: var(--warn); stroke-width: 2; stroke-dasharray: 4 3; }
    svg .axis { font-size: 11px; fill: var(--muted); }
    .swatch { display: inline-block; width: .8em; height: .8em; margin: 0 .25em; vertical-align: middle; }
    ul.changes { max-height: 16rem; overflow-y: auto; border: 1px solid var(--line); padding: .4rem 1.6rem; margin: .3rem 0; }
    .visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
    @media (max-width: 640px) {
      main { padding: .6rem; }
      header.top .who { margin-left: 0; }
      dl.facts { grid-template-columns: 1fr; }
      dl.facts dd { margin-bottom: .4rem; }
      progress { width: 100%; }
    }
    """

    static let javascript = """
    // Firebreak console: live job progress, the live degraded banner and the rollback
    // confirmation. Every page works
    // without this script; it only saves a reload.
    (function () {
      "use strict";
      var live = document.querySelector("[data-live]");
      if (live) {
        var url = live.getAttribute("data-live");
        var tick = function () {
          fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
            .then(function (r) { return r.ok ? r.json() : null; })
            .then(function (state) {
              if (!state) { return; }
              state.jobs.forEach(function (job) {
                var row = document.querySelector('[data-job="' + job.id + '"]');
                if (!row) { return; }
                var bar = row.querySelector("progress");
                if (bar) { bar.value = job.progress; }
                var pct = row.querySelector("[data-percent]");
                if (pct) { pct.textContent = Math.round(job.progress * 100) + " %"; }
                var st = row.querySelector("[data-state]");
                if (st) { st.textContent = job.state; }
              });
              if (state.open === 0) { window.location.reload(); return; }
              window.setTimeout(tick, 1500);
            })
            .catch(function () { window.setTimeout(tick, 5000); });
        };
        window.setTimeout(tick, 1500);
      }
      var slot = document.querySelector("[data-banner]");
      if (slot) {
        var bannerURL = slot.getAttribute("data-banner");
        var shownKey = null;
        var draw = function (state) {
          var key = JSON.stringify(state.degraded);
          if (key === shownKey) { return; }
          shownKey = key;
          while (slot.firstChild) { slot.removeChild(slot.firstChild); }
          if (state.degraded.length === 0) { return; }
          var box = document.createElement("div");
          box.className = "banner"; box.id = "degraded-banner"; box.setAttribute("role", "alert");
          var title = document.createElement("strong"); title.textContent = "Degraded:"; box.appendChild(title);
          var list = document.createElement("ul");
          state.degraded.forEach(function (item) {
            var li = document.createElement("li");
            var link = document.createElement("a");
            link.href = "/console/collections/" + encodeURIComponent(item.collection); link.textContent = item.collection;
            li.appendChild(link);
            li.appendChild(document.createTextNode(" is " + item.words));
            item.incidents.forEach(function (id, index) {
              li.appendChild(document.createTextNode(index === 0 ? " — under " : ", "));
              var a = document.createElement("a");
              a.href = "/console/incidents/" + encodeURIComponent(id); a.textContent = id;
              li.appendChild(a);
            });
            list.appendChild(li);
          });
          box.appendChild(list);
          slot.appendChild(box);
        };
        var poll = function () {
          fetch(bannerURL, { credentials: "same-origin", headers: { "Accept": "application/json" } })
            .then(function (r) { return r.ok ? r.json() : null; })
            .then(function (state) { if (state) { draw(state); } window.setTimeout(poll, 3000); })
            .catch(function () { window.setTimeout(poll, 10000); });
        };
        window.setTimeout(poll, 3000);
      }
      document.querySelectorAll("[data-confirm-with]").forEach(function (form) {
        var expected = form.getAttribute("data-confirm-with");
        var input = form.querySelector("input[name=confirm]");
        var button = form.querySelector("button[type=submit]");
        if (!input || !button) { return; }
        var check = function () { button.disabled = input.value.trim() !== expected; };
        input.addEventListener("input", check);
        check();
      });
    })();
    """
}
