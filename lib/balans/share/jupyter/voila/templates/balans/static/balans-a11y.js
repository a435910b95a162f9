// Accessibility of the widgets (a file, not inline script: the page's CSP allows no other).
// Loaded in <head>: it watches the document for the widgets as they are drawn.
//  - Slider handles named after their own labels, their values spoken as the readouts beside
//    them show them (decimal comma); a month slider speaks its month in words ("maj 2023").
//    Each slider reads its own row only: a month slider has no readout of ours, and reading
//    the group's first readout gave it another slider's value.
//  - The lever groups' headers (ipywidgets' Accordion draws them as plain <div>s) become
//    buttons a keyboard reaches (Tab) and opens (Enter or Space), with aria-expanded.
//  - The page's language follows the app's (the statement link in the footer carries it).
(function () {
  var MONTHS = {
    sv: ['januari', 'februari', 'mars', 'april', 'maj', 'juni', 'juli', 'augusti', 'september', 'oktober', 'november', 'december'],
    en: ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December']
  };

  function pageLang() {
    var link = document.querySelector('.balans-footer a[href*="lang="]');
    var m = link && /[?&]lang=(\w+)/.exec(link.getAttribute('href'));
    return m ? m[1] : 'sv';
  }

  function monthWords(text, lang) {
    var m = /^(\d{4})-(\d{2})$/.exec(text.trim());
    if (!m) return text.trim();
    return (MONTHS[lang] || MONTHS.sv)[parseInt(m[2], 10) - 1] + ' ' + m[1];
  }

  function set(el, name, value) {
    if (value && el.getAttribute(name) !== value) el.setAttribute(name, value);
  }

  function sliders(root, lang) {
    root.querySelectorAll('.widget-slider').forEach(function (box) {
      var lab = box.querySelector('.widget-label');
      var handle = box.querySelector('.noUi-handle');
      if (!lab || !handle) return;
      set(handle, 'aria-label', lab.textContent.trim());
      var row = box.closest('.balans-slider-row');
      var readout = row && row.querySelector('.balans-readout');
      if (readout) {
        set(handle, 'aria-valuetext', readout.textContent.trim());
        return;
      }
      var own = box.querySelector('.widget-readout');  // a month slider's own readout
      if (own && own.textContent.trim()) set(handle, 'aria-valuetext', monthWords(own.textContent, lang));
      if (own) set(own, 'aria-label', lab.textContent.trim());
    });
  }

  function headers(root) {
    root.querySelectorAll('.jupyter-widget-Collapse-header').forEach(function (h) {
      if (!h.hasAttribute('tabindex')) {
        h.setAttribute('tabindex', '0');
        h.setAttribute('role', 'button');
        h.addEventListener('keydown', function (ev) {
          if (ev.key === 'Enter' || ev.key === ' ') {
            ev.preventDefault();
            h.click();
          }
        });
      }
      var open = !!(h.parentElement && h.parentElement.classList.contains('jupyter-widget-Collapse-open'));
      set(h, 'aria-expanded', open ? 'true' : 'false');
    });
  }

  var pending = false;
  function update() {
    pending = false;
    var lang = pageLang();
    if (document.documentElement.lang !== lang) document.documentElement.lang = lang;
    sliders(document, lang);
    headers(document);
  }
  new MutationObserver(function () {
    if (!pending) {
      pending = true;
      (window.requestAnimationFrame || setTimeout)(update);
    }
  }).observe(document.documentElement, {
    subtree: true, childList: true, characterData: true, attributes: true,
    attributeFilter: ['aria-valuenow', 'class', 'href']
  });
})();
