/*
 * notecheck-gate.js: check a case note with notecheck's POST /v1/gate before a web form saves it, and show the
 * findings inline, with the offending spans highlighted in a preview of the note.
 *
 *   <link rel="stylesheet" href="https://notecheck.example.org/static/notecheck-gate.css">
 *   <script src="https://notecheck.example.org/static/notecheck-gate.js"></script>
 *   <script>
 *     NotecheckGate.attach(document.querySelector("#note-form"), {
 *       endpoint: "https://notecheck.example.org/v1/gate",
 *       apiKey: () => myKey,            // a checker key (string or function); see "Keys in browsers" below
 *       textField: "body",              // the form field holding the note text
 *       fields: {title: "title", contact_date: "contact_date", office: "office", id: "note_id"},
 *     });
 *   </script>
 *
 * On submit the form is held; the note goes to /v1/gate. `allow`: the form is submitted. `warn`: the findings are
 * shown and the user confirms ("Save anyway"). `block` (422): the findings and a highlighted preview are shown and
 * the form is not submitted. Any other answer (bad key, network down) also holds the form: the gate fails closed.
 * Hooks: onAllow(report, form), onWarn(report, form), onBlock(problem, form), onError(problem, form).
 *
 * Offsets in a report are Unicode code point indices (Python string indices); this file converts them for
 * JavaScript's UTF-16 strings. Note text is only ever inserted with textContent, never as HTML.
 *
 * Keys in browsers: a key given to a page is visible to its users. Use a checker key scoped to the office, or call
 * /v1/gate from your own backend and let the page talk to that (set `endpoint` to it and leave `apiKey` out).
 * Cross-origin pages need the server's NOTECHECK_CORS_ORIGINS to list their origin.
 */
