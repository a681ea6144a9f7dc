// The interactive API docs (/docs): each operation's form sends its request with fetch
// and shows the status and the response. Hand-written, no build step.
(function () {
  "use strict";
  var tokenInput = document.getElementById("token");
  try {
    tokenInput.value = sessionStorage.getItem("casefile-docs-token") || "";
  } catch (e) { /* storage may be unavailable */ }
  tokenInput.addEventListener("change", function () {
    try { sessionStorage.setItem("casefile-docs-token", tokenInput.value.trim()); } catch (e) {}
  });

  function buildUrl(op, form) {
    var path = op.dataset.path;
    var missing = [];
    form.querySelectorAll("input.param").forEach(function (input) {
      var value = input.value.trim();
      if (!value) { missing.push(input.dataset.name); }
      path = path.replace("{" + input.dataset.name + "}", encodeURIComponent(value));
    });
    if (missing.length) { throw new Error("fill in: " + missing.join(", ")); }
    var query = form.querySelector("input.query").value.trim().replace(/^\?/, "");
    return query ? path + "?" + query : path;
  }

  document.querySelectorAll("details.op").forEach(function (op) {
    var form = op.querySelector("form.try");
    var status = form.querySelector(".status");
    var out = form.querySelector("pre.out");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var url, init = {method: op.dataset.method, headers: {"Accept": "application/json"},
                       credentials: "omit"};
      try {
        url = buildUrl(op, form);
        var file = form.querySelector("input.file");
        if (file && file.files.length) {  // an upload: the file itself is the body
          init.body = file.files[0];
          init.headers["Content-Type"] = file.files[0].type || "application/octet-stream";
        }
        var body = form.querySelector("textarea.body");
        if (body) {
          JSON.parse(body.value);  // say so here rather than send malformed JSON
          init.body = body.value;
          init.headers["Content-Type"] = "application/json";
        }
      } catch (e) {
        status.textContent = e.message;
        return;
      }
      var token = tokenInput.value.trim();
      if (token) { init.headers["Authorization"] = "Bearer " + token; }
      status.textContent = "…";
      fetch(url, init).then(function (response) {
        return response.text().then(function (text) {
          var shown = text;
          try { shown = JSON.stringify(JSON.parse(text), null, 2); } catch (e) {}
          status.textContent = response.status + " " + response.statusText;
          status.dataset.status = String(response.status);
          out.textContent = shown;
          out.hidden = false;
        });
      }).catch(function (e) {
        status.textContent = (document.body.dataset.failed || "failed") + ": " + e.message;
      });
    });
  });
})();
