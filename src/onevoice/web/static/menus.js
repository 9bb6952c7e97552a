// Menus on small screens: a button with data-disclose shows and hides the element it controls (aria-controls),
// says so (aria-expanded), and closes it again on Escape (focus back on the button) or on a click elsewhere.
// On wide screens the controlled elements are always shown and the buttons are not drawn (phone.css).
(() => {
  "use strict";
  const buttons = Array.from(document.querySelectorAll("[data-disclose]"));
  const panel = (b) => document.getElementById(b.getAttribute("aria-controls"));
  function set(b, open) {
    const p = panel(b);
    if (!p) return;
    p.classList.toggle("open", open);
    b.setAttribute("aria-expanded", String(open));
  }
  buttons.forEach((b) => {
    b.addEventListener("click", () => {
      const open = b.getAttribute("aria-expanded") !== "true";
      set(b, open);
      const p = panel(b);
      if (open && p) {
        const first = p.querySelector("a[href], button, input, select, textarea");
        if (first && b.dataset.disclose !== "stay") first.focus();
      }
    });
  });
  document.addEventListener("keydown", (e) => {
    if (e.key !== "Escape") return;
    buttons.forEach((b) => {
      const p = panel(b);
      if (b.getAttribute("aria-expanded") === "true" && p && p.contains(document.activeElement) && b.dataset.disclose !== "stay") {
        set(b, false);
        b.focus();
      }
    });
  });
  document.addEventListener("click", (e) => {
    buttons.forEach((b) => {
      const p = panel(b);
      // Menus close when the click was outside them; panels marked "stay" (the filters) stay until closed.
      if (b.dataset.disclose !== "stay" && b.getAttribute("aria-expanded") === "true" && p &&
          !p.contains(e.target) && !b.contains(e.target)) set(b, false);
    });
  });
})();
