/* Store upload: poll the job's status and show progress and the push report. */
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  var box = document.getElementById("job");
  if (!box || !box.dataset.url) { return; }
  var bar = document.getElementById("job-progress"), state = document.getElementById("job-state");
  var report = document.getElementById("job-report");
  function line(text) { var li = document.createElement("li"); li.textContent = text; report.appendChild(li); }
  function poll() {
    fetch(box.dataset.url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.json(); })
      .then(function (job) {
        bar.classList.remove("hidden");
        if (job.records_total) { bar.max = job.records_total; bar.value = job.records_done; }
        if (job.state === "done") {
          bar.max = 1; bar.value = 1;
          state.textContent = box.dataset.done;
          var r = job.report;
          line(box.dataset.added + ": " + r.added + " · " + box.dataset.skipped + ": " + r.skipped + " · " + box.dataset.rejected + ": " + r.rejected);
          r.sessions.forEach(function (s) {
            line(s.session_id + ": " + (s.status || "") + " +" + s.added + " =" + s.skipped + " ×" + s.rejected + (s.reason ? " · " + s.reason : ""));
          });
          Object.keys(r.merged || {}).forEach(function (name) {   // other tables the push merged (inspections)
            var m = r.merged[name], label = box.dataset["merge" + name.charAt(0).toUpperCase() + name.slice(1)] || name;
            line(label + ": +" + m.added + " =" + m.skipped + " ×" + m.rejected.length);
            m.rejected.forEach(function (x) {
              var key = Object.keys(x).filter(function (k) { return k !== "reason"; }).map(function (k) { return x[k]; });
              line("× " + key.join(", ") + " · " + x.reason);
            });
          });
          state.dataset.final = "done";
        } else if (job.state === "failed") {
          state.textContent = box.dataset.failed + ": " + job.error;
          state.dataset.final = "failed";
        } else {
          state.textContent = box.dataset.running + " " + (job.session || "") + " " + job.records_done + "/" + job.records_total;
          setTimeout(poll, 500);
        }
      });
  }
  poll();
});
