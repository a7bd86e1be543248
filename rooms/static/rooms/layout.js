/**
 * The chrome every page shares: the rooms sidebar, which folds away behind a toggle on
 * a narrow screen, and the account menu.
 *
 * Both close on Escape and hand focus back to the control that opened them, so a
 * keyboard user is never left inside a panel they can no longer see.
 */

const shell = document.querySelector("[data-shell]");
const toggle = document.querySelector("[data-sidebar-toggle]");
const sidebar = document.getElementById("sidebar");

function setSidebarOpen(open) {
  toggle.setAttribute("aria-expanded", String(open));
  shell.classList.toggle("sidebar-open", open);
  if (open) {
    sidebar.querySelector("a")?.focus();
  }
}

if (shell && toggle && sidebar) {
  toggle.addEventListener("click", () => {
    setSidebarOpen(toggle.getAttribute("aria-expanded") !== "true");
  });
  // A tap on the dimmed page beside the open panel closes it, as on any phone app.
  shell.addEventListener("click", (event) => {
    if (shell.classList.contains("sidebar-open") && !sidebar.contains(event.target)) {
      setSidebarOpen(false);
    }
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && shell.classList.contains("sidebar-open")) {
      setSidebarOpen(false);
      toggle.focus();
    }
  });
}

for (const menu of document.querySelectorAll("details[data-menu]")) {
  document.addEventListener("click", (event) => {
    if (menu.open && !menu.contains(event.target)) {
      menu.open = false;
    }
  });
  menu.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && menu.open) {
      menu.open = false;
      menu.querySelector("summary").focus();
    }
  });
}
