// The calendar: drag a task to another day and it is rescheduled (its time of day kept);
// choosing whose calendar shows it at once.
"use strict";

(() => {
  const who = document.querySelector(".calendar-who select");
  if (who) {
    who.form.querySelector(".calendar-who-submit")?.remove();
    who.addEventListener("change", () => who.form.requestSubmit());
  }
  const calendar = document.querySelector(".calendar");
  if (!calendar || typeof Sortable === "undefined") return;
  const status = document.querySelector(".board-status");
  const token = JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"];

  // A day on which the assignee is away is a warning (nothing saved yet): confirm to keep it.
  const save = async (item, list, confirmed = false) => {
    const url = calendar.dataset.moveUrlTemplate.replace("/0/", `/${item.dataset.task}/`);
    const response = await fetch(url, {
      method: "POST",
      headers: { "X-CSRFToken": token, "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ date: list.dataset.date, confirm: confirmed ? "1" : "" }),
    });
    const answer = await response.json().catch(() => ({}));
    if (response.ok && answer.warning) {
      if (window.confirm(answer.warning)) return save(item, list, true);
      window.location.reload();
      return;
    }
    if (response.ok) return;
    status.textContent = answer.error || "";
    window.setTimeout(() => window.location.reload(), 2500);
  };

  for (const list of calendar.querySelectorAll(".calendar-tasks")) {
    Sortable.create(list, {
      group: "tasks",
      animation: 120,
      forceFallback: true,
      fallbackTolerance: 3,
      ghostClass: "is-ghost",
      draggable: ".calendar-task:not(.is-done)",
      onEnd: (event) => {
        if (event.from !== event.to) save(event.item, event.to);
      },
    });
  }
})();
