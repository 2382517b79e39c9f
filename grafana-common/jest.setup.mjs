// jsdom gaps that @grafana/ui needs: canvas measureText (BarGauge/text sizing)
// and matchMedia.
if (typeof window !== 'undefined') {
  const ctx = new Proxy(
    { measureText: (t) => ({ width: String(t).length * 7, actualBoundingBoxAscent: 8, actualBoundingBoxDescent: 2 }),
      createImageData: (w, h) => ({ width: w, height: h, data: new Uint8ClampedArray(w * h * 4) }),
      getImageData: (x, y, w, h) => ({ width: w, height: h, data: new Uint8ClampedArray(w * h * 4) }) },
    { get: (t, k) => (k in t ? t[k] : typeof k === 'string' ? () => undefined : undefined), set: () => true },
  );
  HTMLCanvasElement.prototype.getContext = function getContext() { return ctx; };
  window.matchMedia = window.matchMedia || ((query) => ({
    matches: false, media: query, onchange: null,
    addListener() {}, removeListener() {}, addEventListener() {}, removeEventListener() {}, dispatchEvent() { return false; },
  }));
  globalThis.ResizeObserver = globalThis.ResizeObserver || class { observe() {} unobserve() {} disconnect() {} };
}
// jsdom lacks these Node globals that react-router / @grafana/runtime use.
import { TextDecoder, TextEncoder } from 'node:util';
if (typeof globalThis.TextEncoder === 'undefined') globalThis.TextEncoder = TextEncoder;
if (typeof globalThis.TextDecoder === 'undefined') globalThis.TextDecoder = TextDecoder;
