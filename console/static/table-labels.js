// Names each table cell after its column header (data-label), so that on a narrow screen,
// where style.css stacks table rows into cards, every value keeps its name. Rows that the
// live queue swaps in later are named as they arrive. Without JS the cards still read
// top to bottom, only without the names.
(function () {
  "use strict";

  function columnNames(table) {
    const row = table.tHead && table.tHead.rows[0];
    if (!row) return null;
    const names = [];
    for (const th of row.cells) {
      for (let i = 0; i < th.colSpan; i++) names.push(th.textContent.trim());
    }
    return names;
  }

  function label(table) {
    const names = columnNames(table);
    if (!names) return;
    for (const body of table.tBodies) {
      for (const row of body.rows) {
        let column = 0;
        for (const cell of row.cells) {
          const name = names[column];
          if (cell.tagName === "TD" && cell.colSpan === 1 && name && !cell.hasAttribute("data-label")) {
            cell.setAttribute("data-label", name);
          }
          column += cell.colSpan;
        }
      }
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    const main = document.querySelector("main");
    if (!main) return;
    main.querySelectorAll("table").forEach(label);
    new MutationObserver(function (records) {
      const tables = new Set();
      for (const record of records) {
        const element = record.target.nodeType === 1 ? record.target : record.target.parentElement;
        const table = element && element.closest("table");
        if (table) tables.add(table);
      }
      tables.forEach(label);
    }).observe(main, { childList: true, subtree: true });
  });
})();
