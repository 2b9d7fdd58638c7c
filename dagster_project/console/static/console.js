// The journey console's tables: filter by the drop-downs and the search box, sort by a header.
"use strict";

function applyFilters(tableId) {
  const table = document.getElementById(tableId);
  if (!table) return;
  const selects = document.querySelectorAll(`select[data-table="${tableId}"]`);
  const search = document.querySelector(`input[data-table="${tableId}"][data-search]`);
  const needle = search ? search.value.trim().toLowerCase() : "";
  let shown = 0;
  const rows = table.tBodies[0].rows;
  for (const row of rows) {
    let visible = true;
    for (const select of selects) {
      const key = select.dataset.column.replace(/_/g, "-");
      if (select.value && row.getAttribute(`data-${key}`) !== select.value) visible = false;
    }
    if (visible && needle && !row.textContent.toLowerCase().includes(needle)) visible = false;
    row.hidden = !visible;
    if (visible) shown += 1;
  }
  const counter = document.getElementById(`${tableId}-shown`);
  if (counter) {
    counter.dataset.shown = String(shown);
    counter.textContent = `${shown.toLocaleString("en-GB")} of ${rows.length.toLocaleString("en-GB")} rows`;
  }
}

function sortBy(header) {
  const table = header.closest("table");
  const index = Array.from(header.parentNode.children).indexOf(header);
  const numeric = ["count", "number", "percent", "points"].includes(header.dataset.kind);
  const descending = !header.classList.contains("sorted-desc");
  for (const th of header.parentNode.children) th.classList.remove("sorted-asc", "sorted-desc");
  header.classList.add(descending ? "sorted-desc" : "sorted-asc");
  const body = table.tBodies[0];
  const value = (row) => row.cells[index].dataset.sort;
  const rows = Array.from(body.rows);
  rows.sort((a, b) => {
    const x = value(a), y = value(b);
    if (x === "" || y === "") return x === y ? 0 : x === "" ? 1 : -1; // blanks last
    const order = numeric ? Number(x) - Number(y) : x.localeCompare(y);
    return descending ? -order : order;
  });
  for (const row of rows) body.appendChild(row);
}

document.addEventListener("DOMContentLoaded", () => {
  for (const control of document.querySelectorAll("[data-table]")) {
    control.addEventListener(control.tagName === "INPUT" ? "input" : "change", () =>
      applyFilters(control.dataset.table));
  }
  for (const header of document.querySelectorAll("table.data th")) {
    header.addEventListener("click", () => sortBy(header));
  }
});
