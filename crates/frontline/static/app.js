// Frontline dashboard: progressive enhancement only. Every page works
// without this file; it adds confirmations and the live channel.
"use strict";

// Words the pages render for this file to show, in the page's language:
// <body data-t-live="…">. Placeholders: {n}.
function say(key, fallback, n) {
  const text = (document.body && document.body.dataset[key]) || fallback;
  return text.replace("{n}", String(n));
}

document.addEventListener("submit", (ev) => {
  const button = ev.submitter;
  const message = button && button.dataset.confirm;
  if (message && !window.confirm(message)) ev.preventDefault();
});

// Live updates over server-sent events. Pages mark a list with
// data-source="/events"; each event arrives as JSON {kind, class, at, data}.
function connectLive() {
  const list = document.querySelector("[data-source]");
  if (!list) return;
  const state = document.getElementById("live-state");
  const source = new EventSource(list.dataset.source);
  source.addEventListener("open", () => { if (state) state.textContent = say("tLive", "Live"); });
  source.addEventListener("error", () => { if (state) state.textContent = say("tReconnecting", "Reconnecting…"); });
  source.addEventListener("message", (ev) => {
    let event;
    try { event = JSON.parse(ev.data); } catch (_) { return; }
    const item = document.createElement("li");
    item.textContent = `${event.at}  ${event.kind}  ${JSON.stringify(event.data)}`;
    list.prepend(item);
    while (list.children.length > 100) list.lastElementChild.remove();
    document.dispatchEvent(new CustomEvent("frontline:event", { detail: event }));
  });
}

if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", connectLive);
} else {
  connectLive();
}

// Countdowns to the next public update: <time data-due="ms since epoch">.
function tickDue() {
  const now = Date.now();
  document.querySelectorAll("time[data-due]").forEach((t) => {
    const mins = Math.floor((Number(t.dataset.due) - now) / 60000);
    if (Number.isNaN(mins)) return;
    t.textContent = mins < 0
      ? say("tOverdue", "overdue by {n} min", -mins)
      : say("tIn", "in {n} min", mins);
    const holder = t.closest("tr, dd");
    if (holder && mins < 0) holder.classList.add("overdue");
  });
}
setInterval(tickDue, 30000);

// On an incident's page, keep its facts and timeline current: when an
// event concerns it, the page is read again and those two parts replaced
// (forms being typed in are left alone); the banner says the rest changed.
(function liveIncident() {
  const banner = document.getElementById("incident-changed");
  if (!banner) return;
  const id = banner.dataset.incident;
  let timer = null;
  const refresh = async () => {
    timer = null;
    try {
      const resp = await fetch(window.location.pathname, { credentials: "same-origin", headers: { Accept: "text/html" } });
      if (!resp.ok) return;
      const fresh = new DOMParser().parseFromString(await resp.text(), "text/html");
      for (const part of ["incident-facts", "incident-timeline"]) {
        const now = document.getElementById(part);
        const next = fresh.getElementById(part);
        if (now && next) now.innerHTML = next.innerHTML;
      }
      tickDue();
    } catch (_) { /* the next event tries again */ }
  };
  document.addEventListener("frontline:event", (ev) => {
    const data = ev.detail && ev.detail.data;
    if (!data || (data.id !== id && data.incident !== id)) return;
    banner.hidden = false;
    if (!timer) timer = setTimeout(refresh, 500);
  });
})();

// The overview re-reads its body (server-rendered HTML) when an event says
// something it shows may have changed, at most every two seconds.
(function refreshOverview() {
  const holder = document.querySelector("[data-refresh]");
  if (!holder) return;
  const watched = /^(signal|alert|suggestion|incident|feedback|notice|component|ticket)\./;
  let timer = null;
  let busy = false;
  const refresh = async () => {
    timer = null;
    if (busy) { timer = setTimeout(refresh, 2000); return; }
    busy = true;
    holder.setAttribute("aria-busy", "true");
    try {
      const resp = await fetch(holder.dataset.refresh, { credentials: "same-origin", headers: { Accept: "text/html" } });
      if (resp.ok) { holder.innerHTML = await resp.text(); tickDue(); }
    } catch (_) { /* the next event tries again */ }
    busy = false;
    holder.setAttribute("aria-busy", "false");
  };
  document.addEventListener("frontline:event", (ev) => {
    if (!ev.detail || !watched.test(ev.detail.kind)) return;
    if (!timer) timer = setTimeout(refresh, 2000);
  });
})();
