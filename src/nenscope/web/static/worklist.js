// Worklist: upload (files, folder or zip), PACS retrieve, analysis progress; the studies table
// itself is server-rendered and refreshed by htmx.
"use strict";
(function () {
  const NS = window.nenscope;
  // The table is server-rendered (htmx: /worklist/rows with the filters, pages, polling);
  // this script uploads, starts analyses and follows their progress, then asks the table to
  // refresh itself.
  function load() {
    if (window.htmx) window.htmx.trigger(document.body, "refresh-worklist");
  }

  function showJob(label, value) {
    document.getElementById("job").hidden = false;
    document.getElementById("job-label").textContent = label;
    const bar = document.getElementById("job-progress");
    if (value === null) {
      bar.removeAttribute("value");
      bar.removeAttribute("data-progress");
    } else {
      bar.value = value;
      bar.dataset.progress = String(value);
    }
    bar.setAttribute("aria-valuetext", label);
    bar.textContent = label; // shown where <progress> is not rendered
  }

  async function watch(jobId, studyId) {
    const bar = document.getElementById("job-progress");
    bar.dataset.studyId = studyId;
    bar.dataset.state = "queued";
    for (;;) {
      let job;
      try {
        job = await NS.api(`/api/jobs/${encodeURIComponent(jobId)}`);
      } catch (e) {
        showJob("Lost track of the analysis: " + e.message, null);
        return;
      }
      bar.dataset.state = job.state;
      const pct = Math.round(100 * (job.progress || 0));
      if (job.state === "done") {
        showJob("Analysis done (100 %).", 1);
        const link = NS.el("a", { href: `/studies/${encodeURIComponent(studyId)}`, "data-testid": "open-study", text: "Open the study for review" });
        document.getElementById("job-link").replaceChildren(link);
        load();
        return;
      }
      if (job.state === "failed") {
        showJob("Analysis failed: " + (job.error || "no reason given"), job.progress || 0);
        document.getElementById("upload-error").textContent = "Analysis failed: " + (job.error || "");
        load();
        return;
      }
      showJob(`Analysis ${job.state} (${pct} %)…`, job.progress || 0);
      await new Promise((r) => setTimeout(r, 700));
    }
  }

  async function startAnalysis(studyId) {
    document.getElementById("upload-error").textContent = "";
    document.getElementById("job-link").replaceChildren();
    showJob("Starting the analysis…", 0);
    try {
      const answer = await NS.api(`/api/studies/${encodeURIComponent(studyId)}/analyses`, { method: "POST", body: {} });
      await watch(answer.job_id, studyId);
    } catch (e) {
      document.getElementById("upload-error").textContent = "Could not start the analysis: " + e.message;
    }
  }

  async function upload(event) {
    event.preventDefault();
    const error = document.getElementById("upload-error");
    error.textContent = "";
    document.getElementById("job-link").replaceChildren();
    const files = [...document.getElementById("upload-files").files];
    if (!files.length) {
      error.textContent = "Choose DICOM files, a folder or a .zip first.";
      return;
    }
    const data = new FormData();
    for (const f of files) data.append("files", f, f.webkitRelativePath || f.name);
    showJob(`Uploading ${files.length} file(s)…`, null);
    let answer;
    try {
      answer = await NS.api("/api/studies", { method: "POST", body: data });
    } catch (e) {
      showJob("Upload failed.", 0);
      error.textContent = "Upload failed: " + e.message;
      return;
    }
    load();
    if (document.getElementById("upload-analyse").checked) await startAnalysis(answer.study_id);
    else showJob("Uploaded.", 1);
  }

  async function retrieve(event) {
    event.preventDefault();
    const f = new FormData(event.target);
    const error = document.getElementById("upload-error");
    error.textContent = "";
    showJob("Retrieving from PACS…", null);
    try {
      const answer = await NS.api(`/api/pacs/${encodeURIComponent(f.get("node"))}/retrieve`, {
        method: "POST", body: { study_instance_uid: f.get("study_instance_uid") } });
      load();
      await startAnalysis(answer.study_id);
    } catch (e) {
      showJob("Retrieve failed.", 0);
      error.textContent = "Retrieve failed: " + e.message;
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.addEventListener("click", (e) => {
      const button = e.target.closest ? e.target.closest("button[data-analyse]") : null;
      if (button) startAnalysis(button.dataset.analyse);
    });
    document.getElementById("upload-form").addEventListener("submit", upload);
    // One file input (so that scripts and tests find it unambiguously); the check box turns
    // it into a folder picker.
    document.getElementById("upload-as-folder").addEventListener("change", (e) => {
      const input = document.getElementById("upload-files");
      input.value = "";
      input.toggleAttribute("webkitdirectory", e.target.checked);
    });
    document.getElementById("pacs-form").addEventListener("submit", retrieve);
  });
})();
