// Questionnaires: hides the questions a respondent's answers skip (the server applies the same
// rules and drops skipped answers). Each question is a fieldset.q with data-skips "option:target;…".
(function () {
  function apply(form) {
    var qs = Array.prototype.slice.call(form.querySelectorAll('fieldset.q'));
    var jumpTo = null, ended = false;
    qs.forEach(function (fs) {
      var id = fs.getAttribute('data-q');
      var hidden = ended || (jumpTo !== null && id !== jumpTo);
      if (!hidden && jumpTo === id) jumpTo = null;
      fs.hidden = hidden;
      fs.querySelectorAll('input,textarea,select').forEach(function (el) { el.disabled = hidden; });
      if (hidden) return;
      var rules = (fs.getAttribute('data-skips') || '').split(';').filter(Boolean);
      rules.forEach(function (r) {
        var parts = r.split(':');
        var box = fs.querySelector('input[value="' + parts[0] + '"]');
        if (box && box.checked && jumpTo === null && !ended) {
          if (parts[1] === 'end') ended = true; else jumpTo = parts[1];
        }
      });
    });
  }
  document.querySelectorAll('form.questionnaire').forEach(function (form) {
    form.addEventListener('change', function () { apply(form); });
    apply(form);
  });
})();
