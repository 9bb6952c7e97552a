// OneVoice pages: live updates (server-sent events) and what shows while they are down, presence, the composer,
// undoing a case's closing. The keyboard is in keys.js, the phone menus in menus.js, toasts in notice.js.
// No inline scripts anywhere (the Content-Security-Policy forbids them); user text is only ever set
// through textContent or server-escaped HTML.
(() => {
  "use strict";
  const body = document.body;
  const csrf = body.dataset.csrf;
  const page = body.dataset.page;

  const { toast, announce } = window.onevoice;

  // htmx binds a form when it settles new content, a few milliseconds after a swap. A key press or click in
  // that window would submit the form the browser's way (a GET of the current page that does nothing):
  // catch it, bind the form, and let htmx send it as meant. htmx's own handler runs first and prevents
  // the default, so this only acts on forms htmx has not seen yet.
  document.addEventListener("submit", (e) => {
    const form = e.target;
    if (e.defaultPrevented || !(form instanceof HTMLFormElement) || !form.matches("[hx-post]")) return;
    e.preventDefault();
    htmx.process(form);
    htmx.trigger(form, "submit");
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

  const rowsEl = document.getElementById("rows");
  const selectedIndex = () => window.onevoice.selectedRow();

  function fromHTML(html) {
    const t = document.createElement("template");
    t.innerHTML = html.trim();
    return t.content;
  }

  // ---- the live stream, and what the page shows while it is down ------------------------------------------
  // The browser retries a dropped stream by itself, but gives up for good when the server answers with anything
  // but a stream (a proxy's 502, a restart in progress): then we open a new one, waiting longer each time. While
  // it is down the page says so (banner, the Live dot); when it is back, `caughtUp` fetches what was missed.
  function liveStream(url, handlers, caughtUp) {
    const banner = document.getElementById("live-banner");
    const dot = document.getElementById("live-state");
    let down = false;
    let wait = 1000;
    let downTimer;
    function show(isDown) {
      if (banner) banner.hidden = !isDown;
      if (dot) { dot.classList.toggle("off", isDown); dot.textContent = isDown ? "Reconnecting…" : "Live"; }
      body.classList.toggle("live-down", isDown);
    }
    function connect() {
      const es = new EventSource(url);
      es.addEventListener("open", () => {
        wait = 1000;
        clearTimeout(downTimer);
        if (down) {
          down = false;
          show(false);
          announce("Live updates are back.");
          caughtUp();
        }
      });
      es.addEventListener("error", () => {
        // A blip that the browser's own retry mends within a second is not worth a banner.
        if (!down) {
          clearTimeout(downTimer);
          downTimer = setTimeout(() => {
            if (es.readyState === EventSource.OPEN) return;
            down = true;
            show(true);
            announce("Live updates interrupted: reconnecting.");
          }, 800);
        }
        if (es.readyState === EventSource.CLOSED) {
          setTimeout(connect, wait);
          wait = Math.min(wait * 2, 30000);
        }
      });
      Object.entries(handlers).forEach(([type, fn]) => es.addEventListener(type, fn));
    }
    connect();
  }

  // ---- approvals: a common reason fills the Reason field (then Reject is the second tap) ----------------------
  document.addEventListener("click", (e) => {
    const b = e.target.closest && e.target.closest("[data-reason]");
    const field = b && b.form && b.form.querySelector("[data-reason-field]");
    if (!field) return;
    field.value = b.dataset.reason;
    b.form.querySelectorAll("[data-reason]").forEach((o) => o.setAttribute("aria-pressed", String(o === b)));
    announce(`Reason: ${b.dataset.reason}`);
  });

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
    // Someone working the list with the keyboard is busy too.
    const readerBusy = () => window.scrollY > 40 || rowsEl.matches(":hover") || selectedIndex() > 0 ||
      rowsEl.contains(document.activeElement);
    const cases = (n) => `${n} new case${n === 1 ? "" : "s"}`;
    function showPill() {
      pill.textContent = `${cases(pending.size)} · show`;
      pill.hidden = pending.size === 0;
    }
    // New cases are announced politely, a few at a time: "2 new cases: Ana, Li Wei" or, when they wait behind the
    // pill, how to show them.
    let heard = [];
    let heardTimer;
    function announceNew(who) {
      heard.push(who);
      clearTimeout(heardTimer);
      heardTimer = setTimeout(() => {
        const names = heard.filter(Boolean).slice(0, 3).join(", ");
        const held = pending.size ? ` ${cases(pending.size)} wait above the list: the "show" button brings them in.` : "";
        announce(`${cases(heard.length)}${names ? ": " + names : ""}.${held}`);
        heard = [];
      }, 1500);
    }
    function insertTop(node) {
      const empty = document.getElementById("empty");
      if (empty) empty.remove();
      rowsEl.prepend(node);
      htmx.process(rowsEl.firstElementChild);
    }
    pill.addEventListener("click", () => {
      const n = pending.size;
      Array.from(pending.values()).forEach((node) => insertTop(node));
      pending.clear();
      showPill();
      window.scrollTo({ top: 0 });
      // The pill is gone: the focus goes to the first of the cases it brought in.
      const first = rowsEl.querySelector(".row-link");
      if (first) first.focus();
      announce(`${cases(n)} shown at the top of the list.`);
    });
    async function refresh(id, el) {
      const html = await fetchRow(id);
      if (html === null) { el.classList.add("gone"); return; }
      const frag = fromHTML(html);
      const node = frag.firstElementChild;
      const focused = el.contains(document.activeElement);
      if (el.classList.contains("selected")) node.classList.add("selected");
      el.replaceWith(node);
      htmx.process(node);
      if (node.classList.contains("selected")) window.onevoice.markRow(node);
      if (focused) node.querySelector(".row-link").focus({ preventScroll: true });
    }
    async function add(id) {
      if (pending.has(id)) return;
      const html = await fetchRow(id);
      if (!html || document.getElementById("case-" + id)) return;
      const frag = fromHTML(html);
      const row = frag.firstElementChild;
      row.classList.add("flash");
      const who = row.querySelector(".who-text b");
      if (readerBusy()) { pending.set(id, frag); showPill(); } else { insertTop(frag); }
      announceNew(who ? who.textContent : "");
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
        const focused = rail.contains(document.activeElement) ? document.activeElement.getAttribute("href") : null;
        rail.replaceChildren(fromHTML(await r.text()));
        if (focused) { const a = rail.querySelector(`a[href="${CSS.escape(focused)}"]`); if (a) a.focus({ preventScroll: true }); }
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
    // Back after a drop: the first page of the queue again; rows on it are refreshed, rows not on the page yet
    // come in as new ones (what arrived while the stream was down).
    async function catchUp() {
      refreshRail();
      const r = await fetch(`/inbox/rows?${query}`, { credentials: "same-origin" });
      if (r.status !== 200) return;
      const fresh = Array.from(fromHTML(await r.text()).querySelectorAll(".row[data-case]"));
      fresh.reverse().forEach((row) => {
        const id = row.dataset.case;
        const el = document.getElementById("case-" + id);
        if (el) refresh(id, el); else add(id);
      });
    }
    liveStream("/live", { "case.created": onCase, "case.updated": onCase, incident: refreshRail }, catchUp);
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
    const onPresence = (e) => {
      const d = JSON.parse(e.data);
      if (d.state === "left") present.delete(d.user_id);
      else {
        const p = present.get(d.user_id) || { name: d.name };
        p.seen = Date.now();
        if (d.state === "typing") p.typing = Date.now();
        present.set(d.user_id, p);
      }
      renderPresence();
    };
    const onCase = (e) => {
      const d = JSON.parse(e.data);
      if (String(d.case_id) === String(caseId) && d.actor !== me) refreshParts();
    };
    liveStream(`/live?case=${caseId}`, { presence: onPresence, "case.updated": onCase, "case.created": onCase },
      refreshParts);

    // Closing a case (Resolve, e, or the Status list) offers to undo it: back to the status it had before.
    const CLOSED = ["resolved", "closed_spam"];
    const statusNow = () => { const el = document.querySelector("#case-head [data-status]"); return el ? el.dataset.status : null; };
    let before = null;
    document.addEventListener("htmx:beforeRequest", (e) => {
      if (/\/cases\/\d+\/status$/.test(e.detail.pathInfo.requestPath)) before = statusNow();
    });
    document.addEventListener("htmx:afterRequest", (e) => {
      const path = e.detail.pathInfo.requestPath;
      if (!/\/cases\/\d+\/status$/.test(path) || !e.detail.successful) return;
      const was = before;
      before = null;
      const now = statusNow();
      if (!was || CLOSED.includes(was) || !CLOSED.includes(now)) return;
      const label = document.querySelector("#case-head [data-status]").textContent.trim();
      toast(`Case #${caseId}: ${label.toLowerCase()}`, false, { label: "Undo", run: () => {
        htmx.ajax("POST", path, { values: { status: was }, swap: "none", headers: { "X-CSRF-Token": csrf } })
          .then(() => { toast(`Case #${caseId} is ${was.replace("_", " ")} again`); const t = document.querySelector("#case-head [data-status]"); if (t) announce(`Status: ${t.textContent}`); });
      } });
    });

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
      // On a phone the on-screen keyboard takes half the screen: keep the reply box and its Send button in view.
      const keepInView = () => { if (window.matchMedia("(max-width: 700px)").matches) form.scrollIntoView({ block: "nearest" }); };
      text.addEventListener("focus", () => setTimeout(keepInView, 300));
      if (window.visualViewport) window.visualViewport.addEventListener("resize", () => { if (document.activeElement === text) keepInView(); });
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
      // Escape closes the answers without choosing one, back to the button that opened them.
      pop.addEventListener("keydown", (e) => {
        if (e.key !== "Escape") return;
        e.preventDefault();
        e.stopPropagation();
        pop.hidden = true;
        const toggle = form.querySelector("[data-toggle=answers]");
        toggle.setAttribute("aria-expanded", "false");
        toggle.focus();
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
        // The alert (and the button pressed in it) goes: the focus goes back to the reply being written.
        if (e.target.closest("[data-dismiss-alert]")) { alertBox.replaceChildren(); text.focus(); }
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
