/* notecheck review: keyboard shortcuts and in-place verdicts. Plain JS, no framework, no network but this server.
   Every action also works without JavaScript (the forms post and redirect). */
(function () {
  "use strict";

  var body = document.body;
  var csrf = body.getAttribute("data-csrf") || "";
  var live = document.getElementById("live");
  var help = document.getElementById("help");
  var chain = Promise.resolve();

  function announce(message) {
    if (live) { live.textContent = ""; live.textContent = message; }
  }

  function typing(target) {
    if (!target) { return false; }
    var tag = target.tagName;
    return target.isContentEditable || tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT";
  }

  function later(step) {  // keys run in order, each after the previous one's request has finished
    chain = chain.then(step).catch(function () { announce("Something went wrong; reload the page."); });
  }

  function go(url) {
    if (url) { window.location.assign(url); }
  }

  function toggleHelp() {
    if (!help) { return; }
    if (help.open) { help.close(); } else { help.showModal(); }
  }

  var helpButtons = document.querySelectorAll("[data-action='help']");
  for (var h = 0; h < helpButtons.length; h++) { helpButtons[h].addEventListener("click", toggleHelp); }

  // -- the queue -----------------------------------------------------------------------------------------------------
  function queuePage() {
    var rows = Array.prototype.slice.call(document.querySelectorAll("tr[data-href]"));
    var cur = -1;

    function select(i) {
      if (!rows.length) { return; }
      cur = Math.max(0, Math.min(rows.length - 1, i));
      rows.forEach(function (row, n) { row.classList.toggle("current", n === cur); });
      var link = rows[cur].querySelector("a.open");
      if (link) { link.focus(); }
    }

    return function (key) {
      if (key === "j") { select(cur + 1); return true; }
      if (key === "k") { select(cur < 0 ? 0 : cur - 1); return true; }
      if (key === "o" && cur >= 0) { go(rows[cur].getAttribute("data-href")); return true; }
      if (key === "x" && cur >= 0) {
        var box = rows[cur].querySelector("input[type='checkbox']");
        if (box) { box.checked = !box.checked; announce(box.checked ? "Selected" : "Not selected"); }
        return true;
      }
      return false;
    };
  }

  // -- a note --------------------------------------------------------------------------------------------------------
  function notePage() {
    var items = Array.prototype.slice.call(document.querySelectorAll("li.finding"));
    var marks = Array.prototype.slice.call(document.querySelectorAll("mark[data-findings]"));
    var dialog = document.getElementById("dismiss");
    var openCount = document.getElementById("open-count");
    var query = (body.getAttribute("data-queue-url") || "").split("?")[1] || "";
    var cur = -1;

    function select(i, focus) {
      if (!items.length) { return; }
      cur = Math.max(0, Math.min(items.length - 1, i));
      var item = items[cur];
      items.forEach(function (el, n) { el.classList.toggle("current", n === cur); });
      var id = "f" + item.getAttribute("data-id");
      marks.forEach(function (m) {
        m.classList.toggle("active", (" " + m.getAttribute("data-findings") + " ").indexOf(" " + id + " ") >= 0);
      });
      if (focus) { item.focus({ preventScroll: true }); }
      item.scrollIntoView({ block: "nearest" });
      var active = document.querySelector("mark.active");
      if (active) { active.scrollIntoView({ block: "nearest" }); }
    }

    function refreshCount() {
      var open = items.filter(function (el) { return el.getAttribute("data-status") === "open"; }).length;
      if (openCount) { openCount.textContent = "(" + open + " open of " + items.length + ")"; }
      return open;
    }

    function show(item, result) {
      var status = result.status;
      item.setAttribute("data-status", status);
      item.classList.remove("st-open", "st-confirmed", "st-dismissed");
      item.classList.add("st-" + status);
      item.querySelector(".status").textContent = status;
      var by = item.querySelector(".by");
      if (!by) {
        by = document.createElement("span");
        by.className = "by";
        item.querySelector(".status-line").insertBefore(by, item.querySelector(".status").nextSibling);
      }
      by.textContent = status === "open" ? "" : " by " + result.reviewer + (result.reason ? " — “" + result.reason + "”" : "");
    }

    function decide(verdict, code, text) {
      if (cur < 0) { return Promise.resolve(); }
      var item = items[cur];
      var form = new FormData();
      form.append("csrf_token", csrf);
      form.append("finding", item.getAttribute("data-id"));
      form.append("verdict", verdict);
      form.append("q", query);
      if (code) { form.append("reason_code", code); }
      if (text) { form.append("reason", text); }
      return fetch(item.getAttribute("data-action"), {
        method: "POST",
        body: form,
        credentials: "same-origin",
        headers: { "Accept": "application/json", "X-CSRF-Token": csrf }
      }).then(function (response) {
        return response.json().then(function (data) {
          if (!response.ok) { announce(data.detail || "The verdict was not saved."); return; }
          data.findings.forEach(function (result) {
            var el = document.getElementById("f" + result.id);
            if (el) { show(el, result); }
          });
          var open = refreshCount();
          var word = verdict === "reopen" ? "Reopened" : verdict === "confirmed" ? "Confirmed" : "Dismissed";
          if (verdict === "reopen") { announce(word); return; }
          var after = items.slice(cur + 1).concat(items.slice(0, cur + 1)).filter(function (el) {
            return el.getAttribute("data-status") === "open";
          });
          if (after.length) {
            select(items.indexOf(after[0]), true);
            announce(word + ". " + open + " open.");
          } else {
            announce(word + ". Every finding of this note is decided: press j for the next note.");
          }
        });
      });
    }

    function askReason() {
      if (!dialog || cur < 0) { return; }
      dialog.returnValue = "";
      dialog.showModal();
      var checked = dialog.querySelector("input[type='radio']:checked") || dialog.querySelector("input[type='radio']");
      if (checked) { checked.focus(); }
    }

    if (dialog) {
      var radios = Array.prototype.slice.call(dialog.querySelectorAll("input[type='radio']"));
      var other = document.getElementById("dr-other");
      var otherText = document.getElementById("dr-text");
      otherText.addEventListener("input", function () { other.checked = true; });
      dialog.addEventListener("keydown", function (e) {
        if (e.key === "Enter" && e.target.tagName !== "BUTTON") { e.preventDefault(); dialog.close("ok"); return; }
        if (typing(e.target) && e.target.type === "text") { return; }
        var n = parseInt(e.key, 10);
        if (n >= 1 && n <= radios.length) {
          e.preventDefault();
          radios[n - 1].checked = true;
          radios[n - 1].focus();
          if (radios[n - 1] === other) { otherText.focus(); }
        }
      });
      dialog.addEventListener("close", function () {
        if (dialog.returnValue !== "ok") { return; }
        var chosen = dialog.querySelector("input[type='radio']:checked");
        var code = chosen ? chosen.value : "";
        var text = code === "other" ? otherText.value.trim() : "";
        if (code === "other" && !text) { announce("Type a reason, or choose one from the list."); return; }
        otherText.value = "";
        later(function () { return decide("dismissed", code, text); });
      });
    }

    marks.forEach(function (m) {
      m.addEventListener("click", function () {
        var first = (m.getAttribute("data-findings") || "").split(" ")[0];
        var el = document.getElementById(first);
        if (el) { select(items.indexOf(el), true); }
      });
    });

    // Start at the finding named in the URL (#f123), or the first open one at or after it.
    var anchor = Math.max(0, items.indexOf(document.getElementById(window.location.hash.slice(1))));
    var ring = items.slice(anchor).concat(items.slice(0, anchor));
    var firstOpen = ring.filter(function (el) { return el.getAttribute("data-status") === "open"; })[0];
    if (items.length) { select(firstOpen ? items.indexOf(firstOpen) : anchor, false); }

    return function (key) {
      if (key === "j") { later(function () { if (cur >= items.length - 1) { go(body.getAttribute("data-next-url")); } else { select(cur + 1, true); } }); return true; }
      if (key === "k") { later(function () { if (cur <= 0) { go(body.getAttribute("data-prev-url")); } else { select(cur - 1, true); } }); return true; }
      if (key === "n") { later(function () { go(body.getAttribute("data-next-url")); }); return true; }
      if (key === "p") { later(function () { go(body.getAttribute("data-prev-url")); }); return true; }
      if (key === "u") { go(body.getAttribute("data-queue-url")); return true; }
      if (key === "c") { later(function () { return decide("confirmed"); }); return true; }
      if (key === "r") { later(function () { return decide("reopen"); }); return true; }
      if (key === "d") { later(askReason); return true; }
      return false;
    };
  }

  var page = body.getAttribute("data-page");
  var handler = page === "queue" ? queuePage() : page === "note" ? notePage() : function () { return false; };

  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey || e.defaultPrevented) { return; }
    if (document.querySelector("dialog[open]") && e.key !== "?") { return; }
    if (typing(e.target)) { return; }
    if (e.key === "?") { e.preventDefault(); toggleHelp(); return; }
    if (handler(e.key)) { e.preventDefault(); }
  });
}());
