// /docs/api: renders /api/schema (OpenAPI 3.1) as a filterable list of operations.
// Self-written on purpose: no CDN, no vendored viewer. Builds DOM nodes only (no innerHTML
// with spec text), so nothing in the description can inject markup.

const METHODS = ["get", "post", "put", "patch", "delete"];

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else node.setAttribute(key, value);
  }
  for (const child of children.flat()) {
    if (child == null) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

function refName(ref) {
  return ref.split("/").pop();
}

// A compact, readable rendering of a JSON schema: `Name`, `[Item]`, `{a: int, b?: str}`.
function describe(schema, spec, depth = 0) {
  if (!schema || Object.keys(schema).length === 0) return "any";
  if (schema.$ref) {
    const name = refName(schema.$ref);
    if (depth > 0) return name;
    return name + " " + describe(spec.components.schemas[name], spec, depth + 1);
  }
  if (schema.anyOf) return schema.anyOf.map((s) => describe(s, spec, depth + 1)).join(" | ");
  if (schema.enum) return schema.enum.map((v) => JSON.stringify(v)).join(" | ");
  if (schema.type === "array") return "[" + describe(schema.items, spec, depth + 1) + "]";
  if (schema.type === "object") {
    const props = schema.properties || {};
    const required = new Set(schema.required || []);
    const keys = Object.keys(props);
    if (!keys.length) return "object";
    if (depth > 2) return "{…}";
    const pad = "  ".repeat(depth + 1);
    const lines = keys.map((k) => `${pad}${k}${required.has(k) ? "" : "?"}: ` +
                                  describe(props[k], spec, depth + 1));
    return "{\n" + lines.join(",\n") + "\n" + "  ".repeat(depth) + "}";
  }
  return schema.format ? `${schema.type} (${schema.format})` : schema.type;
}

function contentBlock(content, spec) {
  return Object.entries(content || {}).map(([media, { schema }]) =>
    el("div", {}, el("code", {}, media), el("pre", {}, describe(schema, spec))));
}

function operationNode(method, path, op, spec) {
  const open = op.security && op.security.length === 0;
  const head = el("summary", {},
    el("span", { class: `method m-${method}` }, method.toUpperCase()),
    el("span", { class: "path" }, path),
    el("span", { class: "summary" }, op.summary || ""),
    open ? el("span", { class: "noauth", title: "No credentials needed" }, "no auth") : null);
  const body = el("div", { class: "body" });
  const params = op.parameters || [];
  if (params.length) {
    body.append(el("h4", {}, "Parameters"), el("table", {},
      el("tr", {}, el("th", {}, "name"), el("th", {}, "in"), el("th", {}, "type")),
      params.map((p) => el("tr", {}, el("td", {}, el("code", {}, p.name + (p.required ? "" : "?"))),
                             el("td", {}, p.in), el("td", {}, describe(p.schema, spec, 1))))));
  }
  if (op.requestBody) {
    body.append(el("h4", {}, "Request body"), contentBlock(op.requestBody.content, spec));
  }
  body.append(el("h4", {}, "Responses"));
  for (const [status, answer] of Object.entries(op.responses || {})) {
    body.append(el("div", {}, el("strong", {}, status), " ", answer.description || ""),
                contentBlock(answer.content, spec));
  }
  const node = el("details", { class: "op" }, head, body);
  node.dataset.search = [method, path, op.summary, ...(op.tags || [])].join(" ").toLowerCase();
  return node;
}

function render(spec) {
  document.getElementById("title").textContent = spec.info.title;
  document.getElementById("version").textContent =
    `version ${spec.info.version} · Label Studio ${spec.info["x-label-studio-version"] || ""}`;
  const main = document.getElementById("docs");
  main.replaceChildren(el("p", { class: "intro" }, spec.info.description || ""));
  const byTag = new Map();
  for (const [path, item] of Object.entries(spec.paths)) {
    for (const method of METHODS) {
      if (!item[method]) continue;
      const tag = (item[method].tags || ["Other"])[0];
      if (!byTag.has(tag)) byTag.set(tag, []);
      byTag.get(tag).push(operationNode(method, path, item[method], spec));
    }
  }
  for (const [tag, nodes] of byTag) {
    main.append(el("section", { class: "tag" }, el("h2", {}, tag), nodes));
  }
  const schemas = el("section", { class: "tag" }, el("h2", {}, "Schemas"));
  for (const [name, schema] of Object.entries(spec.components.schemas)) {
    const node = el("details", { class: "op" },
      el("summary", {}, el("span", { class: "path" }, name),
         el("span", { class: "summary" }, schema.description || "")),
      el("div", { class: "body" }, el("pre", {}, describe(schema, spec, 0))));
    node.dataset.search = ("schema " + name).toLowerCase();
    schemas.append(node);
  }
  main.append(schemas);
}

function filter(text) {
  const words = text.toLowerCase().split(/\s+/).filter(Boolean);
  for (const section of document.querySelectorAll("section.tag")) {
    let shown = 0;
    for (const node of section.querySelectorAll("details.op")) {
      const match = words.every((w) => node.dataset.search.includes(w));
      node.classList.toggle("hidden", !match);
      shown += match ? 1 : 0;
    }
    section.classList.toggle("hidden", shown === 0);
  }
}

async function main() {
  const main = document.getElementById("docs");
  try {
    const response = await fetch("/api/schema", { credentials: "same-origin" });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    render(await response.json());
  } catch (error) {
    main.replaceChildren(el("p", {}, `Could not load /api/schema: ${error.message}`));
    return;
  }
  document.getElementById("filter").addEventListener("input", (e) => filter(e.target.value));
}

main();
