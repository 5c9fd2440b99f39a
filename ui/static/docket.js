// Keyboard triage. Queue: j/k move, Enter opens, c claims. Case page: j/k next and
// previous case, c claims. No framework; the pages work the same without it.
(function () {
  "use strict";
  var idx = -1;
  function rows() { return Array.prototype.slice.call(document.querySelectorAll("table[data-keynav] tbody tr")); }
  function select(i) {
    var r = rows();
    if (!r.length) return;
    idx = Math.max(0, Math.min(i, r.length - 1));
    r.forEach(function (row, j) { row.classList.toggle("selected", j === idx); });
    r[idx].scrollIntoView({ block: "nearest" });
  }
  function current() { var r = rows(); return idx >= 0 && idx < r.length ? r[idx] : null; }
  function csrf() { var f = document.querySelector("input[name=_csrf]"); return f ? f.value : ""; }
  // On a case page: j/k go to the next/previous case in the queue, c claims.
  var nav = document.querySelector("nav.neighbours");
  document.addEventListener("keydown", function (e) {
    var t = e.target;
    if (e.ctrlKey || e.metaKey || e.altKey || (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT|BUTTON)$/.test(t.tagName)))) return;
    if (nav) {
      var to = e.key === "j" ? nav.dataset.next : e.key === "k" ? nav.dataset.prev : "";
      if (to) { window.location = to; e.preventDefault(); return; }
      var claim = document.getElementById("claim");
      if (e.key === "c" && claim) { claim.click(); e.preventDefault(); }
      return;
    }
    if (e.key === "j") { select(idx + 1); e.preventDefault(); }
    else if (e.key === "k") { select(idx - 1); e.preventDefault(); }
    else if (e.key === "Enter" && current()) { window.location = "/cases/" + current().dataset.case; e.preventDefault(); }
    else if (e.key === "c" && current()) {
      var f = document.createElement("form");
      f.method = "post"; f.action = "/cases/" + current().dataset.case + "/claim";
      var i = document.createElement("input"); i.type = "hidden"; i.name = "_csrf"; i.value = csrf();
      f.appendChild(i); document.body.appendChild(f); f.submit();
      e.preventDefault();
    }
  });
  // After htmx swaps the table, keep the selection where it was.
  document.addEventListener("htmx:afterSwap", function () { if (idx >= 0) select(idx); });
  // A form sent from the case page stops its status poll: the session store
  // saves the whole session after every request (idle timeout), so a poll
  // finishing after the POST would write back the session it read before,
  // and the POST's flash ("Decision recorded") would be lost.
  document.addEventListener("submit", function () {
    var poll = document.getElementById("case-status");
    if (poll) poll.removeAttribute("hx-trigger"), poll.remove();
  }, true);
})();
