// CSS that comes with task HTML (a <style> element, a style="" attribute) styles that HTML
// only: it can't hide the editor, cover the window or draw a fake screen over it (issue 17).
// Called by the sanitizer (js/sanitize.js) for every HTML string the editor renders.
//
// A <style> is parsed by the browser's own CSS parser and written back inside `@scope { }`
// (no prelude: its scoping root is the <style>'s parent, the box the editor put the HTML in),
// so no rule can match anything outside that box; `html`, `body` and `:root` are mapped onto
// the box, so a page's usual `body { font: … }` still styles the task. The editor's HyperText
// iframe (a document of its own, where a leading <style> lands in <head>) gets the same rules
// scoped to the iframe's root: that prelude matches only a document whose <head> holds a task
// <style>, never our page. Only style rules, @media and @supports are kept (at-rules with
// global names or loads: @import, @font-face, @keyframes, @property, @layer … are dropped), and
// `position` only as static, relative or absolute. Anything this can't parse or check is
// dropped: fails closed. The editor's boxes also get `contain: paint` (css/webapp.css), which
// clips whatever the task draws to the box even if all of this were gone.

/** The attribute a task <style> carries once rewritten (the iframe scope looks for it). */
export const TASK_STYLE_ATTR = "data-task-style";

const POSITIONS = new Set(["", "static", "relative", "absolute"]);
const IFRAME_SCOPE = `@scope (:root:has(> head > style[${TASK_STYLE_ATTR}]))`;

/** `text` as CSS that can style only the <style>'s own box; "" when that can't be made sure. */
export function scopeStyleSheet(text) {
  try {
    if (typeof CSSScopeRule !== "function") return "";  // a browser without @scope: no task CSS
    const sheet = parse(String(text));
    const inBox = ruleList(sheet.cssRules, BOX_ROOTS);
    const inFrame = ruleList(sheet.cssRules, DOCUMENT_ROOTS);
    if (!inBox) return "";
    const css = `@scope {\n${inBox}}\n${IFRAME_SCOPE} {\n${inFrame}}\n`;
    return isScoped(css) ? css : "";
  } catch (e) {
    return "";
  }
}

/** A style="" value without `position: fixed/sticky/…`; null to drop the attribute. */
export function keepInlineStyle(text, doc) {
  try {
    const element = doc.createElement("div");
    element.setAttribute("style", String(text));
    if (POSITIONS.has(positionOf(element.style))) return String(text);
    element.style.removeProperty("position");
    return element.style.cssText;
  } catch (e) {
    return null;
  }
}

/** What we wrote parses back as the two @scope rules and nothing else. */
function isScoped(css) {
  const [box, frame, ...rest] = parse(css).cssRules;
  const [expected] = parse(`${IFRAME_SCOPE} {}`).cssRules;
  return rest.length === 0 && box instanceof CSSScopeRule && box.start === null
    && box.end === null && frame instanceof CSSScopeRule && frame.start === expected.start
    && frame.end === null;
}

function parse(css) {
  const sheet = new CSSStyleSheet();
  sheet.replaceSync(css);
  return sheet;
}

function positionOf(style) {
  return style.getPropertyValue("position").trim().toLowerCase();
}

function ruleList(rules, roots) {
  let out = "";
  for (const rule of rules) out += oneRule(rule, roots);
  return out;
}

function oneRule(rule, roots) {
  if (rule instanceof CSSStyleRule) {
    return `${scopeSelector(rule.selectorText, roots)} { ${declarations(rule.style)} `
      + `${ruleList(rule.cssRules || [], roots)}}\n`;
  }
  if (typeof CSSNestedDeclarations === "function" && rule instanceof CSSNestedDeclarations) {
    return `${declarations(rule.style)}\n`;
  }
  if (rule instanceof CSSMediaRule) {
    return `@media ${rule.media.mediaText} {\n${ruleList(rule.cssRules, roots)}}\n`;
  }
  if (rule instanceof CSSSupportsRule) {
    return `@supports ${rule.conditionText} {\n${ruleList(rule.cssRules, roots)}}\n`;
  }
  return "";  // @import, @font-face, @keyframes, @property, @layer, @page, @scope, …
}

function declarations(style) {
  if (!POSITIONS.has(positionOf(style))) style.removeProperty("position");
  return style.cssText;
}

// -- html, body and :root onto the scope's root -----------------------------------------------

// In the box, all three are the box; in the iframe's own document, html and :root are its root
// and body stays body.
const BOX_ROOTS = /^(?:html|body)(?![\w-])|:root(?![\w-])/gi;
const DOCUMENT_ROOTS = /^html(?![\w-])|:root(?![\w-])/gi;

/** `html body .x` -> `:scope .x`: the last compound naming a root becomes `:scope`, and what
 * comes before it (outside the scope, so it can't matter) goes. Parenthesised, bracketed and
 * quoted parts are left as they are. Mapping is for legitimate styling only: whatever the
 * selector says, @scope lets it match nothing outside the root. */
function scopeSelector(selector, roots) {
  return splitTop(selector, ",").map((complex) => {
    const parts = splitTop(complex.trim(), " ");
    let last = -1;
    parts.forEach((part, i) => { if (rootsIn(part, roots)) last = i; });
    if (last < 0) return complex.trim();
    parts[last] = replaceTop(parts[last], roots, ":scope");
    return parts.slice(last).join(" ");
  }).join(", ");
}

function rootsIn(compound, roots) {
  roots.lastIndex = 0;
  const found = roots.test(blankNested(compound));
  roots.lastIndex = 0;
  return found;
}

function replaceTop(compound, roots, by) {
  const blank = blankNested(compound);
  let out = "", at = 0;
  for (const match of blank.matchAll(roots)) {
    out += compound.slice(at, match.index) + by;
    at = match.index + match[0].length;
  }
  return out + compound.slice(at);
}

/** `s` with what is inside (), [] and quotes replaced by spaces: same length, top level kept. */
function blankNested(s) {
  let out = "", depth = 0, quote = null;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (quote) {
      if (c === "\\") { out += "  "; i++; continue; }
      if (c === quote) quote = null;
      out += " ";
    } else if (c === '"' || c === "'") {
      quote = c; out += " ";
    } else if (c === "(" || c === "[") {
      depth++; out += depth === 1 ? c : " ";
    } else if (c === ")" || c === "]") {
      depth--; out += depth === 0 ? c : " ";
    } else {
      out += depth ? " " : c;
    }
  }
  return out;
}

/** Split `s` at `sep` where it is at the top level (not in (), [] or quotes). */
function splitTop(s, sep) {
  const blank = blankNested(s), parts = [];
  let at = 0;
  for (let i = 0; i < blank.length; i++) {
    if (blank[i] === sep) { parts.push(s.slice(at, i)); at = i + 1; }
  }
  parts.push(s.slice(at));
  return parts.filter((part) => part !== "");
}
