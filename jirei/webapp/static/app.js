// Jirei reviewer: keyboard-first review. Plain script, no build step, no other origin.
// The pages work without it (forms and links); this file adds the keys shown by `?`.
"use strict";

(function () {
  const page = document.body.dataset.page || "";
  const keysDialog = document.getElementById("keys");

  function showKeys() {
    if (!keysDialog) return;
    if (keysDialog.open) keysDialog.close(); else keysDialog.showModal();
  }
  document.querySelectorAll("[data-show-keys]").forEach((b) => b.addEventListener("click", showKeys));

  // Fields that take typed text swallow letter keys; checkboxes and radios do not.
  function isTextField(el) {
    if (!el || !el.tagName) return false;
    if (el.isContentEditable || el.tagName === "TEXTAREA" || el.tagName === "SELECT") return true;
    if (el.tagName === "INPUT") return !["checkbox", "radio", "submit", "button", "reset"].includes(el.type);
    return false;
  }

  let toastTimer = null;
  function toast(text) {
    let el = document.getElementById("toast");
    if (!el) {
      el = document.createElement("p");
      el.id = "toast";
      el.className = "toast";
      el.setAttribute("role", "status");
      document.body.appendChild(el);
    }
    el.textContent = text;
    el.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { el.hidden = true; }, 3500);
  }

  function pulse(el) {
    const target = el.closest("label, .entity-row") || el;
    target.classList.remove("pulse");
    void target.offsetWidth; // restart the animation
    target.classList.add("pulse");
  }

  document.addEventListener("keydown", (ev) => {
    if (ev.defaultPrevented || ev.isComposing) return;
    if (ev.key === "?" && !isTextField(ev.target)) {
      ev.preventDefault();
      showKeys();
      return;
    }
    if (keysDialog && keysDialog.open) return; // Esc closes the dialog by itself
    if (page === "case") caseKeys(ev);
    else if (page === "queue") queueKeys(ev);
  });

  // --- queue --------------------------------------------------------------------------------
  function queueKeys(ev) {
    if (isTextField(ev.target)) {
      if (ev.key === "Escape") ev.target.blur();
      return;
    }
    if (ev.altKey || ev.ctrlKey || ev.metaKey) return;
    const rows = Array.from(document.querySelectorAll("#queue-table tbody tr"));
    let at = rows.findIndex((r) => r.classList.contains("selected"));
    const select = (i) => {
      if (!rows.length) return;
      rows.forEach((r) => r.classList.remove("selected"));
      at = Math.max(0, Math.min(rows.length - 1, i));
      rows[at].classList.add("selected");
      rows[at].scrollIntoView({ block: "nearest" });
    };
    switch (ev.key) {
      case "j": select(at + 1); break;
      case "k": select(at < 0 ? 0 : at - 1); break;
      case "Enter":
      case "o":
        if (rows.length) window.location.href = rows[at < 0 ? 0 : at].dataset.href;
        break;
      case "/": {
        const search = document.getElementById("search");
        if (search) { search.focus(); search.select(); }
        break;
      }
      case "x": {
        const box = rows.length ? rows[at < 0 ? 0 : at].querySelector("input[name=sel]") : null;
        if (box && !box.disabled) { box.checked = !box.checked; countSelected(); }
        break;
      }
      case "[": { const a = document.getElementById("prev-page"); if (a) a.click(); break; }
      case "]": { const a = document.getElementById("next-page"); if (a) a.click(); break; }
      default: return;
    }
    ev.preventDefault();
  }
  if (page === "queue") {
    const rows = document.querySelectorAll("#queue-table tbody tr");
    if (rows.length && !document.querySelector("#queue-table tbody tr.selected")) rows[0].classList.add("selected");
    const sel = document.querySelector("#queue-table tbody tr.selected");
    if (sel) sel.scrollIntoView({ block: "nearest" });
    rows.forEach((r) => r.addEventListener("dblclick", () => { window.location.href = r.dataset.href; }));
    const all = document.getElementById("select-all");
    if (all) {
      all.addEventListener("change", () => {
        document.querySelectorAll("#queue-table input[name=sel]:not(:disabled)").forEach((b) => { b.checked = all.checked; });
        countSelected();
      });
    }
    document.querySelectorAll("#queue-table input[name=sel]").forEach((b) => b.addEventListener("change", countSelected));
  }
  // bulk actions: how many rows are ticked
  function countSelected() {
    const n = document.querySelectorAll("#queue-table input[name=sel]:checked").length;
    const el = document.getElementById("selected-count");
    if (el) el.textContent = String(n);
  }

  // --- case ---------------------------------------------------------------------------------
  const form = document.getElementById("review-form");
  let dirty = false;
  let leaving = null; // a navigation key pressed once while there are unsaved changes

  function markDirty() {
    dirty = true;
    document.body.classList.add("dirty");
  }

  window.jireiClean = () => { dirty = false; };

  function submitOnce(f) {
    if (!f || f.dataset.sent) return;
    f.dataset.sent = "1";
    dirty = false;
    f.querySelectorAll("button").forEach((b) => { b.disabled = true; });
    f.requestSubmit ? f.requestSubmit() : f.submit();
  }

  function go(linkId, key) {
    const link = document.getElementById(linkId);
    if (!link) { toast(key === "j" ? "No next case in this queue." : "No previous case."); return; }
    if (dirty && leaving !== key) {
      leaving = key;
      toast(`Unsaved changes: s saves; press ${key} again to leave without saving.`);
      return;
    }
    dirty = false;
    window.location.href = link.href;
  }

  function currentPillar() {
    const r = form.querySelector("input[name=pillar]:checked");
    return r ? r.value : null;
  }

  function themeOptions() {
    const select = document.getElementById("theme");
    const pillar = currentPillar();
    return Array.from(select.options).filter((o) => !o.value || !pillar || o.dataset.pillar === pillar);
  }

  function cycleTheme(step) {
    const select = document.getElementById("theme");
    const options = themeOptions();
    const i = options.findIndex((o) => o.value === select.value);
    const next = options[(i + step + options.length) % options.length];
    select.value = next.value;
    markDirty();
    pulse(select);
    toast("テーマ theme: " + next.textContent);
  }

  function keepThemeConsistent() {
    const select = document.getElementById("theme");
    const chosen = select.selectedOptions[0];
    const pillar = currentPillar();
    if (chosen && chosen.value && pillar && chosen.dataset.pillar !== pillar) {
      select.value = "";
      toast("Theme cleared (it belongs to another pillar): t chooses one.");
    }
  }

  // Offset (in code points, as the store counts) of the selection's start inside the case text.
  function selectionOffset() {
    const sel = window.getSelection();
    const text = document.getElementById("case-text");
    if (!sel || !sel.rangeCount || !text) return null;
    const range = sel.getRangeAt(0);
    if (!text.contains(range.startContainer)) return null;
    const before = document.createRange();
    before.selectNodeContents(text);
    before.setEnd(range.startContainer, range.startOffset);
    return Array.from(before.toString()).length;
  }

  function cycleSegmentation() {
    const select = document.getElementById("seg-flag");
    select.selectedIndex = (select.selectedIndex + 1) % select.options.length;
    if (select.value === "split_here") {
      const at = selectionOffset();
      if (at !== null) document.getElementById("seg-offset").value = at;
    }
    markDirty();
    pulse(select);
    toast("分割 segmentation: " + select.selectedOptions[0].textContent);
  }

  function focusField(id) {
    const el = document.getElementById(id);
    if (el) { el.focus(); el.scrollIntoView({ block: "nearest" }); }
  }

  function caseKeys(ev) {
    if ((ev.ctrlKey || ev.metaKey) && ev.key === "Enter") {
      ev.preventDefault();
      submitOnce(form);
      return;
    }
    if (isTextField(ev.target)) {
      if (ev.key === "Escape") ev.target.blur();
      return;
    }
    if (ev.key === "Escape" && window.jireiCloseEditor && window.jireiCloseEditor()) return;
    if (ev.altKey || ev.ctrlKey || ev.metaKey) return;
    if (ev.key !== "j" && ev.key !== "k" && ev.key !== "b" && ev.key !== "g") leaving = null;
    // Shift + a digit key toggles an action item; read the physical key, not the character
    // (Shift+2 types " on a JIS keyboard and @ on a US one).
    if (ev.shiftKey && /^Digit[0-9]$/.test(ev.code)) {
      const box = form.querySelector(`input[name=item][data-code="${ev.code}"]`);
      if (box) { box.checked = !box.checked; markDirty(); pulse(box); }
      ev.preventDefault();
      return;
    }
    const key = ev.key;
    if (/^[1-4]$/.test(key)) {
      const radio = form.querySelector(`input[name=pillar][data-key="${key}"]`);
      if (radio) {
        radio.checked = true; markDirty(); pulse(radio); keepThemeConsistent();
        const same = form.querySelector(`input[name=secondary][value="${radio.value}"]`);
        if (same && same.checked) {
          same.checked = false;
          toast("副 secondary unchecked: a pillar cannot be both primary and secondary.");
        }
      }
    } else if (["z", "x", "c", "v"].includes(key)) {
      const box = form.querySelector(`input[name=secondary][data-key="${key}"]`);
      if (box && !box.checked && box.value === currentPillar()) {
        toast("Refused: this pillar is the primary pillar; a secondary pillar must be another one.");
        pulse(box);
      } else if (box) { box.checked = !box.checked; markDirty(); pulse(box); }
    } else if (key === "t" || key === "T") {
      cycleTheme(key === "T" ? -1 : 1);
    } else if (key === "a") {
      const accept = document.getElementById("accept-form");
      if (document.getElementById("accept-button").disabled) toast("The model gave no labels to accept.");
      else submitOnce(accept);
    } else if (key === "s") {
      submitOnce(form);
    } else if (key === "u") {
      submitOnce(document.getElementById("undo-form"));
    } else if (key === "j") {
      go("next-link", "j");
    } else if (key === "k") {
      go("prev-link", "k");
    } else if (key === "b") {
      go("queue-link", "b");
    } else if (key === "o") {
      if (!(window.jireiAddFromSelection && window.jireiAddFromSelection("org"))) focusField("org-new");
    } else if (key === "p") {
      if (!(window.jireiAddFromSelection && window.jireiAddFromSelection("place"))) focusField("place-new");
    } else if (key === "y") {
      if (!(window.jireiAddFromSelection && window.jireiAddFromSelection("year"))) focusField("year-new");
    } else if (key === "l") {
      if (window.jireiSplit) window.jireiSplit();
    } else if (key === "g") {
      const merge = document.getElementById("merge-form");
      if (!merge) toast("Last case of its document: nothing to merge with.");
      else if (dirty && leaving !== "g") { leaving = "g"; toast("Unsaved changes would be lost: s saves; press g again to merge now."); }
      else { dirty = false; submitOnce(merge); }
    } else if (key === "e") {
      focusField("title-input");
    } else if (key === "n") {
      focusField("note");
    } else if (key === "m") {
      cycleSegmentation();
    } else if (key === "i") {
      const details = document.getElementById("page-image");
      if (details) details.open = !details.open;
    } else {
      return;
    }
    ev.preventDefault();
  }

  if (page === "case" && form) {
    form.addEventListener("input", markDirty);
    form.addEventListener("change", (ev) => {
      markDirty();
      if (ev.target.name === "pillar") keepThemeConsistent();
    });
    form.addEventListener("submit", () => { dirty = false; });
    window.addEventListener("beforeunload", (ev) => {
      if (dirty) { ev.preventDefault(); ev.returnValue = ""; }
    });
  }

  // --- place completion (JIS municipality list from /api/places) -----------------------------
  const datalist = document.getElementById("place-options");
  let placeTimer = null;
  let lastQuery = "";
  document.querySelectorAll("input[data-complete-places]").forEach((input) => {
    input.addEventListener("input", () => {
      clearTimeout(placeTimer);
      const q = input.value.trim();
      if (!q || /\d{6}$/.test(q) || q === lastQuery) return;
      placeTimer = setTimeout(async () => {
        lastQuery = q;
        try {
          const response = await fetch("/api/places?q=" + encodeURIComponent(q), { credentials: "same-origin" });
          if (!response.ok) return;
          const found = await response.json();
          datalist.replaceChildren(...found.map((p) => {
            const option = document.createElement("option");
            option.value = p.value;
            option.label = p.level === "prefecture" ? "都道府県 prefecture" : p.prefecture;
            return option;
          }));
        } catch (e) {
          // completion is a convenience: typing a name still works (the server resolves it)
        }
      }, 120);
    });
  });
  // --- blind second labelling: the case page's label keys (1–4, Shift+digit, s) -------------
  const blindForm = document.getElementById("blind-form");
  if (page === "blind" && blindForm) {
    document.addEventListener("keydown", (ev) => {
      if (ev.defaultPrevented || ev.isComposing || isTextField(ev.target)) return;
      if (ev.altKey || ev.ctrlKey || ev.metaKey || (keysDialog && keysDialog.open)) return;
      if (ev.shiftKey && /^Digit[0-9]$/.test(ev.code)) {
        const box = blindForm.querySelector(`input[name=item][data-code="${ev.code}"]`);
        if (box) { box.checked = !box.checked; pulse(box); }
      } else if (/^[1-4]$/.test(ev.key)) {
        const radio = blindForm.querySelector(`input[name=pillar][data-key="${ev.key}"]`);
        if (radio) { radio.checked = true; pulse(radio); }
      } else if (ev.key === "s") {
        submitOnce(blindForm);
      } else {
        return;
      }
      ev.preventDefault();
    });
  }
})();

