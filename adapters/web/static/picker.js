/* The pickers of the command forms (templates/form.html, adapters/web/pickers.py): the
   server lists the first organizations of the user's scope in the field's <datalist>;
   where the scope holds more (data-search="more"), the register search of the user's own
   scope refills the list as a name is typed. Without this script the form works all the
   same: the server resolves the typed name. */
(function () {
  "use strict";
  document.querySelectorAll("input[data-pick='organization'][data-search='more']")
    .forEach(function (input) {
      var list = document.getElementById(input.getAttribute("list"));
      var timer = null;
      var asked = "";
      input.addEventListener("input", function () {
        var text = input.value.trim();
        window.clearTimeout(timer);
        if (text.length < 2 || text === asked || !list) return;
        timer = window.setTimeout(function () {
          asked = text;
          fetch("/api/v1/organizations?limit=20&q=" + encodeURIComponent(text),
                {credentials: "same-origin", headers: {Accept: "application/json"}})
            .then(function (answer) { return answer.ok ? answer.json() : null; })
            .then(function (found) {
              if (!found || input.value.trim() !== text) return;
              var options = (found.organizations || []).map(function (o) {
                var option = document.createElement("option");
                option.value = o.identifier;
                option.textContent = o.name;
                return option;
              });
              if (options.length) list.replaceChildren.apply(list, options);
            })
            .catch(function () { /* the server resolves the name on submission */ });
        }, 250);
      });
    });
}());
