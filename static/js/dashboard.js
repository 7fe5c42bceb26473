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

  // Live polls: the page's poll token lets the server answer "nothing new" (204) from its
  // cache alone; the ticket page also says whether the agent is typing and which presence
  // it shows, so that only a change of who is there is sent back.
  let lastTyped = 0;
  const TYPING_MS = 6000;
  document.addEventListener("htmx:configRequest", (event) => {
    const element = event.detail.elt;
    if (!element.dataset || !element.dataset.liveToken) return;
    event.detail.headers["X-Live-Token"] = element.dataset.liveToken;
    if (element.matches("[data-live-timeline]")) {
      const presence = $("#presence");
      if (presence) event.detail.headers["X-Live-Presence"] = presence.dataset.presence || "";
      if (Date.now() - lastTyped < TYPING_MS) event.detail.parameters.typing = "1";
    }
  });

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

  // Forms that must go once (a new email): a second press while the first is on its way
  // does nothing; the server's idempotency key covers the rest.
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!form.matches("[data-submit-once]") || event.defaultPrevented) return;
    if (form.dataset.submitted) {
      event.preventDefault();
      return;
    }
    form.dataset.submitted = "true";
  });
  window.addEventListener("pageshow", () => {
    $$("form[data-submit-once]").forEach((form) => delete form.dataset.submitted);
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
    if (!select.matches("[data-reply-macro]")) return;
    const option = select.selectedOptions[0];
    if (!option || !option.dataset.body) return;
    // Filled in for this ticket by the server: inserted as it is, to edit before sending.
    const text = option.dataset.body;
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

  // Composer: length counter, drafts, sidebar changes sent along, one send -------------

  const composer = $("[data-composer]");
  if (composer) {
    const body = $("[data-composer-body]", composer);
    const counter = $("[data-body-counter]", composer);
    const limitError = $("[data-body-limit-error]", composer);
    const draftState = $("[data-draft-state]", composer);
    const propertiesForm = $("[data-properties]");
    const propertiesNote = $("[data-properties-note]", composer);
    const limit = parseInt(body.dataset.maxLength, 10);
    const sendButtons = $$("button[type=submit]", composer);
    let draftTimer = null;
    let draftRequest = null;

    // Characters as the server counts them: an emoji is one, not its two UTF-16 units.
    const characters = (text) => {
      let count = 0;
      for (const _ of text) count += 1;
      return count;
    };
    const updateCounter = () => {
      const length = characters(body.value);
      const over = length > limit;
      // Shown near the limit only: most replies never see it.
      counter.textContent = length > limit * 0.8 ? length.toLocaleString() + " / " + limit.toLocaleString() + " characters" : "";
      limitError.hidden = !over;
      if (over) body.setAttribute("aria-invalid", "true"); else if (!$("#body-error")) body.removeAttribute("aria-invalid");
      body.setAttribute("aria-describedby", ["body-counter", over ? "body-limit-error" : "", $("#body-error") ? "body-error" : ""].filter(Boolean).join(" "));
      sendButtons.forEach((button) => { button.disabled = over; });
    };

    const saveDraft = (leaving = false) => {
      draftTimer = null;
      const data = new FormData();
      data.append("body", body.value);
      const kind = $("input[name=kind]:checked", composer);
      data.append("kind", kind ? kind.value : "reply");
      draftRequest = new AbortController();
      fetch(composer.dataset.draftUrl, {
        method: "POST", body: data, headers: { "X-CSRFToken": csrfToken() }, signal: leaving ? undefined : draftRequest.signal, credentials: "same-origin", keepalive: leaving,
      }).then((response) => {
        if (draftState) draftState.textContent = response.ok ? (body.value.trim() ? "Draft saved." : "") : "Draft not saved.";
      }).catch(() => {});
    };

    const draftSoon = () => {
      if (draftTimer) window.clearTimeout(draftTimer);
      draftTimer = window.setTimeout(saveDraft, 1200);
    };

    // Typing tells the others at once (one early poll), then rides on the regular polls.
    let typingToldAt = 0;
    const tellTyping = () => {
      const now = Date.now();
      lastTyped = now;
      const timeline = $("[data-live-timeline]");
      if (timeline && now - typingToldAt > TYPING_MS - 1000 && window.htmx) {
        typingToldAt = now;
        window.htmx.trigger(timeline, "live-now");
      }
    };

    body.addEventListener("input", () => { updateCounter(); draftSoon(); tellTyping(); });
    // The composer is not refilled by the browser on Back (autocomplete="off": a sent reply
    // would come back and go out twice); the server's draft is what returns, so the last
    // keystrokes before leaving are saved on the way out.
    window.addEventListener("pagehide", () => { if (draftTimer) { window.clearTimeout(draftTimer); saveDraft(true); } });
    composer.addEventListener("change", (event) => { if (event.target.name === "kind") draftSoon(); });
    updateCounter();

    const changedProperties = () => propertiesForm && $$("select, input:not([type=hidden])", propertiesForm).some((field) =>
      field.tagName === "SELECT" ? Array.from(field.options).some((option) => option.selected !== option.defaultSelected) : field.value !== field.defaultValue);
    if (propertiesForm && propertiesNote) {
      propertiesForm.addEventListener("input", () => { propertiesNote.hidden = !changedProperties(); });
      propertiesForm.addEventListener("change", () => { propertiesNote.hidden = !changedProperties(); });
    }

    // Collision safety: messages by others that arrived (by the live thread) after the
    // newest one this composer has seen are shown before anything is sent. The server
    // checks the same with the "seen_message" field and answers 409 if a message came in
    // after the last poll.
    const seenInput = $("[data-seen-message]", composer);
    const prompt = $("[data-new-messages]", composer);
    const threadMessages = () => $$("#timeline [data-testid=message]");
    const unseenMessages = () => {
      const cards = threadMessages();
      const seen = cards.findIndex((card) => card.id === "m-" + seenInput.value);
      return cards.slice(seen + 1).filter((card) => !card.dataset.own);
    };
    const showUnseen = (cards) => {
      const list = $("[data-new-messages-list]", prompt);
      list.textContent = "";
      cards.forEach((card) => {
        const item = document.createElement("li");
        const author = document.createElement("strong");
        author.textContent = $(".message-author strong", card)?.textContent || "";
        const text = document.createElement("div");
        text.className = "prose";
        // Our own rendered, sanitized message, copied from the thread.
        text.append(...Array.from($(".message-body", card).childNodes, (node) => node.cloneNode(true)));
        item.append(author, text);
        list.appendChild(item);
      });
      $("[data-new-messages-title]", prompt).textContent = (cards.length === 1 ? "A new message" : cards.length + " new messages")
        + " arrived while you were writing. Read it, then send anyway or edit your reply.";
      prompt.hidden = false;
      $("[data-send-anyway]", prompt).focus();
    };
    if (prompt) {
      $("[data-send-anyway]", prompt).addEventListener("click", () => {
        const cards = threadMessages();
        if (cards.length) seenInput.value = cards[cards.length - 1].id.replace(/^m-/, "");
        prompt.hidden = true;
      });
    }

    composer.addEventListener("submit", (event) => {
      // One send per press: a second Ctrl+Enter or click while the first is on its way does
      // nothing (the server also sends once per form token).
      if (composer.dataset.sending) { event.preventDefault(); return; }
      if (characters(body.value) > limit) { event.preventDefault(); updateCounter(); body.focus(); return; }
      if (seenInput && prompt) {
        const unseen = unseenMessages();
        if (unseen.length) { event.preventDefault(); showUnseen(unseen); return; }
      }
      composer.dataset.sending = "1";
      if (draftTimer) { window.clearTimeout(draftTimer); draftTimer = null; }
      if (draftRequest) draftRequest.abort();
      $$("input[data-property-copy]", composer).forEach((input) => input.remove());
      if (changedProperties()) {
        // The sidebar's unsaved changes go with the message, in the same call.
        new FormData(propertiesForm).forEach((value, name) => {
          if (name === "csrfmiddlewaretoken") return;
          const copy = document.createElement("input");
          copy.type = "hidden"; copy.name = "property-" + name; copy.value = value;
          copy.dataset.propertyCopy = "1";
          composer.appendChild(copy);
        });
      }
      window.setTimeout(() => sendButtons.forEach((button) => { button.disabled = true; }), 0);
    });
  }

  // Unread notifications in the tab's title: "(3) INV-12 Refund · Helpdesk" ---------------

  const baseTitle = document.title.replace(/^\(\d+\+?\) /, "");
  const showUnreadInTitle = () => {
    const badge = $("#bell-badge");
    const count = badge ? parseInt(badge.textContent.trim(), 10) : 0;
    document.title = count > 0 ? "(" + count + ") " + baseTitle : baseTitle;
  };
  showUnreadInTitle();
  document.addEventListener("htmx:afterSwap", showUnreadInTitle);
  document.addEventListener("htmx:afterSettle", showUnreadInTitle);

  // @mentions in the composer: a list of the team's agents as "@na" is typed ------------

  const mentionList = $("[data-mention-list]");
  const mentionBody = $("[data-composer-body]");
  if (mentionList && mentionBody && mentionBody.dataset.mentionAgents) {
    const agents = JSON.parse(mentionBody.dataset.mentionAgents);
    let matches = [];
    let active = 0;
    const query = () => {
      const before = mentionBody.value.slice(0, mentionBody.selectionStart);
      const found = /(^|[\s(])@([\w.+-]*)$/.exec(before);
      return found ? found[2] : null;
    };
    const close = () => { mentionList.hidden = true; matches = []; mentionBody.removeAttribute("aria-activedescendant"); };
    const render = () => {
      mentionList.innerHTML = "";
      matches.forEach((agent, index) => {
        const item = document.createElement("li");
        item.id = "mention-" + index;
        item.setAttribute("role", "option");
        item.setAttribute("aria-selected", index === active ? "true" : "false");
        item.textContent = agent.name + " <" + agent.email + ">";
        item.addEventListener("mousedown", (event) => { event.preventDefault(); choose(index); });
        mentionList.appendChild(item);
      });
      mentionList.hidden = !matches.length;
      if (matches.length) mentionBody.setAttribute("aria-activedescendant", "mention-" + active);
    };
    const choose = (index) => {
      const agent = matches[index];
      const text = query();
      if (!agent || text === null) return close();
      const start = mentionBody.selectionStart - text.length;
      const insert = agent.email + " ";
      mentionBody.value = mentionBody.value.slice(0, start) + insert + mentionBody.value.slice(mentionBody.selectionStart);
      mentionBody.selectionStart = mentionBody.selectionEnd = start + insert.length;
      mentionBody.dispatchEvent(new Event("input", { bubbles: true }));
      close();
    };
    mentionBody.setAttribute("aria-controls", "mention-list");
    mentionBody.addEventListener("input", () => {
      const text = query();
      if (text === null) return close();
      const needle = text.toLowerCase();
      matches = agents.filter((agent) => agent.name.toLowerCase().includes(needle) || agent.email.toLowerCase().startsWith(needle)).slice(0, 6);
      active = 0;
      render();
    });
    mentionBody.addEventListener("keydown", (event) => {
      if (mentionList.hidden) return;
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        active = (active + (event.key === "ArrowDown" ? 1 : matches.length - 1)) % matches.length;
        render();
      } else if (event.key === "Enter" || event.key === "Tab") {
        if (event.ctrlKey || event.metaKey) return;
        choose(active);
      } else if (event.key === "Escape") {
        close();
      } else {
        return;
      }
      event.preventDefault();
      event.stopPropagation();
    }, true);
    mentionBody.addEventListener("blur", () => window.setTimeout(close, 150));
  }

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
