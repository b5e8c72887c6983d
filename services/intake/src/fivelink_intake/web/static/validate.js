// Validate as you type: send the form to the page's validate URL (the same pydantic checks as
// the API; nothing is stored) and show each message next to its field. Plus "add a line".
(function () {
  "use strict";

  function fieldId(name) { return "err-f-" + name.replace(/\./g, "-"); }

  function show(form, errors, touched) {
    form.querySelectorAll(".field-error[data-for]").forEach(function (el) {
      var name = el.getAttribute("data-for");
      if (!touched[name] && !form.dataset.submitted) { return; }
      var message = errors[name] || "";
      el.textContent = message;
      var input = form.querySelector('[name="' + name + '"]');
      if (input && input.type !== "checkbox") {
        if (message) { input.setAttribute("aria-invalid", "true"); }
        else { input.removeAttribute("aria-invalid"); }
      }
      var box = el.closest(".field");
      if (box) { box.classList.toggle("invalid", Boolean(message)); }
    });
  }

  function setup(form) {
    var url = form.getAttribute("data-validate");
    var touched = {};
    var timer = null;
    var seq = 0;
    function check() {
      var mine = ++seq;
      fetch(url, { method: "POST", body: new FormData(form), credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) { if (data && mine === seq) { show(form, data.errors || {}, touched); } })
        .catch(function () { /* offline: the server checks again on submit */ });
    }
    function changed(event) {
      if (event.target && event.target.name) { touched[event.target.name] = true; }
      clearTimeout(timer);
      timer = setTimeout(check, 350);
    }
    form.addEventListener("input", changed);
    form.addEventListener("change", changed);
  }

  function addRows(form) {
    var button = form.querySelector("[data-add-row]");
    var template = form.querySelector("template#line-template");
    var box = form.querySelector("#lines");
    if (!button || !template || !box) { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      var next = box.querySelectorAll("fieldset.line").length;
      var html = template.innerHTML.replace(/999/g, String(next)).replace(/1000/g, String(next + 1));
      box.insertAdjacentHTML("beforeend", html);
      var first = box.querySelector('fieldset.line[data-row="' + next + '"] select, fieldset.line[data-row="' + next + '"] input');
      if (first) { first.focus(); }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-validate]").forEach(function (form) {
      setup(form);
      addRows(form);
    });
  });
})();
