/* Agent dashboard behaviour: progressive enhancement only. Every page works without it.
 * Loaded from our origin (the CSP allows no inline scripts), after htmx. */
(function () {
  "use strict";

  const $ = (selector, root) => (root || document).querySelector(selector);
  const $$ = (selector, root) => Array.from((root || document).querySelectorAll(selector));

  function csrfToken() {
    const meta = $('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  // htmx requests carry the CSRF token like forms do.
  document.addEventListener("htmx:configRequest", (event) => {
    event.detail.headers["X-CSRFToken"] = csrfToken();
  });

  document.documentElement.classList.add("js");

  // Confirmations fade away; errors stay until the next page.
  window.setTimeout(() => {
    $$(".flash li:not(.flash-error)").forEach((item) => item.classList.add("is-leaving"));
  }, 6000);

  // Selects that act at once (organization switcher, sort).
  document.addEventListener("change", (event) => {
    const target = event.target;
    if (target.closest("[data-autosubmit]") || target.matches("[data-autosubmit-field]")) {
      target.form.requestSubmit();
    }
  });

  // Forms that ask first (replacing the private link).
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
    }
  });

  // Queue: live rows ------------------------------------------------------------------

  function rowIds(tbody) {
    return new Set($$("tr[data-ticket]", tbody).map((row) => row.dataset.ticket + ":" + row.dataset.updated));
  }

  let knownRows = null;
  document.addEventListener("htmx:beforeRequest", (event) => {
    const element = event.detail.elt;
    if (!element.matches || !element.matches("[data-live-rows]")) return;
    // Do not replace rows under the agent's hand: a selection for a bulk action waits.
    if ($("[data-live-rows] input[name=ticket]:checked")) {
      event.preventDefault();
      return;
    }
    knownRows = rowIds(element);
  });

  document.addEventListener("htmx:afterSwap", (event) => {
    const target = event.detail.target;
    if (target && target.id === "composer-preview") {
      target.hidden = false;
    }
  });

  document.addEventListener("htmx:afterSettle", (event) => {
    const tbody = $("[data-live-rows]");
    if (!tbody || !knownRows || !event.detail.elt || !event.detail.elt.matches("[data-live-rows]")) return;
    $$("tr[data-ticket]", tbody).forEach((row) => {
      if (!knownRows.has(row.dataset.ticket + ":" + row.dataset.updated)) {
        row.classList.add("is-fresh");
      }
    });
    knownRows = null;
    updateBulkBar();
  });

  // Queue: selection and bulk bar -----------------------------------------------------

  function updateBulkBar() {
    const bar = $("[data-bulk-bar]");
    if (!bar) return;
    const checked = $$("input[name=ticket]:checked").length;
    bar.classList.toggle("is-active", checked > 0);
    const label = $("[data-bulk-count]", bar);
    if (label) label.textContent = checked ? checked + " selected:" : "With selected:";
    $$("input[name=ticket]").forEach((box) => box.closest("tr").classList.toggle("is-selected", box.checked));
  }

  document.addEventListener("change", (event) => {
    const target = event.target;
    if (target.matches("[data-select-all]")) {
      $$("input[name=ticket]").forEach((box) => { box.checked = target.checked; });
    }
    if (target.matches("[data-select-all], input[name=ticket]")) updateBulkBar();
  });

  // Copy the private link --------------------------------------------------------------

  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-copy]");
    if (button) {
      const input = $(button.dataset.copy);
      input.select();
      const done = () => {
        button.textContent = "Copied";
        setTimeout(() => { button.textContent = "Copy"; }, 1500);
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(input.value).then(done, () => { document.execCommand("copy"); done(); });
      } else {
        document.execCommand("copy");
        done();
      }
    }
    if (event.target.closest("[data-show-shortcuts]")) toggleHelp();
  });

  // Composer: saved replies, kinds, send with Ctrl+Enter --------------------------------

  function composerBody() { return $("[data-composer-body]"); }

  function setKind(kind) {
    const radio = $('input[name=kind][value="' + kind + '"]');
    if (radio) radio.checked = true;
    const body = composerBody();
    if (body) {
      body.focus();
      body.scrollIntoView({ block: "center", behavior: "smooth" });
    }
  }

  document.addEventListener("change", (event) => {
    const select = event.target;
    if (!select.matches("[data-saved-reply]")) return;
    const option = select.selectedOptions[0];
    if (!option || !option.dataset.body) return;
    const page = select.closest("[data-customer-name]");
    const name = page ? page.dataset.customerName : "";
    const text = option.dataset.body.replace(/\{\{\s*customer_name\s*\}\}/g, name);
    const body = composerBody();
    const start = body.selectionStart ?? body.value.length;
    const end = body.selectionEnd ?? body.value.length;
    body.value = body.value.slice(0, start) + text + body.value.slice(end);
    body.focus();
    body.selectionStart = body.selectionEnd = start + text.length;
    select.value = "";
  });

  document.addEventListener("keydown", (event) => {
    if (event.target.matches("[data-composer-body]") && event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      event.target.form.requestSubmit();
    }
  });

  // Keyboard shortcuts ------------------------------------------------------------------

  function toggleHelp() {
    const dialog = $("#shortcuts-help");
    if (!dialog) return;
    if (dialog.open) dialog.close(); else dialog.showModal();
  }

  function follow(name) {
    const link = $('[data-shortcut="' + name + '"]');
    if (link) window.location.href = link.href;
  }

  function moveRow(step) {
    const links = $$(".queue-table .ticket-link");
    if (!links.length) return;
    const index = links.indexOf(document.activeElement);
    const next = index === -1 ? 0 : Math.min(Math.max(index + step, 0), links.length - 1);
    links[next].focus();
  }

  function typing(element) {
    return element && (element.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(element.tagName));
  }

  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && typing(event.target)) {
      event.target.blur();
      return;
    }
    if (typing(event.target) || event.ctrlKey || event.metaKey || event.altKey) return;
    const onQueue = !!$(".queue-table");
    switch (event.key) {
      case "?": toggleHelp(); break;
      case "/": {
        const search = $("[data-shortcut-focus='/']");
        if (search) search.focus(); else return;
        break;
      }
      case "r": if (composerBody()) setKind("reply"); else return; break;
      case "n": if (composerBody()) setKind("note"); else return; break;
      case "j": if (onQueue) moveRow(1); else follow("next"); break;
      case "k": if (onQueue) moveRow(-1); else follow("previous"); break;
      case "]": follow("next"); break;
      case "[": follow("previous"); break;
      case "u": follow("queue"); break;
      case "x": {
        const row = document.activeElement?.closest("tr[data-ticket]");
        const box = row && $("input[name=ticket]", row);
        if (!box) return;
        box.checked = !box.checked;
        updateBulkBar();
        break;
      }
      default: return;
    }
    event.preventDefault();
  });
})();
