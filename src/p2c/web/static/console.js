// p2c console: while a run goes on, refresh its counts table once a second (no framework, no CDN).
(function () {
  function follow(box) {
    var url = box.getAttribute("data-url");
    var wrap = document.getElementById("counts-wrap");
    function tick() {
      fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
        .then(function (r) {
          var running = r.headers.get("X-Run-Running") === "1";
          return r.text().then(function (html) { return { html: html, running: running }; });
        })
        .then(function (got) {
          wrap.innerHTML = got.html;
          if (got.running) { setTimeout(tick, 1000); }
          else {
            var note = document.getElementById("running");
            if (note) { note.textContent = "Finished."; }
            var status = document.getElementById("run-status");
            var table = document.getElementById("counts");
            if (status && table) { var s = table.querySelector("tfoot .status"); if (s) { status.textContent = s.textContent; status.className = s.className; } }
          }
        })
        .catch(function () { setTimeout(tick, 3000); });
    }
    setTimeout(tick, 1000);
  }
  document.addEventListener("DOMContentLoaded", function () {
    var box = document.getElementById("live");
    if (box && box.getAttribute("data-running") === "1") { follow(box); }
  });
})();
