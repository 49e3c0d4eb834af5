// Worklist: the studies table with filters, upload (files, folder or zip), analysis progress.
"use strict";
(function () {
  const NS = window.nenscope;
  let studies = [];
  let patients = {}; // shown patient id -> patient key of the timeline page
  let refreshTimer = null;

  // The store's study states, in the words of a reading room.
  const STATUS_LABEL = { stored: "received", queued: "queued", analysing: "analysing",
    analysed: "for review", signed: "signed", failed: "failed" };
  const label = (status) => STATUS_LABEL[status] || String(status || "");

  function matches(s, f) {
    const patient = (f.get("patient") || "").trim().toLowerCase();
    if (patient && !String(s.patient_id || "").toLowerCase().includes(patient)) return false;
    const date = String(s.study_date || "").replaceAll("-", "");
    const from = (f.get("from") || "").replaceAll("-", "");
    const to = (f.get("to") || "").replaceAll("-", "");
    if (from && date < from) return false;
    if (to && date > to) return false;
    const modality = (f.get("modality") || "").trim().toLowerCase();
    const text = JSON.stringify([s.modalities, s.tracer || ""]).toLowerCase();
    if (modality && !text.includes(modality)) return false;
    const status = f.get("status") || "";
    if (status && label(s.status) !== status) return false;
    return true;
  }

  function formatDate(d) {
    const s = String(d || "");
    return /^\d{8}$/.test(s) ? `${s.slice(0, 4)}-${s.slice(4, 6)}-${s.slice(6)}` : s;
  }

  function render() {
    const body = document.getElementById("studies-body");
    const filters = new FormData(document.getElementById("filters"));
    const shown = studies.filter((s) => matches(s, filters));
    body.replaceChildren();
    if (!shown.length) {
      body.append(NS.el("tr", {}, NS.el("td", { colspan: 5, text: studies.length ? "No study matches the filters." : "No studies yet: upload one." })));
      return;
    }
    for (const s of shown) {
      const status = label(s.status);
      const open = NS.el("a", { href: `/studies/${encodeURIComponent(s.study_id)}`, text: "Open" });
      const analyse = NS.el("button", { type: "button", class: "small", text: "Analyse",
        onclick: () => startAnalysis(s.study_id) });
      body.append(NS.el("tr", { "data-testid": "study-row", "data-study-id": s.study_id },
        NS.el("td", {}, patients[s.patient_id] !== undefined
          ? NS.el("a", { href: `/patients/${patients[s.patient_id]}`, title: "Timeline of this patient", text: s.patient_id })
          : s.patient_id || ""),
        NS.el("td", { text: formatDate(s.study_date) }),
        NS.el("td", { text: (s.modalities || []).join(", ") }),
        NS.el("td", {}, NS.el("span", { class: "badge " + status.replaceAll(" ", "-"), "data-status": s.status, text: status })),
        NS.el("td", {}, open, " ", analyse)));
    }
  }

  async function load() {
    try {
      studies = await NS.api("/api/studies");
      patients = Object.fromEntries((await NS.api("/api/patients")).map((p) => [p.patient_id, p.id]));
      studies.sort((a, b) => String(b.study_date).localeCompare(String(a.study_date)));
      document.getElementById("worklist-error").textContent = "";
      render();
    } catch (e) {
      document.getElementById("worklist-error").textContent = "Could not load the studies: " + e.message;
    }
    clearTimeout(refreshTimer);
    const busy = studies.some((s) => s.status === "analysing" || s.status === "queued");
    refreshTimer = setTimeout(load, busy ? 3000 : 15000);
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
    document.getElementById("filters").addEventListener("input", render);
    document.getElementById("upload-form").addEventListener("submit", upload);
    // One file input (so that scripts and tests find it unambiguously); the check box turns
    // it into a folder picker.
    document.getElementById("upload-as-folder").addEventListener("change", (e) => {
      const input = document.getElementById("upload-files");
      input.value = "";
      input.toggleAttribute("webkitdirectory", e.target.checked);
    });
    document.getElementById("pacs-form").addEventListener("submit", retrieve);
    load();
  });
})();
