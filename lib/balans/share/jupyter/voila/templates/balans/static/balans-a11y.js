// Slider handles named after their labels, their values spoken as the readouts show them.
// Loaded in <head>: it watches the document for the widgets as they are drawn.
(function () {
  function label(root) {
    root.querySelectorAll('.widget-slider').forEach(function (box) {
      var lab = box.querySelector('.widget-label');
      var handle = box.querySelector('.noUi-handle');
      if (!lab || !handle) return;
      var name = lab.textContent.trim();
      if (name && handle.getAttribute('aria-label') !== name) handle.setAttribute('aria-label', name);
      var readout = box.parentElement && box.parentElement.querySelector('.balans-readout');
      if (readout && handle.getAttribute('aria-valuetext') !== readout.textContent) {
        handle.setAttribute('aria-valuetext', readout.textContent);
      }
    });
  }
  new MutationObserver(function () { label(document); })
    .observe(document.documentElement, {subtree: true, childList: true, characterData: true, attributes: true, attributeFilter: ['aria-valuenow']});
})();
