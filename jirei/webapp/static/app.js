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
    if (ev.altKey || ev.ctrlKey || ev.metaKey) return;
    if (ev.key !== "j" && ev.key !== "k" && ev.key !== "b") leaving = null;
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
      if (radio) { radio.checked = true; markDirty(); pulse(radio); keepThemeConsistent(); }
    } else if (["z", "x", "c", "v"].includes(key)) {
      const box = form.querySelector(`input[name=secondary][data-key="${key}"]`);
      if (box) { box.checked = !box.checked; markDirty(); pulse(box); }
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
      focusField("org-new");
    } else if (key === "p") {
      focusField("place-new");
    } else if (key === "y") {
      focusField("year-new");
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
