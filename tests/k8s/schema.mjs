// Offline validation of Kubernetes objects against the API schemas that npm's
// kubernetes-models ships: its validators check types, enums and required
// fields; they accept unknown fields (the OpenAPI schemas do not forbid
// them), which the API server rejects or drops. strictFields() adds that
// check from the same package's type declarations: every field of every
// nested object must be one the schema declares.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const modules = path.join(here, "node_modules");

// apiVersion + kind -> the model class ("apps/v1" + "Deployment" ->
// kubernetes-models/apps/v1/Deployment).
export async function modelFor(apiVersion, kind) {
  if (typeof apiVersion !== "string" || !/^[a-z0-9.]+(\/v[0-9a-z]+)?$/.test(apiVersion))
    throw new Error(`apiVersion ${JSON.stringify(apiVersion)} is not group/version`);
  if (typeof kind !== "string" || !/^[A-Z][A-Za-z0-9]*$/.test(kind))
    throw new Error(`kind ${JSON.stringify(kind)} is not a kind`);
  const base = path.join(modules, "kubernetes-models", apiVersion, kind);
  const file = [`${base}.mjs`, `${base}.js`].find((f) => fs.existsSync(f));
  if (!file) throw new Error(`no schema for ${apiVersion} ${kind}`);
  const mod = await import(file);
  if (!mod[kind]) throw new Error(`no model ${kind} in ${file}`);
  return mod[kind];
}

// The declared fields of every schema type, from the .d.ts files:
// alias (IIoK8sApiAppsV1DeploymentSpec) -> Map(field -> type text).
let typeIndex = null;

function stripComments(text) {
  return text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/\/\/[^\n]*/g, "");
}

// `"a"?: T; "b": { [key: string]: U; };` -> Map(a -> "T", b -> "{ … }").
function parseFields(body) {
  const fields = new Map();
  const re = /"([^"]+)"\??\s*:\s*/g;
  let m;
  while ((m = re.exec(body))) {
    let depth = 0, i = re.lastIndex;
    for (; i < body.length; ++i) {
      const c = body[i];
      if (c === "{" || c === "<" || c === "(") ++depth;
      else if (c === "}" || c === ">" || c === ")") --depth;
      else if (c === ";" && depth === 0) break;
    }
    fields.set(m[1], body.slice(re.lastIndex, i).replace(/\s+/g, " ").trim());
    re.lastIndex = i + 1;
  }
  return fields;
}

function* dtsFiles(dir) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (e.name === "_schemas" || e.name === "node_modules") continue;
    const p = path.join(dir, e.name);
    if (e.isDirectory()) yield* dtsFiles(p);
    else if (e.name.endsWith(".d.ts")) yield p;
  }
}

function buildIndex() {
  const index = new Map();
  for (const root of ["kubernetes-models", "@kubernetes-models/apimachinery"]) {
    for (const file of dtsFiles(path.join(modules, root))) {
      const text = stripComments(fs.readFileSync(file, "utf8"));
      const interfaces = new Map();
      for (const m of text.matchAll(/export interface (\w+)(?: extends [^{]*)? \{\n([\s\S]*?)\n\}/g))
        interfaces.set(m[1], parseFields(m[2]));
      for (const m of text.matchAll(/export (?:type )?\{ (\w+) as (\w+)/g))
        if (interfaces.has(m[1])) index.set(m[2], interfaces.get(m[1]));
    }
  }
  if (index.size < 500) throw new Error(`only ${index.size} schema types found in ${modules}`);
  return index;
}

// Unknown fields in `value` of type `type` (type text of a .d.ts field),
// appended to `errors` as "path: field".
function walk(type, value, where, errors) {
  if (value === null || value === undefined) return;
  let m;
  if ((m = /^Array<(.*)>$/.exec(type))) {
    if (Array.isArray(value)) value.forEach((v, i) => walk(m[1], v, `${where}[${i}]`, errors));
    return;
  }
  if ((m = /^\{ \[key: string\]: (.*); \}$/.exec(type))) {
    if (typeof value === "object")
      for (const [k, v] of Object.entries(value)) walk(m[1], v, `${where}.${k}`, errors);
    return;
  }
  const fields = typeIndex.get(type);
  if (!fields || typeof value !== "object" || Array.isArray(value)) return;  // a leaf
  for (const [k, v] of Object.entries(value)) {
    if (!fields.has(k)) errors.push(`${where}.${k}: no such field in ${type.replace(/^IIoK8s/, "")}`);
    else walk(fields.get(k), v, `${where}.${k}`, errors);
  }
}

// The unknown fields of a whole object, e.g. ["spec.replica: no such field …"].
export function strictFields(apiVersion, kind, object) {
  typeIndex ??= buildIndex();
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["core", apiVersion];
  const groupName = group.split(".").map((s) => s[0].toUpperCase() + s.slice(1)).join("");
  const version1 = version[0].toUpperCase() + version.slice(1);
  const candidates = [...typeIndex.keys()].filter(
    (k) => k.startsWith("IIoK8sApi") && k.endsWith(`${groupName}${version1}${kind}`) &&
      k.length === `IIoK8sApi${groupName}${version1}${kind}`.length);
  if (candidates.length !== 1)
    return [`${apiVersion} ${kind}: ${candidates.length} type declarations found`];
  const errors = [];
  walk(candidates[0], object, kind, errors);
  return errors;
}

// Every error of one object: schema (types, required, enums) and unknown fields.
export async function validateObject(object) {
  const errors = [];
  let Model;
  try {
    Model = await modelFor(object?.apiVersion, object?.kind);
  } catch (e) {
    return [e.message];
  }
  try {
    new Model(object).validate();
  } catch (e) {
    errors.push(...String(e.message).split("\n").filter(Boolean));
  }
  errors.push(...strictFields(object.apiVersion, object.kind, object));
  return errors;
}

