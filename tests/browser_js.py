"""JavaScript the browser tests and the screenshot scripts run in the reviewer app's pages."""

# Select the case text from character s to e (code points of the case's text, as spans count
# them), as a reviewer's mouse would, and leave no field focused, so the page's keys act on it.
SELECT_RANGE = """([s, e]) => {
  const root = document.getElementById("case-text");
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  let at = 0, start = null, end = null, node;
  while ((node = walker.nextNode())) {
    const cps = Array.from(node.data);
    for (let i = 0; i <= cps.length; i++) {
      const unit = cps.slice(0, i).join("").length;
      if (start === null && at + i === s && i < cps.length) start = [node, unit];
      if (end === null && at + i === e && i > 0) end = [node, unit];
    }
    at += cps.length;
  }
  const range = document.createRange();
  range.setStart(start[0], start[1]);
  range.setEnd(end[0], end[1]);
  const sel = window.getSelection();
  sel.removeAllRanges();
  sel.addRange(range);
  document.activeElement && document.activeElement.blur && document.activeElement.blur();
}"""
