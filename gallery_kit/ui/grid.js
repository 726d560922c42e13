// The gallery grid and its lightbox. Everything from the kernel is put into the page with
// textContent / attributes, never innerHTML: prompts come from every user of the bucket.

function el(tag, cls, text) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

function render({ model, el: root }) {
  root.classList.add("gk-gallery");
  const grid = el("div", "gk-grid");
  grid.setAttribute("role", "list");
  const empty = el("div", "gk-empty");
  const more = el("button", "gk-load-more", "Load more");
  more.type = "button";
  const box = el("div", "gk-lightbox");
  box.setAttribute("role", "dialog");
  box.setAttribute("aria-modal", "true");
  box.hidden = true;
  root.append(grid, empty, more);
  // The lightbox lives on <body>: page containers set `contain`/transforms that would trap a
  // fixed-position overlay inside them.
  document.body.append(box);

  const send = (msg) => model.send(msg);
  // Thumbnails come as WebP bytes in "thumbs" messages (not in `items`, so an update never
  // resends them); each becomes a blob: URL, kept for as long as the page lives.
  const thumbs = new Map();
  model.on("msg:custom", (msg, buffers) => {
    if (!msg || msg.type !== "thumbs" || !Array.isArray(msg.ids)) return;
    msg.ids.forEach((id, i) => {
      if (!buffers || !buffers[i]) return;
      const url = URL.createObjectURL(new Blob([buffers[i]], { type: "image/webp" }));
      const old = thumbs.get(id);
      thumbs.set(id, url);
      for (const fig of grid.children) {
        if (fig.dataset.id === id) fig.querySelector("img").src = url;
      }
      if (old) URL.revokeObjectURL(old);
    });
  });
  more.addEventListener("click", () => {
    more.disabled = true;
    more.textContent = "Loading…";
    send({ type: "load_more" });
  });

  function tile(item) {
    const fig = el("figure", "gk-thumb");
    fig.setAttribute("role", "listitem");
    fig.dataset.id = item.id;
    fig.tabIndex = 0;
    fig.title = item.prompt;
    const img = document.createElement("img");
    img.alt = item.prompt;
    img.loading = "lazy";
    img.decoding = "async";
    img.width = item.tw || 256;
    img.height = item.th || 256;
    if (thumbs.has(item.id)) img.src = thumbs.get(item.id);
    if (item.transparent) img.classList.add("gk-checker");
    img.addEventListener("error", () => send({ type: "thumb_error", id: item.id }), { once: true });
    const cap = el("figcaption", "gk-caption", item.caption);
    fig.append(img, cap);
    if (item.pending) fig.append(el("span", "gk-badge gk-pending", "waiting to upload"));
    if (item.badge) fig.append(el("span", "gk-badge", item.badge));
    const open = () => send({ type: "open", id: item.id });
    fig.addEventListener("click", open);
    fig.addEventListener("keydown", (e) => {
      if (e.key === "Enter" || e.key === " ") { e.preventDefault(); open(); }
    });
    return fig;
  }

  function drawGrid() {
    const items = model.get("items") || [];
    // Reuse tiles that did not change, so images do not reload on every update.
    const old = new Map();
    for (const node of grid.children) old.set(node.dataset.key, node);
    const nodes = items.map((item) => {
      const key = [item.id, item.pending, item.caption, item.badge].join("\u0000");
      const existing = old.get(key);
      if (existing) return existing;
      const node = tile(item);
      node.dataset.key = key;
      return node;
    });
    grid.replaceChildren(...nodes);
    empty.textContent = items.length ? "" : (model.get("empty_text") || "");
    empty.hidden = items.length > 0;
    more.hidden = !model.get("has_more");
    more.disabled = !!model.get("loading");
    more.textContent = model.get("loading") ? "Loading…" : "Load more";
  }

  function row(table, label, value) {
    if (value === null || value === undefined || value === "") return;
    const tr = el("tr");
    tr.append(el("th", null, label), el("td", null, value));
    table.append(tr);
  }

  // The inputs an operation needs, shown under its button; "Run" sends them to the kernel.
  function openForm(form, d, op) {
    form.replaceChildren();
    form.hidden = false;
    form.dataset.op = op.name;
    const inputs = {};
    for (const f of op.fields || []) {
      const label = el("label", "gk-op-field");
      label.append(el("span", null, f.label));
      const input = document.createElement("input");
      input.className = `gk-op-${f.name}`;
      input.type = f.type || "text";
      if (f.min !== undefined) input.min = f.min;
      if (f.max !== undefined) input.max = f.max;
      if (f.step !== undefined) input.step = f.step;
      if (f.placeholder) input.placeholder = f.placeholder;
      if (f.value !== undefined && f.value !== null) input.value = String(f.value);
      if (f.required) input.required = true;
      label.append(input);
      form.append(label);
      inputs[f.name] = input;
    }
    const run = el("button", "gk-op-run", op.fields && op.fields.length ? `Run: ${op.label}` : op.label);
    run.type = "submit";
    const cancel = el("button", "gk-op-cancel", "Cancel");
    cancel.type = "button";
    cancel.addEventListener("click", () => { form.hidden = true; form.replaceChildren(); });
    form.append(run, cancel);
    form.onsubmit = (e) => {
      e.preventDefault();
      const params = {};
      for (const [name, input] of Object.entries(inputs)) params[name] = input.value;
      run.disabled = true;
      send({ type: "operation", id: d.id, name: op.name, params });
    };
    const first = Object.values(inputs)[0];
    if (first) first.focus(); else run.focus();
  }

  function close() {
    send({ type: "close" });
  }

  function drawBox() {
    const d = model.get("detail") || {};
    if (!d.id) {
      box.hidden = true;
      box.replaceChildren();
      return;
    }
    const panel = el("div", "gk-lightbox-panel");
    panel.dataset.id = d.id;
    const figure = el("div", "gk-lightbox-image");
    const img = document.createElement("img");
    img.alt = d.prompt;
    if (d.src) img.src = d.src;
    if (d.transparent) figure.classList.add("gk-checker");
    figure.append(img);

    const info = el("div", "gk-lightbox-info");
    const closeBtn = el("button", "gk-close", "×");
    closeBtn.type = "button";
    closeBtn.title = "Close (Esc)";
    closeBtn.addEventListener("click", close);
    info.append(closeBtn);
    if (d.pending) info.append(el("div", "gk-badge gk-pending", "waiting to upload"));
    info.append(el("h3", "gk-detail-title", "Prompt"));
    info.append(el("p", "gk-detail-prompt", d.prompt));
    if (d.negative_prompt) {
      info.append(el("h3", "gk-detail-title", "Negative prompt"));
      info.append(el("p", "gk-detail-negative", d.negative_prompt));
    }
    const table = el("table", "gk-detail-settings");
    for (const [label, value] of d.settings || []) row(table, label, value);
    info.append(table);

    const actions = el("div", "gk-actions");
    const reuse = el("button", "gk-reuse", "Use these settings");
    reuse.type = "button";
    reuse.addEventListener("click", () => send({ type: "reuse", id: d.id }));
    const download = el("a", "gk-download", "Download original");
    download.setAttribute("role", "button");
    if (d.download_url) download.href = d.download_url;
    if (d.filename) download.setAttribute("download", d.filename);
    const del = el("button", "gk-delete", "Delete");
    del.type = "button";
    del.addEventListener("click", () => {
      if (window.confirm("Delete this image for everyone who shares the gallery?")) {
        del.disabled = true;
        send({ type: "delete", id: d.id });
      }
    });
    actions.append(reuse, download, del);
    info.append(actions);

    if ((d.lineage || []).length) {
      info.append(el("h3", "gk-detail-title", "Lineage"));
      const list = el("ul", "gk-lineage");
      for (const link of d.lineage) {
        const li = el("li");
        const a = el("a", "gk-lineage-link", `${link.relation}: ${link.label}`);
        a.href = "#";
        a.dataset.id = link.id;
        a.addEventListener("click", (e) => { e.preventDefault(); send({ type: "open", id: link.id }); });
        li.append(a);
        list.append(li);
      }
      info.append(list);
    }
    if ((d.operations || []).length) {
      info.append(el("h3", "gk-detail-title", "Make more from this image"));
      const ops = el("div", "gk-operations");
      const form = el("form", "gk-op-form");
      form.hidden = true;
      for (const op of d.operations) {
        const b = el("button", `gk-op gk-op-${op.name}`, op.label);
        b.type = "button";
        if (op.disabled) {
          b.disabled = true;
          b.title = op.disabled;
        } else {
          b.title = op.help || "";
          b.addEventListener("click", () => openForm(form, d, op));
        }
        if (d.busy) b.disabled = true;
        ops.append(b);
      }
      info.append(ops, form);
    }
    if (d.message) info.append(el("div", "gk-detail-message", d.message));

    panel.append(figure, info);
    box.replaceChildren(panel);
    box.hidden = false;
  }

  box.addEventListener("click", (e) => { if (e.target === box) close(); });
  const onKey = (e) => {
    if (box.hidden) return;
    if (e.key === "Escape") close();
    if (e.key === "ArrowRight" || e.key === "ArrowLeft") {
      send({ type: "step", id: (model.get("detail") || {}).id, by: e.key === "ArrowRight" ? 1 : -1 });
    }
  };
  document.addEventListener("keydown", onKey);

  // Other users' new images: ask the kernel now and then (stops when the page closes).
  const every = model.get("poll_ms");
  const timer = every > 0 ? setInterval(() => send({ type: "poll" }), every) : null;

  model.on("change:items", drawGrid);
  model.on("change:has_more", drawGrid);
  model.on("change:loading", drawGrid);
  model.on("change:empty_text", drawGrid);
  model.on("change:detail", drawBox);
  drawGrid();
  drawBox();
  send({ type: "ready" });
  return () => {
    if (timer) clearInterval(timer);
    document.removeEventListener("keydown", onKey);
    box.remove();
    for (const url of thumbs.values()) URL.revokeObjectURL(url);
  };
}

export default { render };
