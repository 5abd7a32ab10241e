// The report form's enhancements: the device typeahead (WAI-ARIA 1.2 combobox with a listbox
// popup) and the chosen dates written out in the page's language. The form works without them.
"use strict";

(function () {
  const form = document.querySelector("form[data-months]");
  if (!form) return;

  // --- dates: "3 décembre 2026" / "3 December 2026", as the server writes them ---------------
  const months = form.dataset.months.split(",");
  const lang = document.documentElement.lang;
  function longDate(iso) {
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso);
    if (!m) return "";
    const day = Number(m[3]);
    return `${lang === "fr" && day === 1 ? "1er" : day} ${months[Number(m[2]) - 1]} ${m[1]}`;
  }
  for (const input of form.querySelectorAll("input[data-echo]")) {
    const echo = document.getElementById(input.dataset.echo);
    echo.setAttribute("aria-live", "polite");
    input.addEventListener("change", () => {
      const text = longDate(input.value);
      echo.textContent = "";
      if (text) {
        echo.append(form.dataset.tDate);
        const span = document.createElement("span");
        span.className = "date";
        span.textContent = text;
        echo.append(span);
      }
    });
  }

  // --- device typeahead ----------------------------------------------------------------------
  const input = document.getElementById("device_name");
  const listbox = document.getElementById(input.dataset.listbox);
  const status = document.getElementById(input.dataset.status);
  const note = document.getElementById("device-note");
  const manufacturer = document.getElementById("device_manufacturer");
  const version = document.getElementById("device_model_version");
  const versionHelp = document.getElementById("device_model_version-help");
  const versions = document.getElementById("device-versions");
  const catalogueId = document.getElementById("device_catalogue_id");
  const t = input.dataset;

  input.setAttribute("role", "combobox");
  input.setAttribute("aria-autocomplete", "list");
  input.setAttribute("aria-controls", listbox.id);
  input.setAttribute("aria-expanded", "false");

  let matches = [];
  let active = -1;
  let chosen = null;
  let pending = null;
  let timer = 0;

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, (_, k) => values[k] ?? "");
  }

  function close() {
    listbox.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    active = -1;
  }

  function show(items) {
    matches = items;
    listbox.replaceChildren();
    items.forEach((item, i) => {
      const li = document.createElement("li");
      li.id = `device-option-${i}`;
      li.setAttribute("role", "option");
      li.setAttribute("aria-selected", "false");
      li.textContent = `${item.name} — ${item.manufacturer}`;
      if (item.submission_number) {
        const small = document.createElement("span");
        small.className = "help";
        small.textContent = ` (FDA ${item.submission_number})`;
        li.append(small);
      }
      // mousedown, not click: the input must not lose focus (and close the list) first.
      li.addEventListener("mousedown", (event) => {
        event.preventDefault();
        choose(i);
      });
      listbox.append(li);
    });
    active = -1;
    input.removeAttribute("aria-activedescendant");
    if (items.length) {
      listbox.hidden = false;
      input.setAttribute("aria-expanded", "true");
      status.textContent = fill(t.tFound, { n: items.length });
    } else {
      close();
      status.textContent = t.tNone;
      note.textContent = t.tFree;
    }
  }

  function highlight(i) {
    const options = listbox.querySelectorAll("[role=option]");
    options.forEach((o, j) => o.setAttribute("aria-selected", j === i ? "true" : "false"));
    active = i;
    if (i >= 0) {
      input.setAttribute("aria-activedescendant", options[i].id);
      options[i].scrollIntoView({ block: "nearest" });
    } else {
      input.removeAttribute("aria-activedescendant");
    }
  }

  function offerVersions(list) {
    versions.replaceChildren(
      ...list.map((v) => Object.assign(document.createElement("option"), { value: v })),
    );
    versionHelp.textContent = list.length
      ? fill(t.tVersions, { versions: list.join(", ") })
      : t.tNoVersions;
  }

  function choose(i) {
    const item = matches[i];
    chosen = item;
    input.value = item.name;
    manufacturer.value = item.manufacturer;
    catalogueId.value = item.catalogue_id;
    offerVersions(item.model_versions);
    const text = fill(t.tChosen, item);
    note.textContent = text;
    status.textContent = text;
    close();
  }

  function forget() {
    // The reporter typed over a catalogue device: from now on it is free text.
    if (chosen === null) return;
    chosen = null;
    catalogueId.value = "";
    versions.replaceChildren();
    versionHelp.textContent = "";
    note.textContent = t.tFree;
  }

  async function search() {
    const q = input.value.trim();
    if (q.length < 2) {
      close();
      return;
    }
    if (pending) pending.abort();
    pending = new AbortController();
    try {
      const url = `${t.search}?q=${encodeURIComponent(q.slice(0, 100))}&limit=8`;
      const response = await fetch(url, { signal: pending.signal });
      if (!response.ok) return;
      const body = await response.json();
      if (input.value.trim() === q) show(body.items);
    } catch (error) {
      if (error.name !== "AbortError") close(); // the form still takes free text
    }
  }

  input.addEventListener("input", () => {
    forget();
    note.textContent = input.value.trim() ? t.tFree : "";
    clearTimeout(timer);
    timer = setTimeout(search, 150);
  });
  manufacturer.addEventListener("input", forget);

  input.addEventListener("keydown", (event) => {
    const open = !listbox.hidden;
    switch (event.key) {
      case "ArrowDown":
        event.preventDefault();
        if (!open) {
          if (matches.length) show(matches);
          else search();
        } else highlight(Math.min(active + 1, matches.length - 1));
        break;
      case "ArrowUp":
        if (open) {
          event.preventDefault();
          highlight(active <= 0 ? matches.length - 1 : active - 1);
        }
        break;
      case "Enter":
        // Enter chooses the highlighted device; it submits the form only when the list is closed.
        if (open && active >= 0) {
          event.preventDefault();
          choose(active);
        } else if (open) {
          event.preventDefault();
          close();
        }
        break;
      case "Escape":
        if (open) {
          event.preventDefault();
          close();
        }
        break;
      default:
        break;
    }
  });
  input.addEventListener("blur", close);
  if (catalogueId.value) chosen = { catalogue_id: catalogueId.value };
})();
