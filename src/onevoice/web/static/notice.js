// What the pages tell people: the toast (seen) and the announcer (heard: a polite live region that is in the page
// from the start and only changes its text, which is what screen readers reliably read out). Every toast is also
// announced; some things are only announced (new cases arriving).
(() => {
  "use strict";
  document.documentElement.classList.add("js");
  const toastEl = document.getElementById("toast");
  const announcer = document.getElementById("announcer");
  let toastTimer;
  let announceTimer;

  function hideToast() {
    clearTimeout(toastTimer);
    if (toastEl) { toastEl.replaceChildren(); toastEl.className = ""; }
  }

  // A new toast always replaces the one before, so an old message never stays over a newer one. `action` is an
  // optional {label, run} button (Undo); errors and toasts with an action stay longer, and while pointed at or
  // focused they do not go away.
  function toast(text, error, action) {
    if (!toastEl) return;
    clearTimeout(toastTimer);
    const words = document.createElement("span");
    words.className = "toast-text";
    words.textContent = text;
    const parts = [words];
    if (action) {
      const b = document.createElement("button");
      b.type = "button";
      b.textContent = action.label;
      b.dataset.toastAction = "";
      b.addEventListener("click", () => { hideToast(); action.run(); });
      parts.push(b);
    }
    const close = document.createElement("button");
    close.type = "button";
    close.textContent = "×";
    close.setAttribute("aria-label", "Dismiss");
    close.addEventListener("click", hideToast);
    parts.push(close);
    toastEl.className = error ? "error" : "";
    toastEl.replaceChildren(...parts);
    const wait = error || action ? 12000 : 3000;
    const later = () => {
      toastTimer = setTimeout(() => {
        if (toastEl.matches(":hover") || toastEl.contains(document.activeElement)) later();
        else hideToast();
      }, wait);
    };
    later();
    // Heard through the announcer (the toast's buttons are not part of what is read).
    announce(action ? `${text}. ${action.label} is in the message at the bottom of the page.` : text);
  }

  // Heard, not seen. Repeated text is re-announced (the region is emptied first).
  function announce(text) {
    if (!announcer) return;
    clearTimeout(announceTimer);
    announcer.textContent = "";
    announceTimer = setTimeout(() => { announcer.textContent = text; }, 60);
  }

  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && toastEl && toastEl.contains(document.activeElement)) hideToast();
  });
  document.addEventListener("htmx:responseError", (e) => {
    const text = (e.detail.xhr && e.detail.xhr.responseText) || "Something went wrong";
    toast(text.length > 300 ? text.slice(0, 300) + "…" : text, true);
  });
  document.addEventListener("htmx:sendError", () => toast("Cannot reach OneVoice. Check the connection.", true));
  // A new action clears an error left from the one before.
  document.addEventListener("htmx:beforeRequest", () => { if (toastEl && toastEl.classList.contains("error")) hideToast(); });

  window.onevoice = Object.assign(window.onevoice || {}, { toast, hideToast, announce });
})();
