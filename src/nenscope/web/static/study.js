// Study review: NiiVue viewer (CT, PET in SUV, fused), lesion table with confirm/reject,
// add-a-lesion by click, scores, report, sign-off.
"use strict";
(function () {
  const NS = window.nenscope;
  const root = document.getElementById("study");
  const studyId = root.dataset.studyId;
  const state = { analysisId: null, analysis: null, nv: null, addMode: false, volumes: [], moveRef: null };
  const REFERENCE_NAMES = { liver: "Liver", spleen: "Spleen", blood_pool: "Blood pool" };

  // DICOM patient coordinates (LPS) <-> NiiVue world coordinates (RAS).
  const lpsToRas = (p) => [-p[0], -p[1], p[2]];
  const rasToLps = (p) => [-p[0], -p[1], p[2]];

  function error(message) {
    document.getElementById("study-error").textContent = message;
  }

  async function findAnalysis() {
    const study = await NS.api(`/api/studies/${encodeURIComponent(studyId)}`);
    document.getElementById("study-title").textContent =
      `Patient ${study.patient_id || "?"} · ${study.study_date || ""} · ${(study.modalities || []).join(", ")}`;
    if (study.latest_analysis_id) return study.latest_analysis_id;
    if (study.analysis_id) return study.analysis_id;
    const list = study.analyses || [];
    if (list.length) {
      const last = list[list.length - 1];
      return typeof last === "object" ? last.analysis_id : last;
    }
    return null;
  }

  function lesionRow(lesion, index) {
    const id = lesion.id;
    const button = (label, status) => NS.el("button", {
      type: "button", class: "small " + status, "aria-pressed": lesion.status === status ? "true" : "false",
      "aria-label": `${label} lesion ${id}`, text: label,
      onclick: (e) => { e.stopPropagation(); review(id, status); } });
    const row = NS.el("tr", {
      "data-testid": "lesion-row", "data-lesion-id": id, "data-status": lesion.status,
      class: "lesion " + lesion.status, tabindex: "0",
      title: "Show this lesion in the viewer",
      onclick: () => jumpTo(lesion.centroid_mm),
      onkeydown: (e) => { if (e.key === "Enter" && e.target === row) jumpTo(lesion.centroid_mm); } },
      NS.el("td", { "data-testid": "lesion-number", title: `lesion id ${id}`,
        text: lesion.report_id === undefined ? String(index + 1) : lesion.report_id === null ? "–" : String(lesion.report_id) }),
      NS.el("td", { text: lesion.site || (lesion.detection && lesion.detection.includes("added") ? "added" : "") }),
      NS.el("td", { class: "num", text: NS.fmt(lesion.suvmax, 1) }),
      NS.el("td", { class: "num", text: NS.fmt(lesion.volume_ml, 1) }),
      NS.el("td", { class: "num", text: lesion.krenning ?? "" }),
      NS.el("td", { text: lesion.status }),
      NS.el("td", { class: "actions" }, button("Confirm", "confirmed"), " ", button("Reject", "rejected")));
    return row;
  }

  function renderScores(a) {
    const dl = document.getElementById("scores");
    dl.replaceChildren();
    const scores = a.scores;
    const list = Array.isArray(scores) ? scores
      : scores && typeof scores === "object" ? Object.entries(scores).map(([name, value]) => ({ name, value })) : [];
    for (const sc of list) {
      const value = sc.value !== null && typeof sc.value === "object" ? summarise(sc.value) : String(sc.value ?? "—");
      const dd = NS.el("dd", { "data-score": sc.name, "data-testid": "score", text: value });
      if (sc.details) {
        const more = NS.el("details", {}, NS.el("summary", { text: "why" }), NS.el("small", { text: sc.details }));
        dd.append(" ", more);
      }
      dl.append(NS.el("dt", { text: sc.name, title: sc.definition || "" }), dd);
    }
    if (!list.length) dl.append(NS.el("dd", { text: "No scores." }));
    const note = document.getElementById("scores-note");
    note.textContent = a.rescored
      ? `Re-scored after the review (version ${a.version}): rejected lesions are left out, added ones count.`
      : "Scores of the automatic analysis (no review edit yet).";
  }

  function summarise(obj) {
    if (Array.isArray(obj)) return obj.map((v) => (typeof v === "object" ? summarise(v) : String(v))).join("; ");
    return Object.entries(obj).filter(([, v]) => v !== null && typeof v !== "object")
      .map(([k, v]) => `${k.replaceAll("_", " ")}: ${typeof v === "number" ? NS.fmt(v, v % 1 ? 2 : 0) : v}`).join(", ");
  }

  function renderReport(a) {
    const box = document.getElementById("report");
    box.replaceChildren();
    const report = a.report || {};
    const lines = [].concat(report.impression || report.summary || []);
    if (lines.length) {
      for (const line of lines) box.append(NS.el("p", { "data-testid": "report-line", text: line }));
    } else {
      const kept = (a.lesions || []).filter((l) => l.status !== "rejected");
      const max = kept.reduce((m, l) => Math.max(m, Number(l.suvmax) || 0), 0);
      const rejected = (a.lesions || []).length - kept.length;
      box.append(NS.el("p", { "data-testid": "report-line",
        text: `${kept.length} lesion(s) reported` + (rejected ? `, ${rejected} rejected` : "")
          + (kept.length ? `; highest SUVmax ${NS.fmt(max, 1)}.` : ".") }));
    }
    const url = a.report_html || a.report_url || report.html_url;
    if (url) {
      box.append(NS.el("p", {}, NS.el("a", { href: url, target: "_blank", "data-testid": "report-link",
        "data-version": String(a.version), text: `Full report (version ${a.version}${a.rescored ? ", reviewed" : ""})` })));
    }
  }

  function renderSigned(a, answer) {
    const box = document.getElementById("signed");
    box.replaceChildren();
    const form = document.getElementById("sign-form");
    const signedVersion = a.signed_version;
    const isSigned = a.status === "signed";
    form.hidden = isSigned || document.body.dataset.role !== "physician";
    if (!isSigned && document.body.dataset.role !== "physician") {
      box.append(NS.el("p", { class: "note", text: "Only a physician can sign." }));
    }
    if (signedVersion) {
      const pdf = `/api/analyses/${encodeURIComponent(a.analysis_id)}/report.pdf?version=${signedVersion}`;
      box.append(NS.el("p", { class: "signed", "data-testid": "signed",
        text: isSigned ? `Signed: version ${signedVersion}. ` : `Version ${signedVersion} was signed; this is version ${a.version}, an amendment to sign. ` },
        NS.el("a", { href: pdf, text: "Signed report (PDF)" })));
    }
    if (isSigned) for (const b of document.querySelectorAll("#lesions-body button")) b.disabled = true;
    const sent = (answer && answer.sent) || [];
    if (answer) {
      box.append(NS.el("p", { text: sent.length ? "Sent to PACS (SOP Instance UIDs):" : "Nothing was sent to a PACS." }));
      const ul = NS.el("ul", { "data-testid": "sent" });
      for (const uid of sent) ul.append(NS.el("li", {}, NS.el("code", { text: String(uid) })));
      if (sent.length) box.append(ul);
    }
  }

  function render(a) {
    state.analysis = a;
    document.getElementById("analysis-status").textContent = a.status || "";
    const body = document.getElementById("lesions-body");
    body.replaceChildren();
    (a.lesions || []).forEach((l, i) => body.append(lesionRow(l, i)));
    if (!(a.lesions || []).length) body.append(NS.el("tr", {}, NS.el("td", { colspan: 7, text: "No lesion found." })));
    renderScores(a);
    renderReferences(a);
    renderSstrRads(a);
    renderReport(a);
    renderSigned(a);
  }

  function renderReferences(a) {
    const body = document.getElementById("references-body");
    body.replaceChildren();
    const moved = (a.review && a.review.references) || {};
    const canEdit = a.status !== "signed" && ["physician", "admin"].includes(document.body.dataset.role);
    for (const r of a.reference_regions || []) {
      const centre = r.centre_mm ? r.centre_mm.map((v) => NS.fmt(v, 0)).join(", ") : "—";
      const who = moved[r.name] ? `moved by ${moved[r.name].by}` : (r.placement || "").split(":")[0];
      const button = NS.el("button", { type: "button", class: "small", "data-testid": "reference-move",
        "data-reference": r.name, "aria-label": `Move the ${REFERENCE_NAMES[r.name] || r.name} region`,
        text: "Move", onclick: () => startMove(r) });
      button.disabled = !canEdit;
      body.append(NS.el("tr", { "data-testid": "reference-row", "data-reference": r.name },
        NS.el("th", { scope: "row", text: REFERENCE_NAMES[r.name] || r.name }),
        NS.el("td", { class: "num", "data-testid": "reference-mean", "data-reference": r.name,
          text: NS.fmt(r.mean && r.mean.value, 2) }),
        NS.el("td", { class: "num", text: centre }),
        NS.el("td", { text: who, title: r.placement || "" }),
        NS.el("td", {}, button)));
    }
    if (!(a.reference_regions || []).length) {
      body.append(NS.el("tr", {}, NS.el("td", { colspan: 5, text: "No reference region placed." })));
    }
  }

  function startMove(region) {
    state.moveRef = region.name;
    const form = document.getElementById("reference-form");
    form.hidden = false;
    document.getElementById("reference-legend").textContent =
      `Move the ${REFERENCE_NAMES[region.name] || region.name} region: new centre (LPS mm)`;
    const c = region.centre_mm || [0, 0, 0];
    form.elements.x.value = NS.fmt(c[0], 1);
    form.elements.y.value = NS.fmt(c[1], 1);
    form.elements.z.value = NS.fmt(c[2], 1);
    form.elements.radius_mm.value = "";
    document.getElementById("viewer").classList.add("adding");
    form.elements.x.focus({ preventScroll: true });
  }

  function stopMove() {
    state.moveRef = null;
    document.getElementById("reference-form").hidden = true;
    document.getElementById("viewer").classList.remove("adding");
    document.querySelector(".side-pane").scrollLeft = 0;
  }

  async function moveReference(kind, centreLps, radius) {
    error("");
    const body = { centre_mm: centreLps.map((v) => Math.round(v * 10) / 10) };
    if (radius) body.radius_mm = radius;
    try {
      await NS.api(`/api/analyses/${encodeURIComponent(state.analysisId)}/references/${encodeURIComponent(kind)}`,
        { method: "PUT", body });
      stopMove();
      await reload();
      edited(`${REFERENCE_NAMES[kind] || kind} region moved; scores updated.`);
    } catch (e) {
      error(`Could not move the ${REFERENCE_NAMES[kind] || kind} region: ${e.message}`);
    }
  }

  function submitReference(event) {
    event.preventDefault();
    const f = event.target.elements;
    const point = [Number(f.x.value), Number(f.y.value), Number(f.z.value)];
    moveReference(state.moveRef, point, f.radius_mm.value ? Number(f.radius_mm.value) : null);
  }

  function renderSstrRads(a) {
    const body = document.getElementById("sstr-rads-body");
    body.replaceChildren();
    const inputs = a.sstr_rads_inputs || {};
    const canEdit = a.status !== "signed" && ["physician", "admin"].includes(document.body.dataset.role);
    const counted = (a.lesions || []).filter((l) => l.status !== "rejected");
    for (const l of counted) {
      const given = inputs[String(l.id)] || {};
      const number = l.report_id ?? l.id;
      const text = (name, value, list, label) => NS.el("input", { name: `${name}-${l.id}`, value, list, size: "10",
        "aria-label": `${label} of lesion ${number}` });
      const box = (name, checked, label) => {
        const input = NS.el("input", { type: "checkbox", name: `${name}-${l.id}`, "aria-label": `${label}: lesion ${number}` });
        input.checked = Boolean(checked);
        return input;
      };
      body.append(NS.el("tr", { "data-testid": "sstr-rads-row", "data-lesion-id": l.id },
        NS.el("th", { scope: "row", text: `${number}` + (l.sstr_rads ? ` (${l.sstr_rads})` : "") }),
        NS.el("td", {}, text("site", given.site || "typical", "sstr-sites", "Site")),
        NS.el("td", {}, text("anatomy", given.anatomy || "none", "sstr-anatomy", "CT/MRI correlate")),
        NS.el("td", {}, box("bone", given.bone, "Bone lesion")),
        NS.el("td", {}, box("variant", given.variant, "Physiological variant"))));
    }
    if (!counted.length) body.append(NS.el("tr", {}, NS.el("td", { colspan: 5, text: "No lesion to score." })));
    document.querySelector("#sstr-rads-form [type=submit]").disabled = !canEdit || !counted.length;
  }

  async function submitSstrRads(event) {
    event.preventDefault();
    const out = document.getElementById("sstr-rads-error");
    out.textContent = "";
    const form = event.target;
    const lesions = {};
    for (const row of form.querySelectorAll("[data-testid=sstr-rads-row]")) {
      const id = row.dataset.lesionId;
      const get = (name) => form.elements[`${name}-${id}`];
      const entry = { site: get("site").value.trim(), anatomy: get("anatomy").value.trim(),
        bone: get("bone").checked, variant: get("variant").checked };
      if (entry.site !== "typical" || entry.anatomy !== "none" || entry.bone || entry.variant) lesions[id] = entry;
    }
    try {
      await NS.api(`/api/analyses/${encodeURIComponent(state.analysisId)}/sstr-rads`,
        { method: "PUT", body: { lesions } });
      await reload();
      edited("SSTR-RADS inputs saved; scores updated.");
    } catch (e) {
      out.textContent = e.message;
    }
  }

  async function undoLast() {
    error("");
    try {
      render(await NS.api(`/api/analyses/${encodeURIComponent(state.analysisId)}/undo`, { method: "POST" }));
      refreshOverlay();
      edited("Last edit undone; the previous scores are back.");
    } catch (e) {
      error(e.status === 409 ? "Nothing to undo." : "Could not undo: " + e.message);
    }
  }

  function edited(text) {
    const a = state.analysis;
    document.getElementById("edit-status").textContent = `${text} Version ${a ? a.version : "?"}.`;
  }

  async function reload() {
    render(await NS.api(`/api/analyses/${encodeURIComponent(state.analysisId)}`));
  }

  async function review(lesionId, status) {
    error("");
    try {
      await NS.api(`/api/analyses/${encodeURIComponent(state.analysisId)}/lesions/${encodeURIComponent(lesionId)}`,
        { method: "PATCH", body: { status } });
      await reload();
      refreshOverlay();
      edited(`Lesion ${lesionId} ${status}; scores updated.`);
    } catch (e) {
      error(`Could not mark lesion ${lesionId} ${status}: ${e.message}`);
    }
  }

  async function addLesion(rasMm) {
    const seed = rasToLps(rasMm).map((v) => Math.round(v * 10) / 10);
    error("");
    setAddMode(false);
    try {
      await NS.api(`/api/analyses/${encodeURIComponent(state.analysisId)}/lesions`, { method: "POST", body: { seed_mm: seed } });
      await reload();
      refreshOverlay();
      edited("Lesion added; scores updated.");
    } catch (e) {
      error(e.status === 409 ? "A lesion is already there." : `Could not add a lesion at ${seed.join(", ")} mm: ${e.message}`);
    }
  }

  function setAddMode(on) {
    state.addMode = on;
    const b = document.getElementById("add-lesion");
    b.setAttribute("aria-pressed", on ? "true" : "false");
    b.textContent = on ? "Click the lesion in the viewer… (Esc cancels)" : "Add lesion by click";
    document.getElementById("viewer").classList.toggle("adding", on);
  }

  async function sign(event) {
    event.preventDefault();
    error("");
    const sendTo = document.getElementById("send-to").value.trim();
    try {
      const answer = await NS.api(`/api/analyses/${encodeURIComponent(state.analysisId)}/sign`,
        { method: "POST", body: sendTo ? { send_to: sendTo } : {} });
      await reload();
      renderSigned(state.analysis, answer);
    } catch (e) {
      error(e.status === 403 ? "Only a physician can sign." : "Could not sign: " + e.message);
    }
  }

  // ---------------------------------------------------------------- viewer
  function jumpTo(centroidLps) {
    if (!state.nv || !centroidLps) return;
    const nv = state.nv;
    nv.scene.crosshairPos = nv.mm2frac(lpsToRas(centroidLps));
    nv.drawScene();
    showReadout();
  }

  function highlightRowNear(rasMm) {
    const lesions = (state.analysis && state.analysis.lesions) || [];
    let best = null, bestD = 15;
    for (const l of lesions) {
      if (!l.centroid_mm) continue;
      const c = lpsToRas(l.centroid_mm);
      const d = Math.hypot(c[0] - rasMm[0], c[1] - rasMm[1], c[2] - rasMm[2]);
      if (d < bestD) { best = l; bestD = d; }
    }
    for (const row of document.querySelectorAll("#lesions-body tr")) {
      row.classList.toggle("current", best !== null && row.dataset.lesionId === String(best.id));
    }
  }

  function showReadout(data) {
    const nv = state.nv;
    const mm = nv.frac2mm(nv.scene.crosshairPos);
    const values = [];
    for (const v of nv.volumes) {
      if (v.nsLabel === "lesions") continue;
      const vox = v.mm2vox(mm);
      const val = v.getValue(vox[0], vox[1], vox[2]);
      values.push(`${v.nsLabel} ${v.nsLabel === "CT" ? Math.round(val) + " HU" : NS.fmt(val, 2) + " g/mL"}`);
    }
    const lps = rasToLps([mm[0], mm[1], mm[2]]);
    document.getElementById("readout").textContent =
      `x ${NS.fmt(lps[0], 1)}, y ${NS.fmt(lps[1], 1)}, z ${NS.fmt(lps[2], 1)} mm (patient LPS) · ${values.join(" · ")}`;
    highlightRowNear([mm[0], mm[1], mm[2]]);
  }

  function applyView() {
    const nv = state.nv;
    if (!nv || nv.volumes.length < 1) return;
    const mode = document.getElementById("view-mode").value;
    const ct = nv.volumes.find((v) => v.nsLabel === "CT");
    const pet = nv.volumes.find((v) => v.nsLabel === "SUV");
    const suvMax = Number(document.getElementById("suv-max").value) || 10;
    const [lo, hi] = document.getElementById("ct-window").value.split(",").map(Number);
    if (ct && pet) {
      // The bottom layer is drawn opaque: put the one that is shown alone at the bottom
      // (before setting the display ranges: reordering recomputes them).
      const bottom = mode === "ct" || mode === "fused" ? ct : pet;
      if (nv.volumes[0] !== bottom) nv.setVolume(bottom, 0);
    }
    if (ct) { ct.cal_min = lo; ct.cal_max = hi; ct.opacity = mode === "fused" || mode === "ct" ? 1 : 0; }
    if (pet) {
      // fused: SUV below 2 is transparent so that the CT shows through
      // (the colour map first: setting it recomputes the display range)
      pet.colormap = mode === "pet" ? "gray" : "hot";
      pet.colormapInvert = mode === "pet";
      pet.cal_min = mode === "fused" ? Math.min(2, suvMax / 2) : 0;
      pet.cal_max = suvMax;
      pet.opacity = mode === "ct" ? 0 : mode === "fused" ? 0.7 : 1;
    }
    nv.opts.backColor = mode === "pet" ? [1, 1, 1, 1] : [0, 0, 0, 1];
    setLayout();
    nv.updateGLVolume();
  }

  function setLayout() {
    const nv = state.nv;
    const layout = document.getElementById("layout").value;
    const types = { multi: nv.sliceTypeMultiplanar, axial: nv.sliceTypeAxial, coronal: nv.sliceTypeCoronal, sagittal: nv.sliceTypeSagittal };
    nv.setSliceType(types[layout]);
  }

  async function startViewer() {
    const canvas = document.getElementById("viewer");
    const nv = new niivue.Niivue({
      backColor: [0, 0, 0, 1], crosshairColor: [0.2, 0.8, 1, 1], show3Dcrosshair: false,
      isColorbar: false, isRadiologicalConvention: true, multiplanarShowRender: niivue.SHOW_RENDER.NEVER, dragMode: 0, loadingText: "Loading…",
      onLocationChange: (data) => {
        if (state.addMode && data && data.mm) { addLesion([data.mm[0], data.mm[1], data.mm[2]]); }
        else if (state.moveRef && data && data.mm) {
          const f = document.getElementById("reference-form").elements;
          moveReference(state.moveRef, rasToLps([data.mm[0], data.mm[1], data.mm[2]]),
            f.radius_mm.value ? Number(f.radius_mm.value) : null);
        }
        showReadout(data);
      },
    });
    state.nv = nv;
    NS.viewer = nv; // for tests and the browser console
    await nv.attachToCanvas(canvas);
    nv.setMultiplanarLayout(3); // a row of planes, good on a wide screen
    const base = `/studies/${encodeURIComponent(studyId)}/volumes`;
    // Loaded with the display settings of the default view (fused), so that the first image
    // needs no second pass over the volumes (slow on a software WebGL renderer).
    const [lo, hi] = document.getElementById("ct-window").value.split(",").map(Number);
    const suvMax = Number(document.getElementById("suv-max").value) || 10;
    const layers = [
      { url: `${base}/ct.nii.gz`, name: "ct.nii.gz", colormap: "gray", cal_min: lo, cal_max: hi },
      { url: `${base}/pet.nii.gz`, name: "pet.nii.gz", colormap: "hot", opacity: 0.7,
        cal_min: Math.min(2, suvMax / 2), cal_max: suvMax },
    ];
    const marks = { start: Math.round(performance.now()) };
    try {
      await nv.loadVolumes(layers);
    } catch (e) {
      // A study without CT: show the PET alone.
      try { await nv.loadVolumes([layers[1]]); } catch (e2) { throw e; }
    }
    marks.loaded = Math.round(performance.now());
    for (const v of nv.volumes) v.nsLabel = v.name.startsWith("ct") ? "CT" : "SUV";
    if (nv.volumes.length === 2 && document.getElementById("view-mode").value === "fused") {
      setLayout();
      nv.drawScene();
    } else {
      applyView();
    }
    marks.drawn = Math.round(performance.now());
    canvas.dataset.marks = JSON.stringify(marks);
    // time from the start of the page load to the first image (docs/web.md reports it)
    canvas.dataset.loadedMs = String(Math.round(performance.now()));
    canvas.dataset.ready = "true";
    showReadout();
  }

  async function loadMip() {
    // Fetch the picture and its extent (for click-to-jump).
    const img = document.getElementById("mip");
    const base = `/studies/${encodeURIComponent(studyId)}/volumes`;
    try {
      const r = await fetch(`${base}/mip.png`, { credentials: "same-origin" });
      if (!r.ok) throw new Error(r.statusText);
      img.src = URL.createObjectURL(await r.blob());
      state.mip = await NS.api(`${base}/mip.json`);
      const w = Math.abs(state.mip.x_mm[1] - state.mip.x_mm[0]);
      const h = Math.abs(state.mip.z_mm[1] - state.mip.z_mm[0]);
      img.style.height = Math.round(img.clientWidth * h / w) + "px";
    } catch (e) {
      img.alt = "No MIP: " + e.message;
    }
  }

  // The lesion overlay: 1 = candidate, 2 = confirmed (rejected lesions are not drawn);
  // reloaded after every review edit.
  async function refreshOverlay() {
    const nv = state.nv;
    if (!nv || state.analysisId === null || !nv.volumes.length) return;
    const old = nv.volumes.find((v) => v.nsLabel === "lesions");
    const url = `/studies/${encodeURIComponent(studyId)}/volumes/lesions.nii.gz?analysis=${encodeURIComponent(state.analysisId)}&v=${Date.now()}`;
    try {
      if (old) nv.removeVolume(old);
      const layer = await nv.addVolumeFromUrl({ url, name: "lesions.nii.gz", colormap: "green", opacity: 0.45 });
      layer.nsLabel = "lesions";
      layer.cal_min = 0.5;
      layer.cal_max = 2;
      nv.updateGLVolume();
    } catch (e) {
      document.getElementById("readout").dataset.overlay = "none";
    }
  }

  function wireViewerControls() {
    for (const id of ["view-mode", "ct-window", "suv-max"]) {
      document.getElementById(id).addEventListener("change", applyView);
    }
    document.getElementById("layout").addEventListener("change", () => { if (state.nv) setLayout(); });
    document.getElementById("add-lesion").addEventListener("click", () => setAddMode(!state.addMode));
    document.addEventListener("keydown", (e) => {
      if (e.key === "Escape" && state.addMode) setAddMode(false);
      if (e.key === "Escape" && state.moveRef) stopMove();
    });
    document.getElementById("sign-form").addEventListener("submit", sign);
    document.getElementById("reference-form").addEventListener("submit", submitReference);
    document.getElementById("reference-cancel").addEventListener("click", stopMove);
    document.getElementById("sstr-rads-form").addEventListener("submit", submitSstrRads);
    document.getElementById("undo").addEventListener("click", undoLast);
    document.getElementById("mip").addEventListener("click", (e) => {
      const img = e.target, info = state.mip;
      if (!state.nv || !info) return;
      const fx = e.offsetX / img.clientWidth, fz = e.offsetY / img.clientHeight;
      const x = info.x_mm[0] + fx * (info.x_mm[1] - info.x_mm[0]);
      const z = info.z_mm[0] + fz * (info.z_mm[1] - info.z_mm[0]);
      const nv = state.nv;
      const now = nv.frac2mm(nv.scene.crosshairPos);
      // keep the current anterior-posterior position; x and z from the click (LPS -> RAS)
      nv.scene.crosshairPos = nv.mm2frac([-x, now[1], z]);
      document.getElementById("layout").value = "coronal";
      setLayout();
      nv.drawScene();
      showReadout();
    });
  }

  document.addEventListener("DOMContentLoaded", async function () {
    wireViewerControls();
    // The images do not depend on the analysis: start loading them at once.
    const viewer = startViewer().catch((e) => {
      document.getElementById("readout").textContent = "The images could not be shown: " + e.message;
    });
    loadMip();
    try {
      state.analysisId = await findAnalysis();
    } catch (e) {
      error("Could not open the study: " + e.message);
      await viewer;
      return;
    }
    if (state.analysisId === null) {
      error("This study has no analysis yet: start one from the worklist.");
    } else {
      try { await reload(); } catch (e) { error("Could not load the analysis: " + e.message); }
    }
    await viewer;
    await refreshOverlay();
  });
})();
