// Publish page: local times, the per-channel character counters, the schedule sent as UTC. (Forms with
// data-confirm, such as Delete, ask first through the pages' keys.js.)
(function () {
  "use strict";
  const fmt = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
  const dayFmt = new Intl.DateTimeFormat(undefined, { weekday: "long", day: "numeric", month: "long" });
  function localTimes(root) {
    root.querySelectorAll("time[data-local-time]").forEach((el) => {
      const d = new Date(el.getAttribute("datetime"));
      if (!isNaN(d)) { el.textContent = fmt.format(d); el.title = d.toISOString(); }
    });
    root.querySelectorAll("time[data-local-date]").forEach((el) => {
      const d = new Date(el.getAttribute("datetime"));
      if (!isNaN(d)) el.textContent = dayFmt.format(d);
    });
  }
  function composer(form) {
    const text = form.querySelector("[data-post-text]");
    const boxes = Array.from(form.querySelectorAll("input[name=channels]"));
    const publish = form.querySelector("[data-publish]");
    function update() {
      const n = Array.from(text.value).length;
      let over = false;
      boxes.forEach((box) => {
        const counter = form.querySelector(`[data-counter-for="${CSS.escape(box.value)}"]`);
        const limit = parseInt(box.dataset.limit || "0", 10);
        if (!counter) return;
        counter.textContent = limit ? `${n} / ${limit}` : `${n}`;
        const bad = box.checked && limit && n > limit;
        counter.classList.toggle("over", !!bad);
        over = over || !!bad;
      });
      if (publish) publish.disabled = over;
    }
    text.addEventListener("input", update);
    boxes.forEach((b) => b.addEventListener("change", update));
    update();
    const local = form.querySelector("[data-schedule-local]");
    const utc = form.querySelector("[data-schedule-utc]");
    form.addEventListener("submit", () => {
      // The browser knows the person's time zone (and its daylight saving on that date); the server stores UTC.
      const d = local && local.value ? new Date(local.value) : null;
      utc.value = d && !isNaN(d) ? d.toISOString() : "";
    });
  }
  document.addEventListener("DOMContentLoaded", () => {
    localTimes(document);
    document.querySelectorAll("[data-post-composer]").forEach(composer);
  });
})();
