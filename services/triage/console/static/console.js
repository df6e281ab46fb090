/* SoSafe duty-officer console: GOV.UK Frontend start-up and short polling of live regions.
 * Loaded as a static file so the Content-Security-Policy needs no inline script. */
(function () {
  'use strict';

  var POLL_MS = 10000;
  var body = document.body;

  body.classList.add('js-enabled');
  if ('noModule' in HTMLScriptElement.prototype) {
    body.classList.add('govuk-frontend-supported');
  }
  var govukJs = body.getAttribute('data-govuk-js');
  if (govukJs) {
    import(govukJs).then(function (govuk) { govuk.initAll(); }).catch(function () {
      /* The console works without GOV.UK Frontend's JavaScript. */
    });
  }

  var regions = Array.prototype.slice.call(document.querySelectorAll('[data-poll-url]'));
  if (!regions.length || !window.fetch) { return; }
  var status = document.querySelector('[data-poll-status]');

  function signatureOf(element) {
    var marked = element.querySelector('[data-signature]');
    return marked ? marked.getAttribute('data-signature') : null;
  }

  /* Where focus was inside a region, as something that survives the region's replacement. */
  function focusKey(region) {
    var active = document.activeElement;
    if (!active || !region.contains(active)) { return null; }
    return active.id ? '#' + CSS.escape(active.id)
      : active.getAttribute('href') ? '[href="' + CSS.escape(active.getAttribute('href')) + '"]' : null;
  }

  function clock() {
    var now = new Date();
    return now.toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit', second: '2-digit' });
  }

  function refresh(region) {
    return fetch(region.getAttribute('data-poll-url'), {
      credentials: 'same-origin', cache: 'no-store', headers: { Accept: 'text/html' }
    }).then(function (response) {
      if (response.status === 401) { window.location.reload(); return null; }
      if (!response.ok) { throw new Error('HTTP ' + response.status); }
      return response.text();
    }).then(function (html) {
      if (html === null) { return false; }
      var before = signatureOf(region);
      var key = focusKey(region);
      region.innerHTML = html;
      if (key) {
        var again = region.querySelector(key);
        if (again) { again.focus(); }
      }
      return before !== signatureOf(region);
    });
  }

  /* Once the item is final (someone else acted), its action forms would only be refused: hide them. */
  function closeFinishedActions() {
    var actions = document.querySelector('[data-item-actions]');
    if (!actions || actions.hidden || !document.querySelector('[data-item-open="false"]')) { return; }
    actions.hidden = true;
    var notice = document.querySelector('[data-item-final-notice]');
    if (notice) { notice.hidden = false; }
  }

  function tick() {
    Promise.all(regions.map(refresh)).then(function (changed) {
      closeFinishedActions();
      if (!status) { return; }
      var names = regions.filter(function (region, i) { return changed[i]; })
        .map(function (region) { return region.getAttribute('data-poll-name'); });
      if (names.length) {
        status.textContent = names.join(' and ') + ' updated at ' + clock() + '.';
      }
    }).catch(function () {
      if (status) { status.textContent = 'Could not refresh at ' + clock() + '; trying again shortly.'; }
    });
  }

  window.setInterval(tick, POLL_MS);
}());
