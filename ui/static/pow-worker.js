// Finds a counter n such that SHA-256(token + ":" + n) starts with `bits` zero
// bits (the server's pow.Verify), reporting progress against the expected work.
self.onmessage = async function (e) {
  "use strict";
  var token = e.data.token, bits = e.data.bits;
  var enc = new TextEncoder();
  var expected = Math.pow(2, bits), lastPct = -1;
  for (var n = 0; ; n++) {
    var h = new Uint8Array(await crypto.subtle.digest("SHA-256", enc.encode(token + ":" + n)));
    if (zeros(h) >= bits) {
      self.postMessage({ solution: String(n) });
      return;
    }
    if ((n & 1023) === 0) {
      var pct = Math.min(99, Math.floor(100 * n / expected));
      if (pct !== lastPct) { lastPct = pct; self.postMessage({ progress: pct }); }
    }
  }
};

function zeros(h) {
  var n = 0;
  for (var i = 0; i < h.length; i++) {
    if (h[i] === 0) { n += 8; continue; }
    return n + Math.clz32(h[i]) - 24;
  }
  return n;
}
