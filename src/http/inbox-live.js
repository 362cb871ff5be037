// The inbox list keeps itself up to date. /inbox/events (Server-Sent Events) says when a message arrives or goes;
// the page then fetches itself again (HTML the server rendered and escaped) and swaps in its live parts: the count,
// the "Delete all" button and the list. The search field is never replaced, so typing is not interrupted.
// Served as /inbox/live.js under a CSP that allows this one file (by nonce) and connections to this origin only.
(() => {
  'use strict';

  const LIVE_PARTS = ['inbox-count', 'inbox-actions', 'inbox-live'];
  const REFRESH_DELAY_MS = 250;
  const status = document.getElementById('inbox-status');
  const announcer = document.getElementById('inbox-announce');
  if (status === null || typeof window.EventSource !== 'function') return;

  let timer = null;
  let refreshing = false;
  let refreshAgain = false;

  function showStatus(state, text) {
    status.hidden = false;
    status.dataset.state = state;
    status.textContent = text;
  }

  function messageIds() {
    return new Set(Array.from(document.querySelectorAll('[data-message-id]'), (row) => row.getAttribute('data-message-id')));
  }

  async function refresh() {
    if (refreshing) {
      refreshAgain = true;
      return;
    }
    refreshing = true;
    try {
      const before = messageIds();
      const response = await fetch(window.location.href, { headers: { accept: 'text/html' }, cache: 'no-store', credentials: 'same-origin' });
      if (!response.ok) return;
      const next = new DOMParser().parseFromString(await response.text(), 'text/html');
      for (const id of LIVE_PARTS) {
        const current = document.getElementById(id);
        const fresh = next.getElementById(id);
        if (current !== null && fresh !== null) current.replaceWith(document.adoptNode(fresh));
      }
      document.title = next.title;
      let added = 0;
      for (const row of document.querySelectorAll('[data-message-id]')) {
        if (!before.has(row.getAttribute('data-message-id'))) {
          row.classList.add('is-new');
          added += 1;
        }
      }
      if (added > 0 && announcer !== null) announcer.textContent = added === 1 ? '1 new message' : `${added} new messages`;
    } catch {
      // The server went away for a moment: the next event refreshes again.
    } finally {
      refreshing = false;
      if (refreshAgain) {
        refreshAgain = false;
        schedule();
      }
    }
  }

  // A campaign delivers hundreds of messages a second: one refresh per burst, not one per message.
  function schedule() {
    if (timer !== null) return;
    timer = window.setTimeout(() => {
      timer = null;
      void refresh();
    }, REFRESH_DELAY_MS);
  }

  let events = null;
  function connect() {
    events = new EventSource('/inbox/events');
    events.addEventListener('open', () => showStatus('live', 'Live'));
    events.addEventListener('error', () => showStatus('offline', 'Reconnecting…'));
    for (const type of ['received', 'deleted', 'cleared']) events.addEventListener(type, schedule);
  }
  connect();
  // Leaving the page closes the stream; coming back to it from the history opens it again and catches up.
  window.addEventListener('pagehide', () => events.close());
  window.addEventListener('pageshow', (event) => {
    if (!event.persisted) return;
    connect();
    schedule();
  });
})();
