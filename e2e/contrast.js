// Text whose colour contrast with its background is under WCAG AA (4.5:1, or 3:1 for large
// text). The background is the nearest opaque one up the tree; text over an image is skipped.
() => {
  function parse(value) {
    const m = value.match(/rgba?\(([^)]+)\)/);
    if (!m) return null;
    const p = m[1].split(/[\s,/]+/).filter(Boolean).map(Number);
    return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 };
  }
  function luminance(c) {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b);
  }
  function background(el) {
    for (let e = el; e; e = e.parentElement) {
      const style = getComputedStyle(e);
      if (style.backgroundImage && style.backgroundImage !== "none") return null;
      const c = parse(style.backgroundColor);
      if (c && c.a >= 1) return c;
    }
    return { r: 255, g: 255, b: 255, a: 1 };
  }
  const failures = [];
  const seen = new Set();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const text = walker.currentNode.textContent.trim();
    const el = walker.currentNode.parentElement;
    if (!text || !el || seen.has(el)) continue;
    seen.add(el);
    if (el.closest("[hidden], [aria-hidden=true], :disabled, script, style, noscript")) continue;
    const style = getComputedStyle(el);
    const rect = el.getBoundingClientRect();
    // Hidden, or visually hidden for screen readers only (.sr-only: a 1px clipped box).
    if (style.visibility === "hidden" || rect.width <= 1 || rect.height <= 1) continue;
    if (rect.right < 0 || rect.bottom < 0) continue; // moved off-screen (skip link)
    const fg = parse(style.color);
    const bg = background(el);
    if (!fg || !bg) continue;
    const mixed = { r: fg.r * fg.a + bg.r * (1 - fg.a), g: fg.g * fg.a + bg.g * (1 - fg.a), b: fg.b * fg.a + bg.b * (1 - fg.a) };
    const l1 = luminance(mixed);
    const l2 = luminance(bg);
    const ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
    const size = parseFloat(style.fontSize);
    const large = size >= 24 || (parseInt(style.fontWeight, 10) >= 700 && size >= 18.66);
    if (ratio < (large ? 3 : 4.5)) {
      failures.push(`${el.tagName.toLowerCase()}.${el.className} "${text.slice(0, 40)}": ${ratio.toFixed(2)}:1 (${style.color} on rgb(${bg.r}, ${bg.g}, ${bg.b}))`);
    }
  }
  return failures;
}
