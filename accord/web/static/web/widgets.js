// A dashboard's widgets in a new order: drag a row by its grip (the arrows do the same a
// place at a time, without JavaScript). The place is saved at once; should it fail, the
// page comes back with the order that was kept.
"use strict";

(() => {
  const list = document.querySelector(".widget-list[data-move-url-template]");
  if (!list || typeof Sortable === "undefined") return;
  const token = JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"];

  const save = async (row, place) => {
    const url = list.dataset.moveUrlTemplate.replace("/0/", `/${row.dataset.widget}/`);
    let response = null;
    try {
      response = await fetch(url, {
        method: "POST",
        headers: { "X-CSRFToken": token, "Content-Type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ to: String(place) }),
      });
    } catch {
      response = null; // the server out of reach: said as a failure below
    }
    if (!response || !response.ok) {
      const toast = document.createElement("div");
      toast.className = "toast toast-error";
      toast.textContent = list.dataset.moveFailed;
      document.querySelector(".toasts")?.append(toast);
      window.setTimeout(() => window.location.reload(), 2500);
      return;
    }
    // The arrows of the first and the last row: disabled where they cannot go.
    const rows = [...list.querySelectorAll(".widget-row")];
    rows.forEach((one, index) => {
      const [up, down] = one.querySelectorAll(".widget-row-actions form button");
      if (up) up.disabled = index === 0;
      if (down) down.disabled = index === rows.length - 1;
    });
  };

  Sortable.create(list, {
    handle: ".widget-grip",
    draggable: ".widget-row",
    animation: 120,
    forceFallback: true, // pointer events: the same on touch screens
    fallbackTolerance: 3,
    ghostClass: "is-ghost",
    onEnd: (event) => {
      if (event.oldIndex !== event.newIndex) save(event.item, event.newIndex);
    },
  });
})();
