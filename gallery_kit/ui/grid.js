// The gallery grid, its picker, selection bar, lightbox, compare view and Undo toast.
// Everything from the kernel is put into the page with textContent / attributes, never
// innerHTML: prompts and board names come from every user of the bucket.

function el(tag, cls, text) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

function button(cls, text, title) {
  const b = el("button", cls, text);
  b.type = "button";
  if (title) b.title = title;
  return b;
}

// Keys typed into a text field are the field's own (Ctrl+A selects its text, f is a letter).
function typing(e) {
  const t = e.target;
  if (!t) return false;
  if (t.tagName === "INPUT") return !/^(checkbox|radio|button|submit|range|color)$/.test(t.type);
  return t.isContentEditable || /^(TEXTAREA|SELECT)$/.test(t.tagName || "");
}

const TOAST_MS = 10_000;

function render({ model, el: root }) {
  root.classList.add("gk-gallery");
  const picker = el("div", "gk-board-picker");
  picker.setAttribute("role", "toolbar");
  picker.setAttribute("aria-label", "Show");
  const exportBox = el("div", "gk-export");
  exportBox.hidden = true;
  const trashBar = el("div", "gk-trash-view");
  trashBar.hidden = true;
  const selBar = el("div", "gk-selection-bar");
  selBar.setAttribute("role", "toolbar");
  selBar.hidden = true;
  const grid = el("div", "gk-grid");
  grid.setAttribute("role", "list");
  const empty = el("div", "gk-empty");
  const more = button("gk-load-more", "Load more");
  root.append(picker, exportBox, trashBar, selBar, grid, empty, more);
  // Overlays live on <body>: page containers set `contain`/transforms that would trap a
  // fixed-position overlay inside them.
  const box = el("div", "gk-lightbox");
  box.setAttribute("role", "dialog");
  box.setAttribute("aria-modal", "true");
  box.hidden = true;
  const cmp = el("div", "gk-compare");
  cmp.setAttribute("role", "dialog");
  cmp.setAttribute("aria-modal", "true");
  cmp.hidden = true;
  const toast = el("div", "gk-undo");
  toast.setAttribute("role", "status");
  toast.hidden = true;
  document.body.append(box, cmp, toast);

  const send = (msg) => model.send(msg);
  // The tiles, kept here: the kernel sends what changed ("items" messages), never the whole
  // list again for a new page.
  let list = [];
  const items = () => list;
  function applyItems(msg) {
    const got = Array.isArray(msg.items) ? msg.items : [];
    if (msg.op === "append") list = list.concat(got);
    else if (msg.op === "prepend") list = got.concat(list);
    else if (msg.op === "update") {
      const by = new Map(got.map((i) => [i.id, i]));
      list = list.map((i) => by.get(i.id) || i);
    } else if (msg.op === "remove") {
      const gone = new Set(msg.ids || []);
      list = list.filter((i) => !gone.has(i.id));
    } else list = got;
    drawGrid();
  }
  const view = () => model.get("view") || "all";
  const inTrash = () => view() === "trash";
  const boards = () => (model.get("views") || []).filter((v) => v.board);

  // --- thumbnails: WebP bytes in "thumbs" messages, each a blob: URL for the page's life ---
  const thumbs = new Map();
  model.on("msg:custom", (msg, buffers) => {
    if (msg && msg.type === "items") { applyItems(msg); return; }
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

  // --- selection: kept in the page; actions send the ids -----------------------------------
  const selected = new Set();
  let anchor = null;

  function select(id, how) {
    const ids = items().map((i) => i.id);
    if (how === "range" && anchor && ids.includes(anchor)) {
      const [a, b] = [ids.indexOf(anchor), ids.indexOf(id)].sort((x, y) => x - y);
      for (const i of ids.slice(a, b + 1)) selected.add(i);
    } else if (selected.has(id)) {
      selected.delete(id);
    } else {
      selected.add(id);
    }
    anchor = id;
    drawSelection();
  }

  function clearSelection() {
    selected.clear();
    anchor = null;
    drawSelection();
  }

  function drawSelection() {
    const shown = new Set(items().map((i) => i.id));
    for (const id of [...selected]) if (!shown.has(id)) selected.delete(id);
    for (const fig of grid.children) {
      const on = selected.has(fig.dataset.id);
      fig.classList.toggle("gk-selected", on);
      fig.setAttribute("aria-selected", on ? "true" : "false");
      const box = fig.querySelector(".gk-select");
      if (box) box.checked = on;
    }
    grid.classList.toggle("gk-selecting", selected.size > 0);
    drawSelBar();
  }

  function boardChooser(cls, ids, after) {
    const pick = el("select", cls);
    pick.setAttribute("aria-label", "Add to board");
    pick.append(new Option("Add to board…", ""));
    for (const b of boards()) pick.append(new Option(b.label, b.key));
    pick.append(new Option("New board…", "new"));
    pick.addEventListener("change", () => {
      const key = pick.value;
      pick.value = "";
      pick.blur(); // the keys (Esc, f, arrows) are the gallery's again
      if (key === "new") {
        nameForm(pick, "", "Create", (name) => send({ type: "board_create", name, ids: ids() }));
      } else if (key) {
        send({ type: "board_add", board: key, ids: ids() });
        if (after) after();
      }
    });
    return pick;
  }

  let barSig = "";
  function drawSelBar() {
    const ids = () => items().map((i) => i.id).filter((id) => selected.has(id));
    // Rebuilt only when what it offers changes: a poll must not wipe a board name being typed.
    const starredNow = items().filter((i) => i.favorite && selected.has(i.id)).length;
    const sig = [selected.size, starredNow, view(), boards().map((b) => b.key + b.label).join()].join("|");
    if (sig === barSig) return;
    barSig = sig;
    selBar.replaceChildren();
    selBar.hidden = selected.size === 0;
    if (!selected.size) return;
    selBar.append(el("span", "gk-selection-count", `${selected.size} selected`));
    if (inTrash()) {
      const restore = button("gk-sel-restore", "Restore");
      restore.addEventListener("click", () => { send({ type: "restore", ids: ids() }); clearSelection(); });
      const purge = button("gk-sel-purge", "Delete forever");
      purge.addEventListener("click", () => {
        if (window.confirm(`Delete ${selected.size} image(s) for good, for everyone?`)) {
          send({ type: "purge", ids: ids() });
          clearSelection();
        }
      });
      selBar.append(restore, purge);
    } else {
      const starred = new Set(items().filter((i) => i.favorite).map((i) => i.id));
      const allStarred = ids().every((id) => starred.has(id));
      const fav = button("gk-sel-favorite", allStarred ? "☆ Unstar" : "★ Favourite");
      fav.addEventListener("click", () => send({ type: "favorite", ids: ids(), on: !allStarred }));
      selBar.append(fav, boardChooser("gk-sel-board", ids));
      if (view().startsWith("board:")) {
        const off = button("gk-sel-unboard", "Remove from board");
        off.addEventListener("click", () => {
          send({ type: "board_remove", board: view(), ids: ids() });
          clearSelection();
        });
        selBar.append(off);
      }
      const zip = button("gk-sel-zip", "Download ZIP");
      zip.addEventListener("click", () => send({ type: "export", ids: ids() }));
      const trash = button("gk-sel-trash", "Move to trash");
      trash.addEventListener("click", () => { send({ type: "trash", ids: ids() }); clearSelection(); });
      const compare = button("gk-sel-compare", "Compare", "Side by side (2 to 4 images)");
      compare.disabled = selected.size < 2 || selected.size > 4;
      compare.addEventListener("click", () => send({ type: "compare", ids: ids() }));
      selBar.append(zip, trash, compare);
    }
    const clear = button("gk-sel-clear", "Clear", "Clear the selection (Esc)");
    clear.addEventListener("click", clearSelection);
    selBar.append(clear);
  }

  // --- the picker: All images, Favourites, each board with its count, Trash -----------------
  function nameForm(anchorNode, value, verb, done) {
    const form = el("form", "gk-board-form");
    const input = el("input", "gk-board-name");
    input.maxLength = 80;
    input.required = true;
    input.value = value;
    input.placeholder = "Board name";
    input.setAttribute("aria-label", "Board name");
    const ok = button("gk-board-ok", verb);
    ok.type = "submit";
    const cancel = button("gk-board-cancel", "Cancel");
    cancel.addEventListener("click", () => form.remove());
    form.append(input, ok, cancel);
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      if (input.value.trim()) done(input.value);
      form.remove();
    });
    anchorNode.after(form);
    input.focus();
    input.select();
  }

  function drawPicker() {
    picker.replaceChildren();
    const views = model.get("views") || [];
    for (const v of views) {
      const b = button(`gk-view gk-view-${v.board ? "board" : v.key}`);
      b.dataset.key = v.key;
      b.setAttribute("aria-pressed", v.key === view() ? "true" : "false");
      b.append(el("span", "gk-view-label", v.label));
      if (v.count !== null && v.count !== undefined) b.append(el("span", "gk-view-count", v.count));
      b.addEventListener("click", () => { clearSelection(); send({ type: "view", key: v.key }); });
      picker.append(b);
    }
    if (!views.length) return;
    const add = button("gk-new-board", "+ New board");
    add.addEventListener("click", () => nameForm(add, "", "Create", (name) => send({ type: "board_create", name })));
    picker.append(add);
    const current = views.find((v) => v.key === view());
    if (current && current.board) {
      const rename = button("gk-rename-board", "Rename");
      rename.addEventListener("click", () =>
        nameForm(rename, current.label, "Rename", (name) => send({ type: "board_rename", board: current.key, name })));
      const del = button("gk-delete-board", "Delete board");
      del.addEventListener("click", () => {
        if (window.confirm(`Delete the board “${current.label}”? Its images stay in the gallery.`)) {
          send({ type: "board_delete", board: current.key });
        }
      });
      picker.append(rename, del);
    }
    if (!inTrash()) {
      const zip = button("gk-export-view", "Download ZIP", "Everything this view and search match");
      zip.addEventListener("click", () => send({ type: "export" }));
      picker.append(zip);
    }
    trashBar.hidden = !inTrash();
    if (inTrash()) {
      trashBar.replaceChildren(el("span", null, "Trash: restore images, or delete them for good. Old ones go by themselves."));
      const emptyBtn = button("gk-empty-trash", "Empty trash");
      emptyBtn.addEventListener("click", () => {
        if (window.confirm("Delete everything in the trash for good, for everyone?")) send({ type: "empty_trash" });
      });
      trashBar.append(emptyBtn);
    }
  }

  // --- tiles --------------------------------------------------------------------------------
  function open(id) { send({ type: "open", id }); }

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
    fig.append(img, el("figcaption", "gk-caption", item.caption));
    if (item.pending) fig.append(el("span", "gk-badge gk-pending", "waiting to upload"));
    if (item.badge) fig.append(el("span", "gk-badge", item.badge));
    const check = document.createElement("input");
    check.type = "checkbox";
    check.className = "gk-select";
    check.tabIndex = -1;
    check.setAttribute("aria-label", "Select");
    check.addEventListener("click", (e) => {
      e.stopPropagation(); // (not preventDefault: that would undo the state set below)
      select(item.id, e.shiftKey ? "range" : "toggle");
    });
    fig.append(check);
    if (!item.trashed) {
      const star = button("gk-star", "", "Favourite (f)");
      star.tabIndex = -1;
      star.addEventListener("click", (e) => {
        e.stopPropagation();
        send({ type: "favorite", ids: [item.id], on: star.getAttribute("aria-pressed") !== "true" });
      });
      fig.append(star);
    }
    fig.addEventListener("click", (e) => {
      if (e.shiftKey) select(item.id, "range");
      else if (e.ctrlKey || e.metaKey || selected.size) select(item.id, "toggle");
      else open(item.id);
    });
    return fig;
  }

  function decorate(fig, item) {
    const star = fig.querySelector(".gk-star");
    if (star) {
      star.setAttribute("aria-pressed", item.favorite ? "true" : "false");
      star.textContent = item.favorite ? "★" : "☆";
      star.setAttribute("aria-label", item.favorite ? "Unstar" : "Favourite");
    }
  }

  function drawGrid() {
    const list = items();
    const trash = inTrash();
    const old = new Map();
    for (const node of grid.children) old.set(node.dataset.key, node);
    const nodes = list.map((item) => {
      const key = [item.id, item.pending, item.caption, item.badge, trash].join("\u0000");
      const node = old.get(key) || tile({ ...item, trashed: trash });
      node.dataset.key = key;
      decorate(node, item);
      return node;
    });
    const focused = document.activeElement && document.activeElement.closest && document.activeElement.closest(".gk-thumb");
    grid.replaceChildren(...nodes);
    if (focused && !grid.contains(focused)) {
      const again = nodes.find((n) => n.dataset.id === focused.dataset.id);
      if (again) again.focus();
    }
    empty.textContent = list.length ? "" : (model.get("empty_text") || "");
    empty.hidden = list.length > 0;
    more.hidden = !model.get("has_more");
    more.disabled = !!model.get("loading");
    more.textContent = model.get("loading") ? "Loading…" : "Load more";
    drawSelection();
  }

  // Arrow keys move the focus through the grid (Up/Down by a row), Enter opens, Space selects.
  function columns() {
    const tiles = [...grid.children];
    if (!tiles.length) return 1;
    const top = tiles[0].offsetTop;
    const n = tiles.findIndex((t) => t.offsetTop !== top);
    return n === -1 ? tiles.length : n;
  }

  grid.addEventListener("keydown", (e) => {
    const fig = e.target.closest && e.target.closest(".gk-thumb");
    if (!fig || e.target !== fig) return;
    const tiles = [...grid.children];
    const at = tiles.indexOf(fig);
    const step = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: columns(), ArrowUp: -columns() }[e.key];
    if (step) {
      e.preventDefault();
      const next = tiles[Math.max(0, Math.min(tiles.length - 1, at + step))];
      next.focus();
      if (e.shiftKey) select(next.dataset.id, "range");
    } else if (e.key === "Enter") {
      e.preventDefault();
      open(fig.dataset.id);
    } else if (e.key === " ") {
      e.preventDefault();
      select(fig.dataset.id, e.shiftKey ? "range" : "toggle");
    } else if (e.key === "f" && !inTrash()) {
      const item = items().find((i) => i.id === fig.dataset.id);
      if (item) send({ type: "favorite", ids: [item.id], on: !item.favorite });
    } else if ((e.key === "Delete" || e.key === "Backspace") && !inTrash()) {
      e.preventDefault();
      const ids = selected.size ? [...selected] : [fig.dataset.id];
      (tiles[at + 1] || tiles[at - 1] || fig).focus();
      send({ type: "trash", ids });
      clearSelection();
    }
  });

  // --- the lightbox ---------------------------------------------------------------------------
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
    const cancel = button("gk-op-cancel", "Cancel");
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

  function close() { send({ type: "close" }); }
  const detail = () => model.get("detail") || {};
  const toggleStar = (d) => send({ type: "favorite", ids: [d.id], on: !d.favorite });
  const trashOpen = (d) => send({ type: "trash", ids: [d.id] });

  function drawBox() {
    const d = detail();
    if (!d.id) {
      box.hidden = true;
      box.replaceChildren();
      return;
    }
    const panel = el("div", "gk-lightbox-panel");
    panel.dataset.id = d.id;
    panel.tabIndex = -1;
    const figure = el("div", "gk-lightbox-image");
    const img = document.createElement("img");
    img.alt = d.prompt;
    if (d.src) img.src = d.src;
    if (d.transparent) figure.classList.add("gk-checker");
    figure.append(img);

    const info = el("div", "gk-lightbox-info");
    const closeBtn = button("gk-close", "×", "Close (Esc)");
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
    if (d.created_by || d.cost) {
      const who = d.created_by ? `Made by ${d.created_by}` : "Made";
      info.append(el("p", "gk-made-by", d.cost ? `${who} · ${d.cost}` : who));
    }
    if ((d.boards || []).length) info.append(el("p", "gk-detail-boards", `On boards: ${d.boards.join(", ")}`));

    const actions = el("div", "gk-actions");
    if (!d.trashed) {
      const star = button("gk-star", d.favorite ? "★ Favourite" : "☆ Favourite", "Favourite (f)");
      star.setAttribute("aria-pressed", d.favorite ? "true" : "false");
      star.addEventListener("click", () => toggleStar(d));
      actions.append(star);
    }
    const reuse = button("gk-reuse", "Use these settings");
    reuse.addEventListener("click", () => send({ type: "reuse", id: d.id }));
    const download = el("a", "gk-download", "Download original");
    download.setAttribute("role", "button");
    if (d.download_url) download.href = d.download_url;
    if (d.filename) download.setAttribute("download", d.filename);
    actions.append(reuse, download);
    if (d.trashed) {
      const restore = button("gk-restore", "Restore");
      restore.addEventListener("click", () => { send({ type: "restore", ids: [d.id] }); close(); });
      const purge = button("gk-purge", "Delete forever");
      purge.addEventListener("click", () => {
        if (window.confirm("Delete this image for good, for everyone who shares the gallery?")) {
          send({ type: "purge", ids: [d.id] });
          close();
        }
      });
      actions.append(restore, purge);
    } else {
      const del = button("gk-delete", "Move to trash", "Move to trash (Delete); Undo for 10 s");
      del.addEventListener("click", () => { del.disabled = true; trashOpen(d); });
      actions.append(del, boardChooser("gk-lightbox-board", () => [d.id]));
    }
    info.append(actions);

    if ((d.lineage || []).length) {
      info.append(el("h3", "gk-detail-title", "Lineage"));
      const list = el("ul", "gk-lineage");
      for (const link of d.lineage) {
        const li = el("li");
        const a = el("a", "gk-lineage-link", `${link.relation}: ${link.label}`);
        a.href = "#";
        a.dataset.id = link.id;
        a.addEventListener("click", (e) => { e.preventDefault(); open(link.id); });
        li.append(a);
        list.append(li);
      }
      info.append(list);
    }
    if ((d.operations || []).length && !d.trashed) {
      info.append(el("h3", "gk-detail-title", "Make more from this image"));
      const ops = el("div", "gk-operations");
      const form = el("form", "gk-op-form");
      form.hidden = true;
      for (const op of d.operations) {
        const b = button(`gk-op gk-op-${op.name}`, op.label);
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
    const same = box.firstChild && box.firstChild.dataset.id === d.id;
    box.replaceChildren(panel);
    box.hidden = false;
    if (!same) panel.focus();
  }
  box.addEventListener("click", (e) => { if (e.target === box) close(); });

  // --- compare: 2 to 4 images at one scale, their settings in rows, differences marked -------
  let current = 0;
  function drawCompare() {
    const c = model.get("compare") || {};
    const list = c.items || [];
    cmp.hidden = !list.length;
    cmp.replaceChildren();
    if (!list.length) return;
    current = Math.min(current, list.length - 1);
    const panel = el("div", "gk-compare-panel");
    const head = el("div", "gk-compare-head");
    head.append(el("h3", "gk-compare-title", `Compare ${list.length} images`),
      el("span", "gk-compare-hint", "←/→ step · Esc closes"));
    const closeBtn = button("gk-close", "×", "Close (Esc)");
    closeBtn.addEventListener("click", () => send({ type: "close_compare" }));
    head.append(closeBtn);
    const images = el("div", "gk-compare-images");
    images.style.gridTemplateColumns = `repeat(${list.length}, minmax(0, 1fr))`;
    const imgs = list.map((item, i) => {
      const fig = el("figure", "gk-compare-item");
      fig.dataset.id = item.id;
      fig.classList.toggle("gk-current", i === current);
      const img = document.createElement("img");
      img.alt = item.prompt;
      img.src = item.src;
      fig.append(img, el("figcaption", null, `${i + 1}`));
      fig.addEventListener("click", () => { current = i; mark(); });
      images.append(fig);
      return img;
    });
    const table = el("table", "gk-compare-table");
    for (const r of c.rows || []) {
      const tr = el("tr", r.differ ? "gk-diff" : null);
      tr.append(el("th", null, r.label));
      r.values.forEach((v, i) => {
        const td = el("td", r.differ ? "gk-diff" : null, v);
        td.dataset.col = i;
        tr.append(td);
      });
      table.append(tr);
    }
    panel.append(head, images, table);
    cmp.append(panel);
    // One scale for all: the largest that fits every image in its column.
    requestAnimationFrame(() => {
      const colW = images.clientWidth / list.length - 12;
      const maxH = window.innerHeight * 0.55;
      const scale = Math.min(...list.map((it) => Math.min(colW / (it.width || 1), maxH / (it.height || 1))));
      list.forEach((it, i) => {
        imgs[i].style.width = `${Math.round((it.width || 1) * scale)}px`;
        imgs[i].style.height = `${Math.round((it.height || 1) * scale)}px`;
      });
    });
    mark();
  }
  function mark() {
    cmp.querySelectorAll(".gk-compare-item").forEach((f, i) => f.classList.toggle("gk-current", i === current));
    cmp.querySelectorAll("td[data-col]").forEach((td) => td.classList.toggle("gk-current", Number(td.dataset.col) === current));
  }

  // --- the Undo toast ---------------------------------------------------------------------
  let toastTimer = null;
  function drawToast() {
    const t = model.get("toast") || {};
    clearTimeout(toastTimer);
    toast.replaceChildren();
    toast.hidden = !t.text;
    if (!t.text) return;
    toast.append(el("span", "gk-undo-text", t.text));
    if ((t.undo || []).length) {
      const undo = button("gk-undo-button", "Undo");
      undo.addEventListener("click", () => { send({ type: "restore", ids: t.undo }); toast.hidden = true; });
      toast.append(undo);
    }
    const x = button("gk-undo-close", "×", "Dismiss");
    x.addEventListener("click", () => { toast.hidden = true; });
    toast.append(x);
    toastTimer = setTimeout(() => { toast.hidden = true; }, TOAST_MS);
  }

  // --- the ZIP: a progress bar while it is built, then the browser downloads it --------------
  let fetched = 0;
  function drawExport() {
    const d = model.get("download") || {};
    exportBox.replaceChildren();
    exportBox.hidden = !d.state;
    if (!d.state) return;
    exportBox.dataset.state = d.state;
    if (d.state === "building") {
      const bar = el("progress", "gk-export-progress");
      bar.max = d.total || 1;
      bar.value = d.done || 0;
      exportBox.append(el("span", "gk-spinner"), el("span", "gk-export-text", `Building the ZIP… ${d.done || 0} / ${d.total}`), bar);
    } else if (d.state === "ready") {
      const link = el("a", "gk-export-link", "Download again");
      link.href = d.url;
      link.setAttribute("download", d.filename || "gallery.zip");
      exportBox.append(el("span", "gk-export-text", d.text || "ZIP ready."), link);
      if (fetched !== d.seq) { fetched = d.seq; link.click(); }
    } else {
      exportBox.append(el("span", "gk-export-text gk-export-failed", d.text || "The ZIP failed."));
    }
    const x = button("gk-undo-close", "×", "Dismiss");
    x.addEventListener("click", () => { exportBox.hidden = true; });
    exportBox.append(x);
  }

  // --- keys outside the grid: the lightbox, compare, and the selection -----------------------
  const onKey = (e) => {
    if (!cmp.hidden) {
      const n = ((model.get("compare") || {}).items || []).length;
      if (e.key === "Escape") send({ type: "close_compare" });
      else if (e.key === "ArrowRight") { current = (current + 1) % n; mark(); }
      else if (e.key === "ArrowLeft") { current = (current + n - 1) % n; mark(); }
      return;
    }
    if (!box.hidden) {
      const d = detail();
      if (e.key === "Escape" && (!typing(e) || e.target.tagName === "SELECT")) close();
      if (typing(e) || e.key === "Escape") return;
      if (e.key === "ArrowRight" || e.key === "ArrowLeft") {
        send({ type: "step", id: d.id, by: e.key === "ArrowRight" ? 1 : -1 });
      } else if (e.key === "f" && !d.trashed) toggleStar(d);
      else if ((e.key === "Delete" || e.key === "Backspace") && !d.trashed) { e.preventDefault(); trashOpen(d); }
      else if (e.key === "b" && !d.trashed) {
        e.preventDefault();
        const pick = box.querySelector(".gk-lightbox-board");
        if (pick) pick.focus(); // ↑/↓ or Space then choose the board; Esc closes the lightbox
      }
      return;
    }
    if (e.key === "Escape" && selected.size && (!typing(e) || e.target.tagName === "SELECT")) {
      clearSelection();
      return;
    }
    if (typing(e)) return;
    if ((e.ctrlKey || e.metaKey) && e.key === "a" && items().length) {
      e.preventDefault();
      for (const i of items()) selected.add(i.id);
      drawSelection();
    }
  };
  document.addEventListener("keydown", onKey);

  // Other users' new images: ask the kernel now and then (stops when the page closes).
  const every = model.get("poll_ms");
  const timer = every > 0 ? setInterval(() => send({ type: "poll" }), every) : null;

  model.on("change:has_more", drawGrid);
  model.on("change:loading", drawGrid);
  model.on("change:empty_text", drawGrid);
  model.on("change:detail", drawBox);
  model.on("change:views", () => { drawPicker(); drawSelBar(); });
  model.on("change:view", () => { drawPicker(); drawGrid(); });
  model.on("change:compare", () => { current = 0; drawCompare(); });
  model.on("change:toast", drawToast);
  model.on("change:download", drawExport);
  drawPicker();
  drawGrid();
  drawBox();
  drawCompare();
  send({ type: "ready" });
  return () => {
    if (timer) clearInterval(timer);
    clearTimeout(toastTimer);
    document.removeEventListener("keydown", onKey);
    box.remove();
    cmp.remove();
    toast.remove();
    for (const url of thumbs.values()) URL.revokeObjectURL(url);
  };
}

export default { render };
