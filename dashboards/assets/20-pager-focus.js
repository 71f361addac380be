/* Keyboard focus in a table pager (dashboards/components/pager.py) survives the server drawing it again.
   Dash mounts a callback's new children afresh, so the button just pressed (Enter on "Next") is replaced and the
   focus falls back to the page's <body>: a second Enter did nothing. After a press from the keyboard, the button
   with the same id ("next", "page-3") takes the focus back once it is drawn again; when it is disabled (Next on
   the last page) or gone, the current page's button does. Only the focus moves here: which page shows is the
   server's answer to the click, as for any other button. */
(function () {
  "use strict";
  var pressed = null; // {id, box}: the pager button pressed last and the element its pager is drawn into

  document.addEventListener(
    "click",
    function (event) {
      var button = event.target instanceof Element ? event.target.closest(".pagination button.page-link") : null;
      var nav = button && button.closest("nav");
      // Enter and Space click with detail 0; a mouse's click (detail 1 and up) needs no focus back, nor its ring.
      pressed = nav && nav.parentElement && event.detail === 0 ? { id: button.id, box: nav.parentElement } : null;
    },
    true
  );
  document.addEventListener("focusin", function (event) {
    if (pressed && !(event.target instanceof Element && event.target.closest(".pagination"))) {
      pressed = null; // the reader moved on: never take the focus back from elsewhere
    }
  });

  new MutationObserver(function () {
    if (!pressed || (document.activeElement && document.activeElement !== document.body)) {
      return;
    }
    var again = document.getElementById(pressed.id);
    if (!again || again.disabled || !pressed.box.contains(again)) {
      again = pressed.box.querySelector('.pagination [aria-current="page"]');
    }
    if (again) {
      pressed = null;
      again.focus();
    }
  }).observe(document.documentElement, { childList: true, subtree: true });
})();
