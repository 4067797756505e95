"use strict";
(function () {
  var data = JSON.parse(document.getElementById("packet-data").textContent);
  var KEY = data.storage_key;
  // starts with a letter or digit (so never a spreadsheet formula); then also . _ - @ + ' and spaces
  var ID_RE = /^[\p{L}\p{N}][\p{L}\p{N} ._@+'-]{0,127}$/u;
  var form = document.getElementById("scores");
  var raterInput = document.getElementById("rater-id");
  var statusEl = document.getElementById("save-status");
  var messageEl = document.getElementById("message");
  var total = data.transcripts.length * data.dimensions.length;

  function cellName(t, d) { return "s-" + t + "-" + d; }
  function noteName(t, d) { return "r-" + t + "-" + d; }

  function collect() {
    var state = { rater_id: raterInput.value.trim(), scores: {}, rationales: {}, saved_at: new Date().toISOString() };
    for (var t = 0; t < data.transcripts.length; t++) {
      for (var d = 0; d < data.dimensions.length; d++) {
        var picked = form.querySelector('input[name="' + cellName(t, d) + '"]:checked');
        if (picked) { state.scores[t + ":" + d] = parseInt(picked.value, 10); }
        var note = form.elements[noteName(t, d)];
        if (note && note.value.trim()) { state.rationales[t + ":" + d] = note.value; }
      }
    }
    return state;
  }

  function countDone(state) { return Object.keys(state.scores).length; }

  function showProgress(state) {
    var done = countDone(state);
    document.getElementById("progress").textContent = done + " of " + total + " scores entered";
    for (var t = 0; t < data.transcripts.length; t++) {
      var n = 0;
      for (var d = 0; d < data.dimensions.length; d++) { if ((t + ":" + d) in state.scores) { n++; } }
      var el = document.getElementById("tprog-" + t);
      if (el) { el.textContent = n + " / " + data.dimensions.length + " scored"; }
    }
  }

  function save() {
    var state = collect();
    try {
      window.localStorage.setItem(KEY, JSON.stringify(state));
      statusEl.textContent = "Progress saved in this browser at " + new Date().toLocaleTimeString() + ".";
    } catch (e) {
      statusEl.textContent = "Could not save in this browser (" + e.name + "): download your scores to keep them.";
    }
    showProgress(state);
    return state;
  }

  function restore() {
    var raw = null;
    try { raw = window.localStorage.getItem(KEY); } catch (e) { raw = null; }
    if (!raw) { showProgress(collect()); return; }
    var state;
    try { state = JSON.parse(raw); } catch (e) { return; }
    if (state.rater_id) { raterInput.value = state.rater_id; }
    Object.keys(state.scores || {}).forEach(function (k) {
      var p = k.split(":");
      var el = form.querySelector('input[name="' + cellName(p[0], p[1]) + '"][value="' + state.scores[k] + '"]');
      if (el) { el.checked = true; }
    });
    Object.keys(state.rationales || {}).forEach(function (k) {
      var p = k.split(":");
      var el = form.elements[noteName(p[0], p[1])];
      if (el) { el.value = state.rationales[k]; }
    });
    statusEl.textContent = "Restored your progress saved at " + (state.saved_at || "an earlier visit") + ".";
    showProgress(collect());
  }

  function csvField(value) {
    var s = String(value);
    if (/^[=+\-@\t\r]/.test(s)) { s = "'" + s; }  // a spreadsheet must not run it as a formula
    if (/[",\r\n]/.test(s) || s !== s.trim()) { s = '"' + s.replace(/"/g, '""') + '"'; }
    return s;
  }

  function toCsv(state) {
    var header = ["transcript_id", "rater_id", "rater_type", "dimension", "score", "rubric_id",
                  "rubric_version", "rated_at", "rationale", "run_id"];
    var lines = [header.join(",")];
    var now = new Date().toISOString();
    for (var t = 0; t < data.transcripts.length; t++) {
      for (var d = 0; d < data.dimensions.length; d++) {
        var k = t + ":" + d;
        if (!(k in state.scores)) { continue; }
        lines.push([data.transcripts[t], state.rater_id, "human", data.dimensions[d], state.scores[k],
                    data.rubric_id, data.rubric_version, now, state.rationales[k] || "", data.run_id]
                   .map(csvField).join(","));
      }
    }
    return lines.join("\r\n") + "\r\n";
  }

  function download() {
    var state = save();
    if (!ID_RE.test(state.rater_id)) {
      messageEl.textContent = "Enter your interviewer id first: it starts with a letter or digit; then letters, digits, spaces and . _ - @ + ' are allowed.";
      messageEl.className = "message bad";
      raterInput.focus();
      return;
    }
    var done = countDone(state);
    if (done === 0) {
      messageEl.textContent = "Nothing to download yet: score at least one transcript.";
      messageEl.className = "message bad";
      return;
    }
    var a = document.createElement("a");
    a.href = "data:text/csv;charset=utf-8," + encodeURIComponent(toCsv(state));
    a.download = "scores-" + state.rater_id + "-" + data.set_id + ".csv";
    document.body.appendChild(a);
    a.click();
    a.remove();
    messageEl.textContent = done < total
      ? "Downloaded " + done + " of " + total + " scores. The rest are still missing: finish them and download again."
      : "Downloaded all " + total + " scores. Send the file to your programme lead.";
    messageEl.className = done < total ? "message warn" : "message good";
  }

  var clearBtn = document.getElementById("clear");
  var clearArmed = false;
  function startOver() {
    if (!clearArmed) {  // two clicks, no dialog: the first one asks for confirmation
      clearArmed = true;
      clearBtn.textContent = "Click again to erase all your scores";
      return;
    }
    clearArmed = false;
    clearBtn.textContent = "Start over";
    try { window.localStorage.removeItem(KEY); } catch (e) { /* nothing saved */ }
    var inputs = form.querySelectorAll("input[type=radio]");
    for (var i = 0; i < inputs.length; i++) { inputs[i].checked = false; }
    var notes = form.querySelectorAll("textarea");
    for (var j = 0; j < notes.length; j++) { notes[j].value = ""; }
    statusEl.textContent = "Cleared: nothing is saved in this browser.";
    messageEl.textContent = "";
    showProgress(collect());
  }

  form.addEventListener("submit", function (e) { e.preventDefault(); });
  clearBtn.addEventListener("click", startOver);
  form.addEventListener("change", save);
  form.addEventListener("input", function (e) { if (e.target.tagName === "TEXTAREA" || e.target === raterInput) { save(); } });
  document.getElementById("save").addEventListener("click", save);
  document.getElementById("download").addEventListener("click", download);
  restore();
  // milliseconds from navigation start until the form is restored and live (read by bench/)
  document.documentElement.setAttribute("data-ready", String(Math.max(1, Math.round(performance.now()))));
})();
