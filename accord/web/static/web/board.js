// The deal board: drag a card to another column (or within one) and the move is saved.
"use strict";

(() => {
  const board = document.querySelector(".board");
  if (!board || !board.dataset.canWrite || typeof Sortable === "undefined") return;
  const status = document.querySelector(".board-status");
  const token = JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"];

  const save = async (card, column) => {
    const previous = card.previousElementSibling;
    const body = new URLSearchParams({
      stage: column.dataset.stage,
      after: previous ? previous.dataset.deal : "",
      version: card.dataset.version,
    });
    const url = board.dataset.moveUrlTemplate.replace("/0/", `/${card.dataset.deal}/`);
    const response = await fetch(url, {
      method: "POST",
      headers: { "X-CSRFToken": token, "Content-Type": "application/x-www-form-urlencoded" },
      body,
    });
    const answer = await response.json().catch(() => ({}));
    if (answer.redirect) {
      window.location.assign(answer.redirect);
      return;
    }
    if (!response.ok) {
      status.textContent = answer.error || status.dataset.failed || "";
      window.setTimeout(() => window.location.reload(), response.status === 409 ? 1500 : 3000);
      return;
    }
    card.dataset.version = answer.version;
    if (answer.status !== "open") card.remove();
  };

  for (const column of board.querySelectorAll(".board-cards")) {
    Sortable.create(column, {
      group: "deals",
      draggable: ".deal-card", // not the "loading more" row at a column's end
      animation: 120,
      // Pointer events rather than the browser's drag and drop: the same on touch screens.
      forceFallback: true,
      fallbackTolerance: 3,
      ghostClass: "is-ghost",
      onEnd: (event) => {
        if (event.from === event.to && event.oldIndex === event.newIndex) return;
        if (event.from !== event.to) {
          for (const [list, step] of [[event.from, -1], [event.to, 1]]) {
            const count = list.closest(".board-column").querySelector("[data-count]");
            if (count) count.textContent = String(Number(count.textContent) + step);
          }
        }
        save(event.item, event.to);
      },
    });
  }
  board.dataset.ready = "1"; // cards can be dragged now (the browser tests wait for it)
})();
