// Accord's own small behaviours; everything else is htmx.
"use strict";

const typing = (element) =>
  element instanceof HTMLElement &&
  (element.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(element.tagName));

document.addEventListener("click", (event) => {
  // Close an open menu, or the search results, when the user clicks elsewhere.
  for (const menu of document.querySelectorAll("details.menu[open]")) {
    if (!menu.contains(event.target)) menu.removeAttribute("open");
  }
  const popup = document.getElementById("search-popup");
  if (popup && !popup.parentElement.contains(event.target)) popup.replaceChildren();
});

document.addEventListener("keydown", (event) => {
  if (event.key === "Escape") {
    for (const menu of document.querySelectorAll("details.menu[open]")) {
      menu.removeAttribute("open");
      menu.querySelector("summary")?.focus();
    }
    document.getElementById("search-popup")?.replaceChildren();
    return;
  }
  if (arrowKeys(event)) return;
  if (event.key === "Enter" && event.target.classList?.contains("picker-search")) {
    // Enter in a record picker's search box picks the first match, it does not submit.
    event.preventDefault();
    return;
  }
  if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
  // Single-key shortcuts: "/" search, "n" new.
  const target = document.querySelector(`[data-hotkey="${CSS.escape(event.key)}"]`);
  if (!target) return;
  event.preventDefault();
  if (target.tagName === "SUMMARY") {
    target.parentElement.setAttribute("open", "");
    target.parentElement.querySelector("[role=menuitem]")?.focus();
  } else {
    target.focus();
  }
});

// Arrow keys: inside a menu they move between its items (Home/End: the first/last); on a
// menu's button Down opens it at its first item; Down in the search box goes into the
// results. Answers whether the key was taken.
const arrowKeys = (event) => {
  if (!["ArrowDown", "ArrowUp", "Home", "End"].includes(event.key)) return false;
  const target = event.target;
  if (typing(target) && target.type !== "search") return false;  // a field's own keys
  if (target.matches?.("summary") && event.key === "ArrowDown") {
    const panel = target.parentElement.querySelector("[role=menu]");
    if (!panel) return false;
    target.parentElement.setAttribute("open", "");
    // A menu loaded when opened (a board card's) fills in a moment: focus once it is there.
    setTimeout(() => panel.querySelector("[role=menuitem]:not([disabled])")?.focus(), 0);
    event.preventDefault();
    return true;
  }
  if (target.type === "search" && event.key === "ArrowDown") {
    const first = document.querySelector("#search-popup a");
    if (!first) return false;
    first.focus();
    event.preventDefault();
    return true;
  }
  const list = target.closest?.("[role=menu], #search-popup");
  if (!list) return false;
  const items = [...list.querySelectorAll("[role=menuitem]:not([disabled]), #search-popup a")];
  const at = items.indexOf(target);
  if (!items.length) return false;
  const next = {
    ArrowDown: items[(at + 1) % items.length],
    ArrowUp: items[(at - 1 + items.length) % items.length],
    Home: items[0],
    End: items[items.length - 1],
  }[event.key];
  next.focus();
  event.preventDefault();
  return true;
};

// Destructive buttons ask first (data-confirm holds the question).
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-confirm]");
  if (button && !window.confirm(button.dataset.confirm)) event.preventDefault();
});

// "Select all" checkboxes in table headers.
document.addEventListener("change", (event) => {
  const all = event.target.closest("[data-select-all]");
  if (!all) return;
  for (const box of all.closest("table").querySelectorAll("tbody input[type=checkbox]")) {
    box.checked = all.checked;
  }
});

// The rule form: a step shows the inputs of its kind; a changed record or trigger shows
// its own choices (the form is sent back to the server to draw them).
const showStepInputs = (row) => {
  const kind = row.querySelector("[data-step-type]")?.value;
  const who = row.querySelector("[data-who-choice]")?.value;
  for (const input of row.querySelectorAll("[data-types]")) {
    const wrongWho = input.dataset.who && input.dataset.who !== who;
    input.hidden = !input.dataset.types.split(" ").includes(kind) || wrongWho;
  }
};
// A condition's (or "Change a field"'s) value offers the known values of the field chosen
// (the stages, the users, a choice field's choices), from the page's datalists.
const offerValues = (select) => {
  const input = document.getElementById(select.dataset.valuesTarget);
  const values = select.selectedOptions[0]?.dataset.values;
  if (values) input?.setAttribute("list", `values-${values}`);
  else input?.removeAttribute("list");
};
for (const row of document.querySelectorAll("[data-step]")) showStepInputs(row);
for (const select of document.querySelectorAll("[data-values-target]")) offerValues(select);
for (const button of document.querySelectorAll(".js-hidden")) button.hidden = true;
document.addEventListener("change", (event) => {
  const row = event.target.closest("[data-step]");
  if (row && event.target.matches("[data-step-type], [data-who-choice]")) showStepInputs(row);
  if (event.target.matches("[data-values-target]")) offerValues(event.target);
  if (event.target.matches("[data-refresh]")) {
    event.target.form.querySelector("button[name=refresh]")?.click();
  }
});

// "Insert a field" (the rule form): each menu gets the page's fields; an item puts its
// {{ field }} where the cursor is in the menu's text, or at its end if it was never in it.
const mergeFields = document.getElementById("merge-fields");
for (const menu of mergeFields ? document.querySelectorAll("[data-merge-menu]") : []) {
  menu.querySelector("[role=menu]").append(mergeFields.content.cloneNode(true));
  menu.hidden = false;
}
const visitedTexts = new WeakSet();
document.addEventListener("focusin", (event) => visitedTexts.add(event.target));
document.addEventListener("click", (event) => {
  const item = event.target.closest("[data-merge]");
  const menu = item?.closest("[data-merge-menu]");
  const text = menu && document.getElementById(menu.dataset.mergeMenu);
  if (!text) return;
  const end = text.value.length;
  const [from, to] = visitedTexts.has(text) ? [text.selectionStart, text.selectionEnd] : [end, end];
  text.setRangeText(item.dataset.merge, from ?? end, to ?? end, "end");
  menu.removeAttribute("open");
  text.focus();
});

