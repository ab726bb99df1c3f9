/* nianbao web page: uploads, progress polling and small helpers. Plain JavaScript, no build step, no
   outside resources; part of nianbao (MIT). Every text it shows comes from the page (data-text-* attributes). */
"use strict";

(function () {
  const csrf = document.querySelector('meta[name="csrf-token"]').content;

  function say(template, values) {
    return template.replace(/\{(\w+)\}/g, (m, k) => (k in values ? String(values[k]) : m));
  }

  async function post(url, body, headers) {
    const response = await fetch(url, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: Object.assign({ "X-CSRF-Token": csrf }, headers || {}),
    });
    let data = {};
    try { data = await response.json(); } catch (e) { data = {}; }
    return { ok: response.ok, status: response.status, data: data };
  }

  async function sendFile(url, file, name) {
    return post(url, file, { "X-File-Name": encodeURIComponent(name), "Content-Type": "application/octet-stream" });
  }

  // Files of a dropped folder, each with its path inside the folder.
  function walk(entry, prefix, out) {
    return new Promise((resolve) => {
      if (entry.isFile) {
        entry.file((f) => { out.push({ file: f, name: prefix + f.name }); resolve(); }, () => resolve());
      } else if (entry.isDirectory) {
        const reader = entry.createReader();
        const all = [];
        const more = () => reader.readEntries(async (batch) => {
          if (!batch.length) {
            for (const e of all) { await walk(e, prefix + entry.name + "/", out); }
            resolve();
          } else { all.push(...batch); more(); }
        }, () => resolve());
        more();
      } else { resolve(); }
    });
  }

  function collect(section) {
    const chosen = [];
    const drop = document.getElementById("drop");
    const send = document.getElementById("send");
    const shown = document.getElementById("chosen");
    const status = document.getElementById("upload-status");
    const bar = document.getElementById("upload-progress");
    const errors = document.getElementById("upload-errors");
    const text = section.dataset;

    function update() {
      shown.textContent = chosen.length ? say(text.textChosen, { count: chosen.length }) : "";
      send.disabled = chosen.length === 0;
    }
    function addFiles(list) {
      for (const f of list) { chosen.push({ file: f, name: f.webkitRelativePath || f.name }); }
      update();
    }
    document.getElementById("pick-files").addEventListener("change", (e) => addFiles(e.target.files));
    document.getElementById("pick-folder").addEventListener("change", (e) => addFiles(e.target.files));
    drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
    drop.addEventListener("dragleave", () => drop.classList.remove("over"));
    drop.addEventListener("drop", async (e) => {
      e.preventDefault();
      drop.classList.remove("over");
      const items = Array.from(e.dataTransfer.items || []);
      const entries = items.map((i) => (i.webkitGetAsEntry ? i.webkitGetAsEntry() : null));
      if (entries.length && entries.every((x) => x)) {
        const out = [];
        for (const entry of entries) { await walk(entry, "", out); }
        chosen.push(...out);
        update();
      } else { addFiles(e.dataTransfer.files); }
    });
    send.addEventListener("click", async () => {
      if (!chosen.length) { status.textContent = text.textNone; return; }
      send.disabled = true;
      errors.textContent = "";
      const opened = await post("/collect");
      if (!opened.ok) { status.textContent = opened.data.message || text.textFailed; return; }
      const batch = opened.data;
      bar.hidden = false;
      bar.max = chosen.length;
      let done = 0;
      // Four files at a time: the server writes each straight into its private folder.
      const queue = chosen.slice();
      async function worker() {
        while (queue.length) {
          const next = queue.shift();
          const sent = await sendFile(batch.files, next.file, next.name);
          if (!sent.ok) {
            const li = document.createElement("li");
            li.textContent = sent.data.message || say(text.textFailed, { name: next.name });
            errors.appendChild(li);
          }
          done += 1;
          bar.value = done;
          status.textContent = say(text.textUploading, { done: done, total: chosen.length });
        }
      }
      await Promise.all([worker(), worker(), worker(), worker()]);
      status.textContent = text.textStarting;
      const started = await post(batch.start);
      window.location.assign(started.data.page || batch.page);
    });
  }

  function poll(section) {
    const bar = document.getElementById("read-progress");
    const status = document.getElementById("read-status");
    async function tick() {
      let data = null;
      try {
        const response = await fetch(section.dataset.progress, { credentials: "same-origin" });
        data = await response.json();
      } catch (e) { data = null; }
      if (data) {
        bar.max = Math.max(1, data.total);
        bar.value = data.done;
        status.textContent = say(section.dataset.textReading, { done: data.done, total: data.total });
        if (data.state === "done" || data.state === "failed") { window.location.reload(); return; }
      }
      window.setTimeout(tick, 300);
    }
    window.setTimeout(tick, 200);
  }

  function reconcile(section) {
    const input = document.getElementById("pick-workbook");
    const status = document.getElementById("upload-status");
    input.addEventListener("change", async () => {
      const file = input.files[0];
      if (!file) { return; }
      status.textContent = say(section.dataset.textUploading, { done: 0, total: 1 });
      const sent = await sendFile("/store/reconcile", file, file.name);
      if (sent.ok && sent.data.page) { window.location.assign(sent.data.page); return; }
      status.textContent = sent.data.message || say(section.dataset.textFailed, { name: file.name });
    });
  }

  function checks() {
    for (const button of document.querySelectorAll("button[data-check]")) {
      button.addEventListener("click", () => {
        const on = button.dataset.check === "all";
        for (const box of document.querySelectorAll('input[name="pick"]')) { box.checked = on; }
      });
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    const upload = document.getElementById("upload");
    if (upload) { collect(upload); }
    const reading = document.getElementById("reading");
    if (reading) { poll(reading); }
    const rec = document.getElementById("reconcile");
    if (rec) { reconcile(rec); }
    checks();
  });
})();
