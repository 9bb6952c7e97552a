// The keyboard: shortcuts, the inbox's row selection, dropdowns that act only when meant to, and focus that is
// never lost (after an in-place update, a filter reload, the help closing). A shortcut never takes a key from a
// focused control: Enter on a link or button does what that link or button does.
(() => {
  "use strict";
  const body = document.body;
  const page = body.dataset.page;
  const say = (text) => window.onevoice && window.onevoice.announce(text);

  // ---- skip link: moves focus, not only the scroll position ----------------------------------------------
  document.querySelectorAll("[data-skip]").forEach((link) => link.addEventListener("click", (e) => {
    const id = link.getAttribute("href").slice(1);
    const target = document.getElementById(id) || document.querySelector("main");
    if (!target) return;
    e.preventDefault();
    if (id === "rows" && target.querySelector(".row-link")) { selectRow(0); return; }
    if (!target.hasAttribute("tabindex")) target.setAttribute("tabindex", "-1");
    target.focus();
  }));

  // ---- help: back to where you were when it closes --------------------------------------------------------
  const help = document.getElementById("help");
  let helpOpener = null;
  function openHelp() {
    helpOpener = document.activeElement;
    help.showModal();
  }
  document.querySelectorAll("[data-open-help]").forEach((b) => b.addEventListener("click", openHelp));
  if (help) {
    help.addEventListener("close", () => {
      const back = helpOpener && helpOpener.isConnected && helpOpener !== body ? helpOpener
        : document.querySelector("[data-open-help]");
      if (back) back.focus();
    });
  }

  // ---- inbox rows: j/k move the selection and the focus together --------------------------------------------
  const rowList = () => Array.from(document.querySelectorAll("#rows > .row"));
  const selectedIndex = () => rowList().findIndex((r) => r.classList.contains("selected"));
  function mark(row) {
    rowList().forEach((r) => {
      r.classList.toggle("selected", r === row);
      const link = r.querySelector(".row-link");
      if (link) { if (r === row) link.setAttribute("aria-current", "true"); else link.removeAttribute("aria-current"); }
    });
  }
  function selectRow(i) {
    const rows = rowList();
    if (!rows.length) return;
    const row = rows[Math.max(0, Math.min(rows.length - 1, i))];
    mark(row);
    const link = row.querySelector(".row-link");
    if (link) link.focus({ preventScroll: true });
    row.scrollIntoView({ block: "nearest" });
  }
  function openRow(row) {
    const link = row && row.querySelector(".row-link");
    if (link) window.location.href = link.getAttribute("href") + "?back=" + encodeURIComponent(location.pathname + location.search);
  }
  // Tabbing onto a row, or clicking it, selects it too: one selection, wherever it came from.
  document.addEventListener("focusin", (e) => {
    const row = e.target.closest && e.target.closest("#rows > .row");
    if (row) mark(row);
  });
  document.addEventListener("click", (e) => {
    const row = e.target.closest && e.target.closest("#rows > .row");
    if (row) mark(row);
  });
  window.onevoice = Object.assign(window.onevoice || {}, { selectedRow: selectedIndex, markRow: mark });

  const CONTROL = "a[href], button, summary, input, select, textarea, [contenteditable], [role=button], [role=menuitem], [tabindex]";
  document.addEventListener("keydown", (e) => {
    const t = e.target instanceof Element ? e.target : null;
    const typing = t && (t.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(t.tagName));
    if (e.key === "Escape" && typing) { t.blur(); return; }
    if (typing || e.metaKey || e.ctrlKey || e.altKey || (help && help.open) || e.defaultPrevented) return;
    const key = e.key;
    if (key === "Enter") {
      // Enter belongs to the focused control; on a case row it opens that case (keeping the way back).
      const row = t && t.classList.contains("row-link") ? t.closest(".row") : null;
      if (row) { e.preventDefault(); openRow(row); }
      return;
    }
    if (key === "?") { e.preventDefault(); openHelp(); return; }
    if (key === "/") { const s = document.querySelector("[data-search]"); if (s) { e.preventDefault(); s.focus(); s.select(); } return; }
    if (page === "inbox") {
      if (key === "j") { e.preventDefault(); selectRow(selectedIndex() + 1); }
      else if (key === "k") { e.preventDefault(); selectRow(Math.max(0, selectedIndex() - 1)); }
      else if (key === "o") { const i = selectedIndex(); if (i >= 0) { e.preventDefault(); openRow(rowList()[i]); } }
    } else if (page === "case") {
      if (key === "r") { const r = document.querySelector("[data-reply]"); if (r) { e.preventDefault(); r.focus(); } }
      else if (key === "n") { const n = document.querySelector("[data-note]"); if (n) { e.preventDefault(); n.focus(); } }
      else if (key === "e") { const b = document.querySelector("[data-resolve]"); if (b) { e.preventDefault(); b.focus(); b.click(); } }
      else if (key === "u") { const b = document.querySelector("[data-back]"); if (b) { e.preventDefault(); b.click(); } }
    }
  });

  // ---- dropdowns that act on change: only when meant to (WCAG 3.2.2) ----------------------------------------
  // Arrow keys on a closed dropdown change its value at once. A filter would reload the page and the action bar
  // would change the case on every key press; so a change made by a key waits: Enter or the Apply button beside
  // it makes it, Escape puts the old value back. A choice made with the mouse (or in the open list) acts at once.
  const acts = (el) => el instanceof HTMLSelectElement && !el.multiple && el.form &&
    (el.form.hasAttribute("data-autosubmit") || /\bchange\b/.test(el.form.getAttribute("hx-trigger") || ""));
  const NAV_KEYS = new Set(["ArrowUp", "ArrowDown", "ArrowLeft", "ArrowRight", "Home", "End", "PageUp", "PageDown"]);
  function applyButton(select) {
    let b = select.form.querySelector("[data-apply]");
    if (!b) {
      b = document.createElement("button");
      b.type = "button";
      b.className = "btn btn-small";
      b.textContent = "Apply";
      b.dataset.apply = "";
      b.addEventListener("click", () => { const s = b.form.querySelector("select[data-pending]"); if (s) commit(s); });
      select.closest("label") ? select.closest("label").after(b) : select.after(b);
    }
    b.hidden = false;
    return b;
  }
  function commit(select) {
    delete select.dataset.pending;
    delete select.dataset.was;
    const b = select.form.querySelector("[data-apply]");
    if (b) b.hidden = true;
    select.dataset.committing = "1";
    if (select.form.hasAttribute("data-autosubmit")) select.form.requestSubmit();
    else {
      // htmx binds the triggers of a part it has just swapped in only when that swap settles (a timer, later
      // under load): a key pressed in between would send nothing. Binding now is safe, as htmx binds once.
      if (window.htmx) window.htmx.process(select.form);
      select.dispatchEvent(new Event("change", { bubbles: true }));
    }
    delete select.dataset.committing;
  }
  document.addEventListener("keydown", (e) => {
    const s = e.target;
    if (!acts(s)) return;
    if (!e.altKey && (NAV_KEYS.has(e.key) || (e.key.length === 1 && e.key !== " "))) {
      if (!s.dataset.pending) s.dataset.was = s.value;
      s.dataset.keyed = "1";
    } else if (e.key === "Enter" && s.dataset.pending) {
      e.preventDefault();
      commit(s);
    } else if (e.key === "Escape" && s.dataset.pending) {
      e.preventDefault();
      e.stopPropagation();
      s.value = s.dataset.was;
      delete s.dataset.pending;
      const b = s.form.querySelector("[data-apply]");
      if (b) b.hidden = true;
    }
  }, true);
  document.addEventListener("change", (e) => {
    const s = e.target;
    if (!acts(s) || s.dataset.committing) return;
    if (s.dataset.keyed) {
      delete s.dataset.keyed;
      e.stopImmediatePropagation();
      e.stopPropagation();
      s.dataset.pending = "1";
      applyButton(s);
      const name = (s.getAttribute("aria-label") || s.name || "").toLowerCase();
      say(`${name} ${s.options[s.selectedIndex].text}: press Enter to apply, Escape to keep it as it was`);
      return;
    }
    if (s.form.hasAttribute("data-autosubmit")) { e.stopPropagation(); commit(s); }
  }, true);
  // A choice with the pointer is deliberate.
  document.addEventListener("pointerdown", (e) => { if (acts(e.target)) delete e.target.dataset.keyed; }, true);
  // A filter that reloads the page puts the focus back on the filter used.
  document.querySelectorAll("form[data-autosubmit]").forEach((form) => form.addEventListener("submit", () => {
    const s = document.activeElement;
    if (s && s.form === form && s.name) sessionStorage.setItem("onevoice-focus", form.getAttribute("action") + " " + s.name);
  }));
  const wanted = sessionStorage.getItem("onevoice-focus");
  if (wanted) {
    sessionStorage.removeItem("onevoice-focus");
    const [action, name] = wanted.split(" ");
    const el = document.querySelector(`form[data-autosubmit][action="${CSS.escape(action)}"] [name="${CSS.escape(name)}"]`);
    if (el) el.focus();
  }

  // ---- focus survives in-place updates ---------------------------------------------------------------------
  // htmx replaces the case's head, conversation and side panels after each action; the element that had the
  // focus is gone with them. Remember what it was, and focus its new copy (or, when it is no longer there, the
  // nearest thing that stands for it: the same form's control, else the part's heading).
  function finder(el) {
    if (!el || el === body || !(el instanceof Element)) return null;
    if (el.id) return { find: () => document.getElementById(el.id), part: el.closest("[id]") };
    const keyed = el.closest("[data-focus-key]");
    const form = el.closest("form");
    const action = form && (form.getAttribute("hx-post") || form.getAttribute("action"));
    const name = el.getAttribute("name");
    const text = el.tagName === "BUTTON" || el.tagName === "SUMMARY" ? el.textContent.trim() : null;
    const part = el.parentElement && el.parentElement.closest("[id]");
    const partId = part && part.id;
    return {
      part: partId,
      find() {
        if (keyed) return document.querySelector(`[data-focus-key="${CSS.escape(keyed.dataset.focusKey)}"]`);
        const scope = (partId && document.getElementById(partId)) || document;
        const same = Array.from(scope.querySelectorAll(el.tagName)).filter((c) => {
          const f = c.closest("form");
          return (f && (f.getAttribute("hx-post") || f.getAttribute("action"))) === action && c.getAttribute("name") === name;
        });
        return same.find((c) => text === null || c.textContent.trim() === text) || same[0] || null;
      },
    };
  }
  function focusable(el) {
    const closed = el.closest("details:not([open])");
    if (closed && el.tagName !== "SUMMARY") return closed.querySelector("summary");
    return el;
  }
  // Watched from the request until shortly after its answer: whenever the focus has fallen to <body>, it goes
  // to the new copy of what had it. (The request's own events may fire on a form that is no longer in the page.)
  function restore(f) {
    let el = f.find();
    if (!el && f.part) {
      const part = typeof f.part === "string" ? document.getElementById(f.part) : f.part;
      el = part && part.isConnected && (part.querySelector("h1, h2, h3") || part.querySelector(CONTROL));
    }
    if (!el) el = document.querySelector("main h1, h1");
    if (!el) return false;
    el = focusable(el);
    if (el.matches("h1, h2, h3") && !el.hasAttribute("tabindex")) el.setAttribute("tabindex", "-1");
    el.focus({ preventScroll: true });
    return document.activeElement === el;
  }
  let watch = null;
  document.addEventListener("htmx:beforeRequest", () => {
    const f = finder(document.activeElement);
    if (watch) { watch.observer.disconnect(); clearTimeout(watch.timer); watch = null; }
    if (!f) return;
    const lost = () => !document.activeElement || document.activeElement === body || !document.activeElement.isConnected;
    const observer = new MutationObserver(() => { if (lost() && restore(f)) stop(); });
    const stop = () => { observer.disconnect(); clearTimeout(timer); if (watch && watch.observer === observer) watch = null; };
    const timer = setTimeout(stop, 15000);
    observer.observe(body, { childList: true, subtree: true });
    watch = { observer, timer };
  });
  document.addEventListener("htmx:afterSettle", () => {
    if (!watch) return;
    const w = watch;
    setTimeout(() => { if (watch === w) { w.observer.disconnect(); clearTimeout(w.timer); watch = null; } }, 500);
  });

  // ---- changes that lose something ask first ----------------------------------------------------------------
  document.addEventListener("submit", (e) => {
    const form = e.target;
    if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) { e.preventDefault(); e.stopImmediatePropagation(); }
  }, true);
  // A reply or note being written is not dropped by leaving the page.
  window.addEventListener("beforeunload", (e) => {
    const drafts = Array.from(document.querySelectorAll("[data-reply], [data-note]")).filter((t) => t.value.trim());
    if (drafts.length) { e.preventDefault(); e.returnValue = ""; }
  });
})();