// A region that scrolls sideways (a wide table, the stage path on a phone) can be
// reached and scrolled with the keyboard; one that fits is no extra tab stop.
const scrollersFocusable = () => {
  for (const region of document.querySelectorAll(".table-wrap, .stage-path, .board")) {
    if (region.scrollWidth > region.clientWidth + 1) region.tabIndex = 0;
    else region.removeAttribute("tabindex");
  }
};
scrollersFocusable();
window.addEventListener("resize", scrollersFocusable);
document.body.addEventListener("htmx:afterSettle", scrollersFocusable);

// On a phone a list's filters and bulk actions fold behind one "Filters" button (app.css
// hides them until the page's content is marked open).
document.addEventListener("click", (event) => {
  const toggle = event.target.closest("[data-filters-toggle]");
  if (!toggle) return;
  const open = toggle.getAttribute("aria-expanded") !== "true";
  toggle.setAttribute("aria-expanded", String(open));
  document.getElementById(toggle.getAttribute("aria-controls"))?.classList.toggle("filters-open", open);
});

// A row of tabs wider than a phone scrolls within itself: bring the current tab into sight.
for (const tab of document.querySelectorAll(".tabs .is-active")) {
  tab.scrollIntoView({ block: "nearest", inline: "nearest" });
}

// A side panel (drawer): a link marked data-drawer opens its page's panel beside the
// record on a wide screen; on a phone (or with a modifier key) the link opens the page.
const drawer = () => document.getElementById("drawer");
document.addEventListener("click", (event) => {
  const link = event.target.closest("a[data-drawer]");
  if (!link || !drawer() || !window.htmx) return;
  if (window.matchMedia("(max-width: 640px)").matches || event.ctrlKey || event.metaKey || event.shiftKey) return;
  event.preventDefault();
  window.htmx.ajax("GET", link.href, { target: "#drawer-body", swap: "innerHTML" }).then(() => {
    drawer().showModal();
    drawer().querySelector("input:not([type=hidden]), select, textarea")?.focus();
  });
});
document.addEventListener("click", (event) => {
  const close = event.target.closest("[data-drawer-close]");
  const open = close?.closest("dialog[open]");
  if (!open) return;  // on the full page the link goes back to the record
  event.preventDefault();
  open.close();
});
// A message queued from the panel: the panel closes (the timeline shows it, htmx reloads it).
document.body.addEventListener("accord:mail-queued", () => drawer()?.close());

// The compose form: a click on one of the client's addresses adds it to the "To" field.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-add-address]");
  const field = button && document.getElementById(button.dataset.addressField);
  if (!field) return;
  const present = field.value.split(/[,;]/).map((part) => part.trim()).filter(Boolean);
  const address = button.dataset.addAddress;
  if (!present.some((part) => part.toLowerCase().includes(address.toLowerCase()))) {
    field.value = [...present, address].join(", ");
  }
  field.focus();
});

// The first step's time zone: nothing better known, the browser's own zone is offered.
for (const select of document.querySelectorAll("select[data-browser-zone]")) {
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if ([...select.options].some((option) => option.value === zone)) select.value = zone;
}

// A call's recording the PBX did not give (the player would sit at 0:00): say so instead.
document.addEventListener("error", (event) => {
  const player = event.target;
  if (!(player instanceof HTMLAudioElement) || !player.dataset.missing) return;
  const note = document.createElement("span");
  note.className = "muted recording-missing";
  note.textContent = player.dataset.missing;
  player.replaceWith(note);
}, true);

// An SMS being written counts its parts as the network will (GSM-7: 160 a part, 153
// when split, ^{}\[~]|€ count two; any other character makes it UCS-2: 70, 67 when split),
// as accord/comms/messengers.py sms_length does.
const GSM7 = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
  "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
const GSM7_EXTENDED = "^{}\\[~]|€\f";
function smsLength(text) {
  const chars = [...text];
  if (chars.every((c) => GSM7.includes(c) || GSM7_EXTENDED.includes(c))) {
    const units = chars.reduce((sum, c) => sum + (GSM7_EXTENDED.includes(c) ? 2 : 1), 0);
    return { units, encoding: "GSM-7", parts: units === 0 ? 0 : units <= 160 ? 1 : Math.ceil(units / 153) };
  }
  const units = text.length; // UTF-16 code units: an emoji counts two
  return { units, encoding: "UCS-2", parts: units <= 70 ? 1 : Math.ceil(units / 67) };
}
const countSms = (field) => {
  const counter = field.form && field.form.querySelector(".sms-count");
  if (!counter) return;
  const found = smsLength(field.value);
  counter.textContent = counter.dataset.format
    .replace("%(chars)s", found.units)
    .replace("%(parts)s", found.parts)
    .replace("%(encoding)s", found.encoding);
};
document.addEventListener("input", (event) => {
  const field = event.target.closest("[data-sms-count]");
  if (field) countSms(field);
});
// A text already there (a draft edited, a form sent back with an error) is counted at once.
const countWritten = (root) => {
  for (const field of root.querySelectorAll("[data-sms-count]")) if (field.value) countSms(field);
};
countWritten(document);
document.body.addEventListener("htmx:load", (event) => countWritten(event.target));
