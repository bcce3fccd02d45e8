/* Accord's web forms on the company's own site (a script tag of that site loads this).
   It keeps the visit's UTM tags, click ids, referrer and landing page while the visitor
   moves between the site's pages, adds them to every form that posts to Accord, and
   sends the form in the page, showing the thank-you text or what to mend. Without it,
   the same forms still post and work. */
(function () {
  "use strict";
  var KEYS = ["utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "gclid", "fbclid"];
  var STORE = "accord-visit";

  function stored() {
    try { return JSON.parse(window.localStorage.getItem(STORE)) || {}; } catch (e) { return {}; }
  }

  // A new visit starts with a tagged link or a page of another site; inner pages keep it.
  function visit() {
    var params = new URLSearchParams(window.location.search);
    var tagged = KEYS.filter(function (key) { return params.get(key); });
    var referrer = document.referrer;
    var outside = referrer && new URL(referrer).host !== window.location.host;
    var kept = stored();
    if (!kept.landing_page || tagged.length || outside) {
      kept = { referrer: outside ? referrer : "", landing_page: window.location.href };
      tagged.forEach(function (key) { kept[key] = params.get(key); });
      try { window.localStorage.setItem(STORE, JSON.stringify(kept)); } catch (e) { /* private mode */ }
    }
    return kept;
  }

  function hidden(form, name, value) {
    if (!value || form.elements[name]) return;
    var input = document.createElement("input");
    input.type = "hidden";
    input.name = name;
    input.value = value;
    form.appendChild(input);
  }

  function say(form, text, isError) {
    var note = form.querySelector(".accord-note") || document.createElement("p");
    note.className = "accord-note";
    note.setAttribute("role", isError ? "alert" : "status");
    note.textContent = text;
    if (!note.parentNode) form.appendChild(note);
  }

  function send(form, event) {
    if (!window.fetch || !window.FormData) return;  // the plain post goes on
    event.preventDefault();
    var button = form.querySelector("[type=submit]");
    if (button) button.disabled = true;
    window.fetch(form.action, {
      method: "POST", body: new FormData(form), mode: "cors", credentials: "omit",
      headers: { Accept: "application/json" }
    }).then(function (answer) {
      if (!answer.ok) throw new Error(answer.status);
      return answer.json();
    }).then(function (body) {
      if (body.redirect) { window.location.href = body.redirect; return; }
      if (body.ok) { form.reset(); say(form, body.thanks, false); return; }
      var problems = Object.keys(body.errors || {}).map(function (name) {
        return body.errors[name].join(" ");
      });
      say(form, problems.join(" "), true);
    }).catch(function () {
      form.submit();  // the page's own post, when the network or Accord cannot answer here
    }).finally(function () {
      if (button) button.disabled = false;
    });
  }

  function ready() {
    var kept = visit();
    var forms = document.querySelectorAll("form[action^='{{ forms_address|escapejs }}']");
    Array.prototype.forEach.call(forms, function (form) {
      Object.keys(kept).forEach(function (key) { hidden(form, key, kept[key]); });
      hidden(form, "started", "{{ started|escapejs }}");  // signed by Accord as this loaded
      form.addEventListener("submit", function (event) { send(form, event); });
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", ready);
  else ready();
})();
