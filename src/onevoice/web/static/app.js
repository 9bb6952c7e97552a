// OneVoice pages: live updates (server-sent events), presence, keyboard, composer helpers.
// No inline scripts anywhere (the Content-Security-Policy forbids them); user text is only ever set
// through textContent or server-escaped HTML.
(() => {
  "use strict";
  const body = document.body;
  const csrf = body.dataset.csrf;
  const page = body.dataset.page;

  // ---- toast -------------------------------------------------------------------------------------
  const toastEl = document.getElementById("toast");
  let toastTimer;
  function toast(text, error) {
    if (!toastEl) return;
    toastEl.textContent = text;
    toastEl.className = error ? "error" : "";
    toastEl.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { toastEl.hidden = true; }, error ? 6000 : 2500);
  }
  document.addEventListener("htmx:responseError", (e) => {
    const text = (e.detail.xhr && e.detail.xhr.responseText) || "Something went wrong";
    toast(text.length > 300 ? text.slice(0, 300) + "…" : text, true);
  });
  document.addEventListener("htmx:sendError", () => toast("Cannot reach OneVoice. Check the connection.", true));

  // ---- filters submit themselves -----------------------------------------------------------------
  document.querySelectorAll("form[data-autosubmit]").forEach((form) => {
    form.addEventListener("change", () => form.requestSubmit());
  });

  // ---- SLA countdowns: ok -> amber (30 min left) -> red (breached) ---------------------------------
  function span(seconds) {
    seconds = Math.abs(Math.trunc(seconds));
    if (seconds < 60) return seconds + "s";
    if (seconds < 3600) return Math.floor(seconds / 60) + "m";
    if (seconds < 86400) {
      const h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60);
      return h < 10 ? `${h}h ${String(m).padStart(2, "0")}m` : `${h}h`;
    }
    return Math.floor(seconds / 86400) + "d";
  }
  function tick() {
    const now = Date.now();
    document.querySelectorAll("[data-due]").forEach((el) => {
      if (!el.dataset.due || el.closest(".closed")) return;
      const left = (Date.parse(el.dataset.due) - now) / 1000;
      el.textContent = (left < 0 ? "-" : "") + span(left);
      el.classList.remove("sla-ok", "sla-amber", "sla-red");
      el.classList.add(left < 0 ? "sla-red" : left < 1800 ? "sla-amber" : "sla-ok");
    });
  }
  setInterval(tick, 15000);

  // ---- keyboard ----------------------------------------------------------------------------------
  const help = document.getElementById("help");
  document.querySelectorAll("[data-open-help]").forEach((b) => b.addEventListener("click", () => help.showModal()));
  const rowsEl = document.getElementById("rows");
  const rowList = () => Array.from(document.querySelectorAll("#rows > .row"));
  const selectedIndex = () => rowList().findIndex((r) => r.classList.contains("selected"));
  function select(i) {
    const rows = rowList();
    if (!rows.length) return;
    i = Math.max(0, Math.min(rows.length - 1, i));
    rows.forEach((r) => r.classList.remove("selected"));
    rows[i].classList.add("selected");
    rows[i].scrollIntoView({ block: "nearest" });
  }
  function open(row) {
    if (row) window.location.href = row.querySelector(".row-link").getAttribute("href") + "?back=" + encodeURIComponent(location.pathname + location.search);
  }
  document.addEventListener("keydown", (e) => {
    const t = e.target;
    const typing = t instanceof HTMLElement && (t.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(t.tagName));
    if (e.key === "Escape" && typing) { t.blur(); return; }
    if (typing || e.metaKey || e.ctrlKey || e.altKey || (help && help.open)) return;
    const key = e.key;
    if (key === "?") { e.preventDefault(); help.showModal(); return; }
    if (key === "/") { const s = document.querySelector("[data-search]"); if (s) { e.preventDefault(); s.focus(); s.select(); } return; }
    if (page === "inbox") {
      if (key === "j") { e.preventDefault(); select(selectedIndex() + 1); }
      else if (key === "k") { e.preventDefault(); select(selectedIndex() - 1); }
      else if (key === "o" || key === "Enter") { const i = selectedIndex(); if (i >= 0) { e.preventDefault(); open(rowList()[i]); } }
    } else if (page === "case") {
      if (key === "r") { const r = document.querySelector("[data-reply]"); if (r) { e.preventDefault(); r.focus(); } }
      else if (key === "n") { const n = document.querySelector("[data-note]"); if (n) { e.preventDefault(); n.focus(); } }
      else if (key === "e") { const b = document.querySelector("[data-resolve]"); if (b) { e.preventDefault(); b.click(); } }
      else if (key === "u") { const b = document.querySelector("[data-back]"); if (b) { e.preventDefault(); b.click(); } }
    }
  });
  document.addEventListener("click", (e) => {
    const row = e.target.closest && e.target.closest("#rows > .row");
    if (row) { rowList().forEach((r) => r.classList.remove("selected")); row.classList.add("selected"); }
  });

  function fromHTML(html) {
    const t = document.createElement("template");
    t.innerHTML = html.trim();
    return t.content;
  }
  function liveState(on) {
    const dot = document.getElementById("live-state");
    if (dot) { dot.classList.toggle("off", !on); dot.textContent = on ? "Live" : "Reconnecting…"; }
  }

  // ---- inbox: live rows and counts -----------------------------------------------------------------
  if (page === "inbox" && rowsEl) {
    const query = body.dataset.query || "";
    const pending = new Map();
    const pill = document.getElementById("new-pill");
    const fetchRow = async (id) => {
      const r = await fetch(`/inbox/row/${id}?${query}`, { credentials: "same-origin" });
      return r.status === 200 ? r.text() : null;
    };
    // The reader is busy when they scrolled, point at the list, or moved the selection: new rows then
    // wait behind the "new" pill instead of pushing the list down under the cursor.
    const readerBusy = () => window.scrollY > 40 || rowsEl.matches(":hover") || selectedIndex() > 0;
    function showPill() {
      pill.textContent = `${pending.size} new case${pending.size === 1 ? "" : "s"} · show`;
      pill.hidden = pending.size === 0;
    }
    function insertTop(node) {
      const empty = document.getElementById("empty");
      if (empty) empty.remove();
      rowsEl.prepend(node);
      htmx.process(rowsEl.firstElementChild);
    }
    pill.addEventListener("click", () => {
      Array.from(pending.values()).forEach((node) => insertTop(node));
      pending.clear();
      showPill();
      window.scrollTo({ top: 0 });
    });
    async function refresh(id, el) {
      const html = await fetchRow(id);
      if (html === null) { el.classList.add("gone"); return; }
      const frag = fromHTML(html);
      const node = frag.firstElementChild;
      if (el.classList.contains("selected")) node.classList.add("selected");
      el.replaceWith(node);
      htmx.process(node);
    }
    async function add(id) {
      if (pending.has(id)) return;
      const html = await fetchRow(id);
      if (!html || document.getElementById("case-" + id)) return;
      const frag = fromHTML(html);
      frag.firstElementChild.classList.add("flash");
      if (readerBusy()) { pending.set(id, frag); showPill(); } else { insertTop(frag); }
    }
    let railTimer;
    function refreshRail() {
      clearTimeout(railTimer);
      railTimer = setTimeout(async () => {
        const r = await fetch(`/inbox/rail?${query}`, { credentials: "same-origin" });
        if (r.status !== 200) return;
        const rail = document.getElementById("rail");
        const before = {};
        rail.querySelectorAll("[data-queue]").forEach((a) => { before[a.dataset.queue] = a.querySelector(".count").textContent; });
        rail.replaceChildren(fromHTML(await r.text()));
        rail.querySelectorAll("[data-queue]").forEach((a) => {
          const c = a.querySelector(".count");
          if (before[a.dataset.queue] !== undefined && before[a.dataset.queue] !== c.textContent) c.classList.add("bump");
        });
      }, 700);
    }
    function onCase(e) {
      const d = JSON.parse(e.data);
      const el = document.getElementById("case-" + d.case_id);
      if (el) refresh(d.case_id, el);
      else if (d.mine && (e.type === "case.created" || !d.change || d.change === "case.teams_added" || d.change === "case.handed_off")) add(d.case_id);
      refreshRail();
    }
    const es = new EventSource("/live");
    es.addEventListener("open", () => liveState(true));
    es.addEventListener("error", () => liveState(false));
    es.addEventListener("case.created", onCase);
    es.addEventListener("case.updated", onCase);
    es.addEventListener("incident", refreshRail);
  }

  // ---- case page: live parts, presence, composer ---------------------------------------------------
  if (page === "case") {
    const caseId = body.dataset.caseId;
    const me = body.dataset.meLabel;
    const parts = ["case-head", "conversation", "timeline", "case-side"];
    let partsTimer;
    const busy = (el) => el && (el.contains(document.activeElement) && document.activeElement !== document.body || el.querySelector("details[open]"));
    function refreshParts() {
      clearTimeout(partsTimer);
      partsTimer = setTimeout(async () => {
        const r = await fetch(`/cases/${caseId}/parts`, { credentials: "same-origin" });
        if (r.status !== 200) return;
        const frag = fromHTML(await r.text());
        let deferred = false;
        parts.forEach((id) => {
          const fresh = frag.getElementById ? frag.getElementById(id) : frag.querySelector("#" + id);
          const old = document.getElementById(id);
          if (!fresh || !old) return;
          // Never pull a form out from under someone using it; try again when they are done.
          if (busy(old)) { deferred = true; return; }
          fresh.removeAttribute("hx-swap-oob");
          old.replaceWith(fresh);
          htmx.process(fresh);
        });
        if (deferred) setTimeout(refreshParts, 3000);
      }, 250);
    }
    const present = new Map();
    const presenceEl = document.getElementById("presence");
    function renderPresence() {
      const now = Date.now();
      presenceEl.replaceChildren();
      present.forEach((p, id) => {
        if (now - p.seen > 25000) { present.delete(id); return; }
        const typing = p.typing && now - p.typing < 7000;
        const chip = document.createElement("span");
        chip.className = "who-on" + (typing ? " typing" : "");
        chip.dataset.presence = p.name;
        const av = document.createElement("span");
        av.className = "avatar avatar-xs";
        av.textContent = p.name.split(/\s+/).slice(0, 2).map((s) => s[0] || "").join("").toUpperCase();
        chip.append(av, document.createTextNode(`${p.name} ${typing ? "is typing a reply…" : "is viewing"}`));
        presenceEl.append(chip);
      });
    }
    setInterval(renderPresence, 3000);
    const es = new EventSource(`/live?case=${caseId}`);
    es.addEventListener("presence", (e) => {
      const d = JSON.parse(e.data);
      if (d.state === "left") present.delete(d.user_id);
      else {
        const p = present.get(d.user_id) || { name: d.name };
        p.seen = Date.now();
        if (d.state === "typing") p.typing = Date.now();
        present.set(d.user_id, p);
      }
      renderPresence();
    });
    const onCase = (e) => {
      const d = JSON.parse(e.data);
      if (String(d.case_id) === String(caseId) && d.actor !== me) refreshParts();
    };
    es.addEventListener("case.updated", onCase);
    es.addEventListener("case.created", onCase);

    const form = document.querySelector("[data-composer]");
    if (form) {
      const text = form.querySelector("[data-reply]");
      const counter = form.querySelector("[data-counter]");
      const limit = parseInt(text.dataset.limit || "0", 10);
      const count = () => {
        if (!limit) return;
        counter.textContent = `${text.value.length} / ${limit}`;
        counter.classList.toggle("over", text.value.length > limit);
      };
      let lastTyping = 0;
      text.addEventListener("input", () => {
        count();
        if (Date.now() - lastTyping > 3000) {
          lastTyping = Date.now();
          fetch(`/cases/${caseId}/typing`, { method: "POST", credentials: "same-origin", headers: { "X-CSRF-Token": csrf } });
        }
      });
      const pop = document.getElementById("answers");
      form.querySelector("[data-toggle=answers]").addEventListener("click", (e) => {
        pop.hidden = !pop.hidden;
        e.currentTarget.setAttribute("aria-expanded", String(!pop.hidden));
        if (!pop.hidden) {
          const search = pop.querySelector("input");
          search.focus();
          htmx.trigger(search, "load-answers");
        }
      });
      pop.addEventListener("click", (e) => {
        const b = e.target.closest("[data-answer]");
        if (!b) return;
        const start = text.selectionStart ?? text.value.length, end = text.selectionEnd ?? text.value.length;
        text.value = text.value.slice(0, start) + b.dataset.text + text.value.slice(end);
        form.querySelector("[data-answer-id]").value = b.dataset.answer;
        pop.hidden = true;
        text.focus();
        count();
      });
      const alertBox = document.getElementById("composer-alert");
      alertBox.addEventListener("click", (e) => {
        if (e.target.closest("[data-confirm-send]")) { form.querySelector("[data-confirm]").value = "1"; form.requestSubmit(); }
        if (e.target.closest("[data-dismiss-alert]")) alertBox.replaceChildren();
      });
      body.addEventListener("reply-sent", (e) => {
        text.value = "";
        form.querySelector("[data-answer-id]").value = "";
        form.querySelector("[data-confirm]").value = "";
        alertBox.replaceChildren();
        const conv = document.querySelector("#conversation .conversation");
        if (conv) form.querySelector("[data-seen]").value = conv.dataset.latest;
        count();
        const d = (e.detail && typeof e.detail === "object") ? e.detail : {};
        const warnings = Array.isArray(d.warnings) ? d.warnings : [];
        const said = d.held ? "Sent for approval" : "Reply queued";
        toast(warnings.length ? said + " · note: " + warnings.join("; ") : said, false);
      });
    }
    body.addEventListener("note-added", (e) => {
      const n = document.querySelector("[data-note]");
      if (n) n.value = "";
      // A mention that reached nobody (ambiguous, or nobody of that name can see the case) is said, longer.
      const missed = (e.detail && Array.isArray(e.detail.not_notified)) ? e.detail.not_notified : [];
      toast(missed.length ? "Note added · not notified: " + missed.join("; ") : "Note added", missed.length > 0);
    });
  }
})();
