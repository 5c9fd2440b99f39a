// The report form: show only the chosen category's extra fields, and do the
// anti-spam proof of work in a worker so the page stays responsive. Without
// this script the form still works: all fields show, and the server accepts a
// short wait instead of the work.
(function () {
  "use strict";
  var form = document.getElementById("report-form");
  if (!form) return;
  document.documentElement.classList.add("js");

  var category = document.getElementById("category");
  var sets = form.querySelectorAll(".details-set");
  var evidence = document.getElementById("evidence-field");
  var csamNote = document.getElementById("csam-note");
  function showCategory() {
    var c = category.value;
    for (var i = 0; i < sets.length; i++) {
      sets[i].hidden = sets[i].getAttribute("data-category") !== c;
    }
    if (evidence) evidence.hidden = c === "csam";
    if (csamNote) csamNote.hidden = c !== "csam";
  }
  category.addEventListener("change", showCategory);
  showCategory();

  var token = document.getElementById("pow_token");
  var solution = document.getElementById("pow_solution");
  var status = document.getElementById("pow-status");
  var done = solution.value !== "";
  var submitting = false;
  function say(t) { status.textContent = t; }

  if (!done && window.Worker && window.crypto && window.crypto.subtle) {
    var w = new Worker("/static/pow-worker.js");
    say("Running a short anti-spam check…");
    w.onmessage = function (e) {
      if (e.data.progress !== undefined) {
        say("Running a short anti-spam check… " + e.data.progress + "%");
        return;
      }
      solution.value = e.data.solution;
      done = true;
      say("Anti-spam check done.");
      if (submitting) form.submit();
    };
    w.onerror = fallback;
    w.postMessage({ token: token.value, bits: parseInt(token.getAttribute("data-bits"), 10) });
  } else if (!done) {
    fallback();
  }
  // Without the worker (or Web Crypto, which needs HTTPS) the server accepts
  // the form after a short wait instead.
  function fallback() {
    done = true;
    say("This browser cannot run the anti-spam check: the form can be sent " + token.getAttribute("data-wait") + " seconds after the page was opened.");
  }
  form.addEventListener("submit", function (e) {
    if (done) return;
    e.preventDefault();
    submitting = true;
    say("Finishing the anti-spam check, the report is sent when it is done…");
  });
})();
