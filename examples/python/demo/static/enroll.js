// Enrollment, in the order fioguard requires (duties D7, D8):
//   1. the user clicks the button (never on page load);
//   2. the backend asks fioguard (enroll.authorize, trigger "user_action") and returns fioOptions;
//   3. only then fio.enroll({...fioOptions}) runs: userConsent: true skips FACEIO's own consent screen
//      because the site already recorded consent, and payload carries the single-use ticket;
//   4. the backend completes the enrollment (enroll.complete) with the Facial ID FACEIO returned.
(function () {
  "use strict";
  var button = document.getElementById("enroll-button");
  var status = document.getElementById("enroll-status");
  if (!button) return;

  // fio.js error codes that the user can act on (fio.js fioErrCode values).
  var messages = {
    1: "You did not allow the camera. Allow it and try again.",
    2: "No face was seen. Face the camera in good light and try again.",
    4: "More than one face was seen. Make sure only you are in front of the camera.",
    11: "The terms were not accepted.",
    13: "The session expired. Please try again.",
    14: "This took too long. Please try again.",
    20: "An enrollment is already running in another tab.",
    21: "This face is already enrolled.",
    22: "Face login is not available to minors on this site."
  };

  function say(text, isError) {
    status.textContent = text;
    status.className = isError ? "error" : "";
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": button.dataset.csrf },
      body: JSON.stringify(body || {})
    }).then(function (r) { return r.json(); });
  }

  button.addEventListener("click", function () {
    button.disabled = true;
    say("Checking that you can enroll…");
    post(button.dataset.authorizeUrl).then(function (decision) {
      if (!decision.allow) {
        throw new Error("Face login cannot be set up: " + decision.reasons.join("; "));
      }
      say("Look at your camera…");
      var fio = new faceIO(button.dataset.publicId);
      var options = Object.assign({ locale: "auto" }, decision.fioOptions);
      return fio.enroll(options).catch(function (code) {
        throw new Error(messages[code] || "Enrollment failed (FACEIO error " + code + "). Please try again.");
      });
    }).then(function (userInfo) {
      say("Saving your Facial ID…");
      return post(button.dataset.completeUrl, { facialId: userInfo.facialId });
    }).then(function (done) {
      if (!done.ok) throw new Error(done.message);
      window.location.assign(done.redirect);
    }).catch(function (err) {
      say(err.message, true);
      button.disabled = false;
      button.focus();
    });
  });
})();
