/*
 * htmx error answers (issue 10, item 10). htmx does not swap 4xx and 5xx answers by default,
 * so a refused SMS-code request showed nothing at all. Loaded by base.html after htmx.
 *
 * - A 4xx answer with an HTML fragment (a form partial with its Chinese error, such as
 *   accounts/_sms_status.html) is swapped into the request's target like a 200.
 * - A 4xx answer that is a whole page (the 403/404 pages, the CSRF page), a 5xx answer, a
 *   network failure or a time-out leaves the page as it is and shows a Chinese note where
 *   the person is looking: in the request's target, or else in the form of the element that
 *   made the request. The message of our own error pages ([data-error-message]) is used
 *   when there is one.
 *
 * No inline script anywhere: the Content-Security-Policy allows script from 'self' only.
 */
(function () {
  "use strict";

  var NETWORK = "网络连接失败，操作没有完成。请检查网络后重试。";
  var TIMEOUT = "服务器响应超时，操作可能没有完成。请稍后重试。";
  var SERVER = "服务器暂时无法完成此操作，请稍后重试。";
  var REFUSED = "请求未能完成，请刷新页面后重试。";

  var notes = new WeakMap();

  function isWholePage(text) {
    return /<html[\s>]/i.test(text || "");
  }

  function messageOf(text, fallback) {
    if (!text) {
      return fallback;
    }
    var doc = new DOMParser().parseFromString(text, "text/html");
    var found = doc.querySelector("[data-error-message]");
    var message = found ? found.textContent.replace(/\s+/g, " ").trim() : "";
    return message || fallback;
  }

  function clearNote(elt) {
    var note = elt && notes.get(elt);
    if (note) {
      note.remove();
      notes.delete(elt);
    }
  }

  /* Where the note goes: inside the target, unless the target is the requesting control
     itself (a button) or the whole page; then into the control's form; else after it. */
  function showNote(elt, target, message) {
    clearNote(elt);
    var note = document.createElement("div");
    note.className = "alert alert-danger htmx-error-note";
    note.setAttribute("role", "alert");
    note.textContent = message;
    var usable =
      target && target.isConnected && target !== document.body && target !== elt &&
      !/^(BUTTON|INPUT|SELECT|TEXTAREA|A)$/.test(target.tagName);
    var form = elt && elt.closest ? elt.closest("form") : null;
    if (usable) {
      target.prepend(note);
    } else if (form) {
      form.prepend(note);
    } else if (elt && elt.isConnected && elt !== document.body) {
      elt.insertAdjacentElement("afterend", note);
    } else {
      var main = document.getElementById("main") || document.body;
      main.prepend(note);
    }
    if (elt) {
      notes.set(elt, note);
    }
  }

  function requester(detail) {
    return (detail.requestConfig && detail.requestConfig.elt) || detail.elt;
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    clearNote(requester(event.detail));
  });

  document.addEventListener("htmx:beforeSwap", function (event) {
    var detail = event.detail;
    var status = detail.xhr ? detail.xhr.status : 0;
    if (status < 400) {
      return;
    }
    var body = detail.serverResponse || "";
    if (status < 500 && body.trim() && !isWholePage(body)) {
      detail.shouldSwap = true;
      detail.isError = false;
      return;
    }
    detail.shouldSwap = false;
    showNote(
      requester(detail),
      detail.target,
      messageOf(isWholePage(body) ? body : "", status < 500 ? REFUSED : SERVER)
    );
  });

  document.addEventListener("htmx:sendError", function (event) {
    showNote(requester(event.detail), event.detail.target, NETWORK);
  });

  document.addEventListener("htmx:timeout", function (event) {
    showNote(requester(event.detail), event.detail.target, TIMEOUT);
  });
})();
