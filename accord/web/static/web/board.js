// The deal board: drag a card to another column (or within one) and the move is saved.
// The answer holds the new heads of both columns and the moved card (htmx out-of-band
// partials, swapped in as they come), or a message; nothing is counted here.
"use strict";

(() => {
  const board = document.querySelector(".board");
  if (!board || !board.dataset.canWrite || typeof Sortable === "undefined") return;
  const token = JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"];

  const save = async (card, column) => {
    const previous = card.previousElementSibling;
    const body = new URLSearchParams({
      stage: column.dataset.stage,
      after: previous ? previous.dataset.deal : "",
      version: card.dataset.version,
    });
    // The board's filters go along: the heads count what the board shows.
    const url =
      board.dataset.moveUrlTemplate.replace("/0/", `/${card.dataset.deal}/`) +
      window.location.search;
    const response = await fetch(url, {
      method: "POST",
      headers: { "X-CSRFToken": token, "Content-Type": "application/x-www-form-urlencoded" },
      body,
    });
    const redirect = response.headers.get("HX-Redirect");
    if (redirect) {
      window.location.assign(redirect);
      return;
    }
    htmx.swap(board, await response.text(), { swapStyle: "none" });
    if (!response.ok) {
      window.setTimeout(() => window.location.reload(), response.status === 409 ? 1500 : 3000);
    }
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
        save(event.item, event.to);
      },
    });
  }
  board.dataset.ready = "1"; // cards can be dragged now (the browser tests wait for it)
})();
