// A local stand-in for FACEIO's fio.js, for tests and offline demos: the same surface the demo uses
// (new faceIO(publicId), enroll(), authenticate(), restartSession(), fioErrCode), no camera, no network.
// enroll() resolves like fio.js with {facialId, timestamp, details}; the Facial ID is ~40 lowercase
// alphanumerics, as FACEIO's are. Without userConsent: true it rejects with TERMS_NOT_ACCEPTED (11), the
// way a user declining FACEIO's own consent screen would. window.__fioStandin records the calls so tests
// can check what the page passed.
(function () {
  "use strict";
  var fioErrCode = {
    PERMISSION_REFUSED: 1, NO_FACES_DETECTED: 2, UNRECOGNIZED_FACE: 3, MANY_FACES: 4, PAD_ATTACK: 5,
    FACE_MISMATCH: 6, NETWORK_IO: 7, WRONG_PIN_CODE: 8, PROCESSING_ERR: 9, UNAUTHORIZED: 10,
    TERMS_NOT_ACCEPTED: 11, UI_NOT_READY: 12, SESSION_EXPIRED: 13, TIMEOUT: 14, TOO_MANY_REQUESTS: 15,
    EMPTY_ORIGIN: 16, FORBIDDDEN_ORIGIN: 17, FORBIDDDEN_COUNTRY: 18, UNIQUE_PIN_REQUIRED: 19,
    SESSION_IN_PROGRESS: 20, FACE_DUPLICATION: 21, MINORS_NOT_ALLOWED: 22
  };
  var record = { enrollCalls: [], authenticateCalls: 0, lastFacialId: null };

  function randomId(n) {
    var alphabet = "abcdefghijklmnopqrstuvwxyz0123456789", out = "", bytes = new Uint8Array(n);
    crypto.getRandomValues(bytes);
    for (var i = 0; i < n; i++) out += alphabet[bytes[i] % alphabet.length];
    return out;
  }

  function faceIO(publicId) {
    if (!(this instanceof faceIO)) throw new TypeError("faceIO must be called with new");
    this.publicId = publicId;
    this.busy = false;
  }

  faceIO.prototype.enroll = function (options) {
    var self = this;
    options = options || {};
    record.enrollCalls.push(JSON.parse(JSON.stringify(options)));
    if (self.busy) return Promise.reject(fioErrCode.SESSION_IN_PROGRESS);
    if (options.userConsent !== true) return Promise.reject(fioErrCode.TERMS_NOT_ACCEPTED);
    self.busy = true;
    return new Promise(function (resolve) {
      setTimeout(function () {
        self.busy = false;
        record.lastFacialId = randomId(40);
        resolve({
          facialId: record.lastFacialId,
          timestamp: new Date().toISOString(),
          details: { gender: "unknown", age: 30 }
        });
      }, 150);
    });
  };

  faceIO.prototype.authenticate = function (options) {
    record.authenticateCalls++;
    if (!record.lastFacialId) return Promise.reject(fioErrCode.UNRECOGNIZED_FACE);
    var facialId = record.lastFacialId;
    return new Promise(function (resolve) {
      setTimeout(function () { resolve({ facialId: facialId, payload: (options || {}).payload || null }); }, 150);
    });
  };

  faceIO.prototype.restartSession = function () { this.busy = false; return true; };

  window.faceIO = faceIO;
  window.fioErrCode = fioErrCode;
  window.__fioStandin = record;
})();
