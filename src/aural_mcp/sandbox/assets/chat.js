// The candidate page as a chat: an answer is posted in the background, the interviewer's next
// turn is appended to the conversation (a live region, so screen readers announce it) and focus
// returns to the answer box. Without this script the same forms post and redirect as usual.
"use strict";
(function () {
  function answerBox(form) {
    return form.querySelector("textarea, input[type=radio], input[type=checkbox]");
  }

  function enhance(form) {
    var hint = form.querySelector("#send-hint");
    var box = form.querySelector("textarea");
    if (hint && box) hint.hidden = false;
    if (box) {
      box.addEventListener("keydown", function (event) {
        if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
          event.preventDefault();
          form.requestSubmit();
        }
      });
    }
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      send(form);
    });
  }

  function send(form) {
    var button = form.querySelector("button[type=submit]");
    if (button.disabled) return; // already on its way: one answer, one post
    button.disabled = true;
    var body = new URLSearchParams(new FormData(form));
    fetch(form.action, { method: "POST", body: body, credentials: "same-origin", redirect: "follow" })
      .then(function (response) {
        return response.text().then(function (text) { return { url: response.url, text: text }; });
      })
      .then(function (reply) {
        var next = new DOMParser().parseFromString(reply.text, "text/html");
        var nextLog = next.getElementById("log");
        var nextForm = next.getElementById("turn");
        var log = document.getElementById("log");
        if (!nextLog || !nextForm || !log) {
          window.location.assign(reply.url); // the thank-you page, or a page without a question
          return;
        }
        var known = log.children.length;
        Array.prototype.slice.call(nextLog.children, known).forEach(function (turn) {
          log.appendChild(document.importNode(turn, true));
        });
        var progress = document.getElementById("progress");
        var nextProgress = next.getElementById("progress");
        if (progress && nextProgress) progress.textContent = nextProgress.textContent;
        document.title = next.title;
        var fresh = document.importNode(nextForm, true);
        form.replaceWith(fresh);
        enhance(fresh);
        var focus = fresh.querySelector("[aria-invalid=true]") || answerBox(fresh);
        if (focus) focus.focus();
      })
      .catch(function () {
        button.disabled = false;
        form.submit(); // the network hiccuped: fall back to a plain post
      });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("turn");
    if (form) enhance(form);
  });
})();