// --- span editing: select text to add an organisation, place or year; click a highlight to
// relabel, resize or delete it; split and merge. Every edit changes rows of the review form, and
// one save writes them all. The case text is redrawn from its own characters (textContent only).
(function () {
  const caseText = document.getElementById("case-text");
  const dataEl = document.getElementById("case-text-data");
  const form = document.getElementById("review-form");
  if (!caseText || !dataEl || !form) return;
  const data = JSON.parse(dataEl.textContent);
  const chars = Array.from(data.text); // offsets count code points, as the store does
  const tools = document.getElementById("span-tools");
  const editor = document.getElementById("span-editor");
  let nextNew = 0;
  let editing = null; // the row the editor works on
  const LABEL_CSS = { org: "hl-org", place: "hl-place", year: "hl-year" };
  const LABEL_JA = { org: "組織", place: "地名", year: "年" };

  function say(text) {
    const el = document.getElementById("toast");
    el.textContent = text;
    el.hidden = false;
    clearTimeout(say.timer);
    say.timer = setTimeout(() => { el.hidden = true; }, 4000);
  }
  function dirty() { form.dispatchEvent(new Event("input", { bubbles: true })); }

  function surface(s, e) { return chars.slice(s, e).join(""); }
  function labelOf(row) {
    if (row.dataset.label) return row.dataset.label;
    const kind = row.dataset.ref.split(":")[0];
    return kind === "men" ? "year" : kind;
  }
  function spanOf(row) {
    const m = /^(\d+)-(\d+)$/.exec(row.dataset.span || "");
    return m ? [parseInt(m[1], 10), parseInt(m[2], 10)] : null;
  }
  function kept(row) {
    const box = row.querySelector("input[type=checkbox]");
    return !box || box.checked;
  }
  function rows() { return Array.from(form.querySelectorAll(".entity-row[data-ref]")); }
  function rowByRef(ref) { return form.querySelector(`.entity-row[data-ref="${ref}"]`); }

  function setSpan(row, s, e) {
    const old = spanOf(row);
    row.dataset.span = `${s}-${e}`;
    const hidden = row.querySelector("[data-span-input]");
    if (hidden) hidden.value = `${s}-${e}`;
    const start = row.querySelector("[data-start-input]");
    const end = row.querySelector("[data-end-input]");
    if (start) { start.value = s; end.value = e; }
    // a name or value that was the old text follows the new one
    const value = row.querySelector("input[name^=org_name_], input[name^=place_]:not([type=hidden]), input[name^=new_value_]");
    if (value && old && value.value === surface(old[0], old[1])) value.value = surface(s, e);
    const src = row.querySelector(".src");
    if (src && row.dataset.label) src.textContent = `new · span ${s}–${e}`;
  }

  // The case text drawn again: lines with their markup, highlights of the kept rows.
  function render() {
    const marks = [];
    rows().forEach((row) => {
      const span = spanOf(row);
      if (span && kept(row)) marks.push({ s: span[0], e: span[1], label: labelOf(row), ref: row.dataset.ref });
    });
    const out = document.createDocumentFragment();
    data.lines.forEach((line, i) => {
      if (i > 0) out.appendChild(document.createTextNode("\n"));
      const el = document.createElement("span");
      el.className = `md-line md-${line.kind}`;
      const markEnd = line.start + line.mark;
      const cuts = new Set([line.start, line.end, markEnd]);
      marks.forEach((m) => {
        if (m.s > line.start && m.s < line.end) cuts.add(m.s);
        if (m.e > line.start && m.e < line.end) cuts.add(m.e);
      });
      const sorted = Array.from(cuts).sort((a, b) => a - b);
      for (let k = 0; k + 1 < sorted.length; k++) {
        const a = sorted[k], b = sorted[k + 1];
        if (a >= b) continue;
        const text = surface(a, b);
        const covering = marks.filter((m) => m.s <= a && b <= m.e);
        let piece;
        if (b <= markEnd) {
          piece = document.createElement("span");
          piece.className = "md-mark";
        } else if (covering.length) {
          piece = document.createElement("mark");
          piece.className = Array.from(new Set(covering.map((m) => LABEL_CSS[m.label]))).join(" ");
          piece.dataset.refs = covering.map((m) => m.ref).join(" ");
          piece.title = covering.map((m) => LABEL_JA[m.label] + " " + surface(m.s, m.e)).join(" / ");
        } else {
          el.appendChild(document.createTextNode(text));
          continue;
        }
        piece.textContent = text;
        el.appendChild(piece);
      }
      out.appendChild(el);
    });
    caseText.replaceChildren(out);
  }

  // [start, end) of the selection inside the case text, in code points; null without one.
  function selection() {
    const sel = window.getSelection();
    if (!sel || !sel.rangeCount || sel.isCollapsed) return null;
    const range = sel.getRangeAt(0);
    if (!caseText.contains(range.startContainer) || !caseText.contains(range.endContainer)) return null;
    const before = document.createRange();
    before.selectNodeContents(caseText);
    before.setEnd(range.startContainer, range.startOffset);
    const s = Array.from(before.toString()).length;
    let e = s + Array.from(range.toString()).length;
    let a = s;
    while (a < e && /\s/.test(chars[a])) a++;
    while (e > a && /\s/.test(chars[e - 1])) e--;
    return a < e ? [a, e] : null;
  }
  window.jireiSelection = selection;

  function addSpan(label, span, typed) {
    const template = document.getElementById(`new-row-${label}`);
    const n = `${Date.now() % 100000}${nextNew++}`;
    const holder = document.createElement("div");
    holder.innerHTML = template.innerHTML.replaceAll("__N__", n);
    const row = holder.firstElementChild;
    const fieldset = document.getElementById(`${label}-rows`);
    const add = fieldset.querySelector(".entity-row.add");
    fieldset.insertBefore(row, add && label !== "year" ? add : null);
    const value = row.querySelector("input[name^=new_value_]");
    if (span) {
      row.dataset.span = `${span[0]}-${span[1]}`;
      row.querySelector("[data-start-input]").value = span[0];
      row.querySelector("[data-end-input]").value = span[1];
      row.querySelector(".src").textContent = `new · span ${span[0]}–${span[1]}`;
      const text = surface(span[0], span[1]);
      const year = /(\d{4})/.exec(text);
      value.value = label === "year" && year ? year[1] : text;
    } else {
      row.dataset.span = "";
      row.querySelector(".src").textContent = "new · found in the text when saved";
      value.value = typed || "";
    }
    row.querySelector(".remove-new").addEventListener("click", () => { row.remove(); render(); dirty(); });
    render();
    dirty();
    return row;
  }

  function addFromSelection(label) {
    const span = selection();
    if (!span) return false;
    addSpan(label, span);
    window.getSelection().removeAllRanges();
    tools.hidden = true;
    say(`${LABEL_JA[label]} 「${surface(span[0], span[1])}」 added: add more, then save (s) writes them all.`);
    return true;
  }
  window.jireiAddFromSelection = addFromSelection;

  function split() {
    const span = selection();
    const at = document.getElementById("split-at");
    if (span) at.value = span[0];
    if (!at.value) { at.focus(); say("Select text first: the second case starts at the selection's start."); return; }
    if (document.body.classList.contains("dirty") && !split.confirmed) {
      split.confirmed = true;
      say("Unsaved changes on this case would be lost: save (s) first, or press l again to split now.");
      return;
    }
    if (window.jireiClean) window.jireiClean();
    document.getElementById("split-form").requestSubmit();
  }
  window.jireiSplit = split;

  // the selection toolbar
  document.addEventListener("selectionchange", () => {
    const span = selection();
    if (!span) { tools.hidden = true; return; }
    const rect = window.getSelection().getRangeAt(0).getBoundingClientRect();
    tools.hidden = false;
    tools.style.top = `${window.scrollY + rect.bottom + 6}px`;
    tools.style.left = `${window.scrollX + rect.left}px`;
  });
  tools.querySelectorAll("[data-add]").forEach((b) => b.addEventListener("mousedown", (ev) => {
    ev.preventDefault(); // keep the selection
    addFromSelection(b.dataset.add);
  }));
  tools.querySelector("[data-split]").addEventListener("mousedown", (ev) => { ev.preventDefault(); split(); });

  // the editor of a highlighted value
  function openEditor(row) {
    editing = row;
    const span = spanOf(row);
    document.getElementById("span-editor-text").textContent = span ? surface(span[0], span[1]) : "";
    document.getElementById("span-editor-what").textContent = `${LABEL_JA[labelOf(row)]} · ${span ? span.join("–") : ""}`;
    document.getElementById("span-editor-label").value = labelOf(row);
    // under the highlight it edits (or the case text's corner when it is not drawn)
    const mark = caseText.querySelector(`mark[data-refs~="${row.dataset.ref}"]`);
    const rect = (mark || caseText).getBoundingClientRect();
    editor.hidden = false;
    editor.style.top = `${window.scrollY + rect.bottom + 6}px`;
    editor.style.left = `${window.scrollX + Math.max(8, Math.min(rect.left, window.innerWidth - editor.offsetWidth - 16))}px`;
  }
  function closeEditor() { editor.hidden = true; editing = null; }
  window.jireiCloseEditor = () => { if (!editor.hidden) { closeEditor(); return true; } return false; };
  function removeRow(row) {
    if (row.dataset.label) { row.remove(); return; }
    const box = row.querySelector("input[type=checkbox]");
    box.checked = false;
    if (labelOf(row) === "year") { // a year no kept highlight names any more leaves the years too
      const year = row.dataset.year;
      const still = rows().some((r) => r !== row && labelOf(r) === "year" && kept(r) && r.dataset.year === year);
      const chip = form.querySelector(`input[name=year_keep][data-year="${year}"]`);
      if (chip && !still) chip.checked = false;
    }
  }
  caseText.addEventListener("click", (ev) => {
    const mark = ev.target.closest("mark[data-refs]");
    if (!mark || !window.getSelection().isCollapsed) return;
    const refs = mark.dataset.refs.split(" ");
    // a second click on an overlap moves on to the next value under it
    const at = editing ? refs.indexOf(editing.dataset.ref) : -1;
    const row = rowByRef(refs[(at + 1) % refs.length]);
    if (row) openEditor(row);
  });
  document.getElementById("span-editor-close").addEventListener("click", closeEditor);
  document.getElementById("span-editor-delete").addEventListener("click", () => {
    if (!editing) return;
    const text = document.getElementById("span-editor-text").textContent;
    removeRow(editing);
    closeEditor();
    render();
    dirty();
    say(`「${text}」 removed (save to keep the change).`);
  });
  document.getElementById("span-editor-label").addEventListener("change", (ev) => {
    if (!editing) return;
    const span = spanOf(editing);
    removeRow(editing);
    const row = addSpan(ev.target.value, span);
    openEditor(row);
    say(`Now ${LABEL_JA[ev.target.value]}: save (s) to keep it.`);
  });
  editor.querySelectorAll("[data-resize]").forEach((b) => b.addEventListener("mousedown", (ev) => {
    ev.preventDefault();
    if (!editing) return;
    let [s, e] = spanOf(editing);
    if (b.dataset.resize === "selection") {
      const span = selection();
      if (!span) { say("Select the new extent in the case text first."); return; }
      [s, e] = span;
    } else {
      const [end, step] = b.dataset.resize.split(":");
      if (end === "start") s += parseInt(step, 10); else e += parseInt(step, 10);
    }
    if (s < 0 || e > chars.length || s >= e) return;
    setSpan(editing, s, e);
    openEditor(editing);
    render();
    dirty();
  }));

  // Enter in a field never submits the case: in an add field it adds what was typed as a row
  form.addEventListener("keydown", (ev) => {
    if (ev.key !== "Enter" || ev.ctrlKey || ev.metaKey || ev.isComposing) return;
    const el = ev.target;
    if (el.tagName !== "INPUT") return;
    ev.preventDefault();
    if (el.hasAttribute("data-enter-adds") && el.value.trim()) {
      const label = el.closest("fieldset").dataset.label;
      el.value.split(/[、,]\s*/).filter((v) => v.trim()).forEach((v) => addSpan(label, null, v.trim()));
      say(`${LABEL_JA[label]} 「${el.value.trim()}」 added: add more, then save (s).`);
      el.value = "";
    } else {
      say("Enter does not save the case: s (outside a field) or Ctrl+Enter saves.");
    }
  });
  form.querySelectorAll(".remove-new").forEach((b) => b.addEventListener("click", () => {
    b.closest(".entity-row").remove(); render(); dirty();
  }));
  form.addEventListener("change", (ev) => {
    if (ev.target.type === "checkbox" && ev.target.closest(".entity-row[data-ref]")) render();
  });
  // a refused save comes back with its rows as sent: draw them
  if (form.querySelector(".entity-row.new, .entity-row input[type=checkbox]:not(:checked)")) render();
})();
