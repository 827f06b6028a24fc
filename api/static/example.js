/* The /example page: wires notecheck-gate.js to the demo form. The key typed by the user stays in this tab. */
(function () {
  "use strict";
  var form = document.getElementById("note-form");
  var keyInput = document.getElementById("api-key");
  var saved = document.getElementById("saved");
  keyInput.value = sessionStorage.getItem("notecheck-example-key") || "";
  keyInput.addEventListener("change", function () {
    sessionStorage.setItem("notecheck-example-key", keyInput.value.trim());
  });
  form.addEventListener("input", function () {
    saved.hidden = true;
  });
  NotecheckGate.attach(form, {
    endpoint: "/v1/gate",
    apiKey: function () {
      return keyInput.value.trim();
    },
    textField: "body",
    fields: { title: "title", contact_date: "contact_date", office: "office" },
    onAllow: function () {
      saved.hidden = false; // a real form would submit here (the default when onAllow is not given)
    },
  });
})();