(function (global) {
  "use strict";

  var SEVERITY_RANK = { error: 3, warning: 2, info: 1 };

  function codePoints(text) {
    return Array.from(text);
  }

  /* UTF-16 index of code point index `cp` in `text` (for textarea selection). */
  function utf16Index(text, cp) {
    var chars = codePoints(text);
    var n = 0;
    for (var i = 0; i < cp && i < chars.length; i++) n += chars[i].length;
    return n;
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  /* A <div> showing `text` with every finding span wrapped in <mark>, the most severe finding winning overlaps. */
  function renderPreview(text, findings) {
    var chars = codePoints(text);
    var owner = new Array(chars.length);
    (findings || []).forEach(function (f, index) {
      if (f.start === null || f.end === null || f.start === undefined) return;
      for (var i = Math.max(0, f.start); i < Math.min(chars.length, f.end); i++) {
        var current = owner[i] === undefined ? null : findings[owner[i]];
        if (!current || SEVERITY_RANK[f.severity] > SEVERITY_RANK[current.severity]) owner[i] = index;
      }
    });
    var preview = el("div", "nc-preview");
    var i = 0;
    while (i < chars.length) {
      var who = owner[i];
      var j = i;
      while (j < chars.length && owner[j] === who) j++;
      var piece = chars.slice(i, j).join("");
      if (who === undefined) {
        preview.appendChild(document.createTextNode(piece));
      } else {
        var f = findings[who];
        var mark = el("mark", "nc-" + f.severity + " nc-" + f.kind, piece);
        mark.title = f.category + ": " + f.message;
        mark.dataset.fingerprint = f.fingerprint;
        preview.appendChild(mark);
      }
      i = j;
    }
    return preview;
  }

  /* A list of findings; clicking one selects its span in `textarea` (when given). */
  function renderFindings(findings, textarea, text) {
    var list = el("ul", "nc-findings");
    (findings || []).forEach(function (f) {
      var item = el("li", "nc-finding nc-" + f.severity);
      item.appendChild(el("span", "nc-severity", f.severity));
      item.appendChild(el("span", "nc-category", f.category));
      item.appendChild(el("span", "nc-message", f.message));
      if (f.policy_ref) item.appendChild(el("span", "nc-ref", f.policy_ref));
      item.dataset.fingerprint = f.fingerprint;
      if (textarea && f.start !== null && f.start !== undefined) {
        item.tabIndex = 0;
        item.addEventListener("click", function () {
          textarea.focus();
          textarea.setSelectionRange(utf16Index(text, f.start), utf16Index(text, f.end));
        });
      }
      list.appendChild(item);
    });
    return list;
  }

  function valueOf(form, name) {
    var field = form.elements.namedItem(name);
    if (!field || field.value === undefined || field.value === "") return undefined;
    return field.value;
  }

  function collect(form, options) {
    var note = { text: valueOf(form, options.textField) || "" };
    var fields = options.fields || {};
    Object.keys(fields).forEach(function (key) {
      var value = valueOf(form, fields[key]);
      if (value !== undefined) note[key] = value;
    });
    return note;
  }

  /* POST one note to the gate; resolves to {status, body} (body is the report or the problem). */
  function check(note, options) {
    var headers = { "Content-Type": "application/json", Accept: "application/json, application/problem+json" };
    var key = typeof options.apiKey === "function" ? options.apiKey() : options.apiKey;
    if (key) headers.Authorization = "Bearer " + key;
    return fetch(options.endpoint || "/v1/gate", {
      method: "POST",
      headers: headers,
      body: JSON.stringify(note),
      credentials: "omit",
    }).then(function (response) {
      return response
        .json()
        .catch(function () {
          return { title: "Unexpected answer", detail: "HTTP " + response.status };
        })
        .then(function (body) {
          return { status: response.status, body: body };
        });
    });
  }

  function outputFor(form, options, textarea) {
    if (options.output) return options.output;
    var box = form.querySelector(".nc-output");
    if (!box) {
      box = el("div", "nc-output");
      box.setAttribute("aria-live", "polite");
      (textarea || form).insertAdjacentElement("afterend", box);
    }
    return box;
  }

  function show(box, title, className, parts) {
    box.textContent = "";
    box.className = "nc-output " + className;
    box.appendChild(el("p", "nc-title", title));
    parts.forEach(function (part) {
      if (part) box.appendChild(part);
    });
  }

  function submitForm(report, form) {
    HTMLFormElement.prototype.submit.call(form);
  }

  function attach(form, options) {
    options = options || {};
    options.textField = options.textField || "text";
    var textarea = form.elements.namedItem(options.textField);
    var box = outputFor(form, options, textarea);
    var confirmed = null; // the text the user chose to save despite warnings

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var note = collect(form, options);
      if (confirmed !== null && confirmed === note.text) {
        confirmed = null;
        return (options.onAllow || submitForm)(null, form);
      }
      show(box, "Checking the note…", "nc-busy", []);
      var button = event.submitter;
      if (button) button.disabled = true;
      check(note, options)
        .then(function (answer) {
          var body = answer.body || {};
          if (answer.status === 200 && body.decision === "warn" && options.confirmWarnings !== false) {
            var again = el("button", "nc-confirm", "Save anyway");
            again.type = "button";
            again.addEventListener("click", function () {
              confirmed = note.text;
              if (form.requestSubmit) form.requestSubmit();
              else submitForm(null, form);
            });
            show(box, "Please review these warnings before saving.", "nc-warn", [
              renderFindings(body.findings, textarea, note.text),
              renderPreview(note.text, body.findings),
              again,
            ]);
            if (options.onWarn) options.onWarn(body, form);
          } else if (answer.status === 200) {
            show(box, "No problems found.", "nc-allow", [renderFindings(body.findings, textarea, note.text)]);
            (options.onAllow || submitForm)(body, form);
          } else if (answer.status === 422 && body.decision === "block") {
            show(box, body.detail || "This note cannot be saved as written.", "nc-block", [
              renderFindings(body.findings, textarea, note.text),
              renderPreview(note.text, body.findings),
            ]);
            if (options.onBlock) options.onBlock(body, form);
          } else {
            var problem = body.errors && body.errors.length ? [el("p", "nc-detail", body.errors.map(function (e) {
              return (e.field ? e.field + ": " : "") + e.message;
            }).join("; "))] : [];
            show(box, (body.title || "Error") + ": " + (body.detail || "HTTP " + answer.status), "nc-error", problem);
            if (options.onError) options.onError(body, form);
          }
        })
        .catch(function () {
          show(box, "The note could not be checked (network error). It was not saved.", "nc-error", []);
          if (options.onError) options.onError(null, form);
        })
        .then(function () {
          if (button) button.disabled = false;
        });
    });
    return { check: function () { return check(collect(form, options), options); } };
  }

  global.NotecheckGate = {
    attach: attach,
    check: check,
    renderPreview: renderPreview,
    renderFindings: renderFindings,
    utf16Index: utf16Index,
  };
})(window);
