// The reviewer page works without this file; it only keeps a reviewer from approving the
// unedited draft after editing it. (The ?token= link is exchanged server-side: a redirect.)
"use strict";
(function () {
  var box = document.getElementById("final");
  var approve = document.getElementById("approve");
  var hint = document.getElementById("edited-hint");
  if (!box || !approve) { return; }
  var draft = box.getAttribute("data-draft");
  function sync() {
    var edited = box.value.replace(/\r\n/g, "\n") !== draft;
    approve.disabled = edited;
    if (hint) { hint.hidden = !edited; }
  }
  box.addEventListener("input", sync);
  sync();
})();
