// Elements that stick out past the right edge of the screen (the page would scroll sideways).
// Content inside a strip that scrolls or clips on its own (the nav, the view tabs) may pass it.
() => {
  const width = document.documentElement.clientWidth;
  const wide = [];
  if (document.documentElement.scrollWidth > width) {
    wide.push("page:" + document.documentElement.scrollWidth);
  }
  function clippedByParent(el) {
    for (let p = el.parentElement; p; p = p.parentElement) {
      const overflow = getComputedStyle(p).overflowX;
      if (["auto", "scroll", "hidden"].includes(overflow) && p.getBoundingClientRect().right <= width + 1) {
        return true;
      }
    }
    return false;
  }
  for (const el of document.querySelectorAll("body *")) {
    const box = el.getBoundingClientRect();
    if (box.width === 0 || box.right <= width + 1 || !el.checkVisibility() || clippedByParent(el)) continue;
    const cls = typeof el.className === "string" && el.className ? "." + el.className.split(" ")[0] : "";
    wide.push(el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + cls);
  }
  return wide.slice(0, 10);
}
