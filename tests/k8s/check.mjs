// tests/k8s/check.mjs — offline checks of the Kubernetes deployment (ctest
// label k8s, docs/architecture.md §13):
//
//   1. `kubectl kustomize deploy/k8s` renders, and every object is valid
//      against the Kubernetes API schemas (types, required fields, enums, no
//      unknown field; schema.mjs).
//   2. The pods run the contract's commands (README, "Kubernetes quick
//      start"): r3_stub, one mapping_manager StatefulSet per AGate instance of
//      deploy/config/cluster.toml, two wgates; probes, preStop drain, and the
//      names in deploy/k8s/cluster.toml agree with the Services.
//   3. The ConfigMaps hold exactly the files of deploy/config/r3 and
//      services/; deploy/k8s/cluster.toml differs from deploy/config's only in
//      addresses.
//   4. The Containerfile's build stage installs exactly deploy/lib.sh's
//      ITS_PACKAGES and builds the release preset, exactly the programs it
//      copies; its runtime stage installs the packages holding those
//      programs' shared libraries (ldd on --bin-dir); it copies every
//      program a pod runs.
//   5. With --bin-dir: every flag a pod passes is one its program knows, and
//      the rendered configuration loads (`itsadm --config DIR time`, the
//      programs' own parser). Skipped, saying so, while the programs lack
//      --advertise (the multi-host keys).
//
// Before all that it checks itself: a typo'd field, a wrong type and a missing
// package must each be caught.
//
// Usage: node tests/k8s/check.mjs [--kubectl PATH [--skip-without-kubectl]] [--bin-dir DIR]
// Exit status: 0 all passed, 1 a check failed, 2 bad usage or no kubectl
// (77 with --skip-without-kubectl: skipped).
import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import YAML from "yaml";
import { validateObject } from "./schema.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const args = process.argv.slice(2);
let kubectl = "kubectl", binDir = "", skipWithoutKubectl = false;
for (let i = 0; i < args.length; ++i) {
  if (args[i] === "--kubectl" && i + 1 < args.length) kubectl = args[++i];
  else if (args[i] === "--skip-without-kubectl") skipWithoutKubectl = true;
  else if (args[i] === "--bin-dir" && i + 1 < args.length) binDir = path.resolve(args[++i]);
  else {
    console.error("usage: node tests/k8s/check.mjs [--kubectl PATH [--skip-without-kubectl]] " +
      `[--bin-dir DIR]; not: ${args[i]}`);
    process.exit(2);
  }
}

let failures = 0, passes = 0;
function check(ok, what, detail = "") {
  if (ok) {
    ++passes;
    console.log(`ok    ${what}`);
  } else {
    ++failures;
    console.log(`FAIL  ${what}${detail ? `\n      ${detail.replace(/\n/g, "\n      ")}` : ""}`);
  }
  return ok;
}
const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
const read = (p) => fs.readFileSync(path.join(root, p), "utf8");

// ---------------------------------------------------------------- parsers

// A small TOML subset, enough for cluster.toml: sections, arrays of tables,
// `key = value` with strings, numbers, booleans; comments. Returns
// Map("r3.listen" -> "0.0.0.0:3200", "agate_instance[1].name" -> "IT2", …).
export function parseClusterToml(text, file) {
  const keys = new Map();
  let prefix = "";
  const counts = new Map();
  text.split("\n").forEach((raw, n) => {
    const line = raw.replace(/\s+#.*$/, "").replace(/^#.*$/, "").trim();
    if (!line) return;
    let m;
    if ((m = /^\[\[([a-z_0-9]+)\]\]$/.exec(line))) {
      const i = counts.get(m[1]) ?? 0;
      counts.set(m[1], i + 1);
      prefix = `${m[1]}[${i}].`;
    } else if ((m = /^\[([a-z_0-9]+)\]$/.exec(line))) {
      prefix = `${m[1]}.`;
    } else if ((m = /^([a-z_0-9]+)\s*=\s*(.+)$/.exec(line))) {
      keys.set(prefix + m[1], m[2].startsWith('"') ? JSON.parse(m[2]) : m[2]);
    } else {
      throw new Error(`${file}:${n + 1}: not understood: ${raw}`);
    }
  });
  return keys;
}

// deploy/lib.sh's ITS_PACKAGES, as bash sees them.
function libPackages() {
  return execFileSync("bash", ["-c", 'source deploy/lib.sh && printf "%s\\n" "${ITS_PACKAGES[@]}"'],
    { cwd: root, encoding: "utf8" }).split("\n").filter(Boolean);
}

// The Containerfile's stages: [{name, installs: [...], copies: [...], lines}].
export function parseContainerfile(text) {
  const joined = text.replace(/\\\n/g, " ").split("\n").filter((l) => !/^\s*#/.test(l));
  const stages = [];
  for (const line of joined) {
    let m;
    if ((m = /^FROM\s+(\S+)(?:\s+AS\s+(\S+))?/i.exec(line))) {
      stages.push({ image: m[1], name: m[2] ?? "", installs: [], copies: [], runs: [] });
    } else if (/^RUN\s/.test(line) && stages.length) {
      for (const cmd of line.slice(4).split(/&&|;/)) {
        stages.at(-1).runs.push(cmd.trim().replace(/\s+/g, " "));
        const words = cmd.trim().split(/\s+/);
        const at = words.indexOf("install");
        if (words.includes("apt-get") && at >= 0)
          stages.at(-1).installs.push(...words.slice(at + 1).filter((w) => w && !w.startsWith("-")));
      }
    } else if ((m = /^COPY\s+--from=\S+\s+(.*)$/.exec(line)) && stages.length) {
      const words = m[1].trim().split(/\s+/);
      stages.at(-1).copies.push(...words.slice(0, -1).map((w) => path.basename(w)));
    }
  }
  return stages;
}

function listDiff(want, got) {
  const missing = want.filter((p) => !got.includes(p));
  const extra = got.filter((p) => !want.includes(p));
  const dups = got.filter((p, i) => got.indexOf(p) !== i);
  return [missing.length ? `missing: ${missing.join(" ")}` : "",
    extra.length ? `not wanted: ${extra.join(" ")}` : "",
    dups.length ? `twice: ${dups.join(" ")}` : ""].filter(Boolean).join("\n");
}

// ---------------------------------------------------------------- self-check

async function selfCheck(objects) {
  const sts = structuredClone(objects.find((o) => o.kind === "StatefulSet"));
  sts.spec.replica = 1;
  const typo = await validateObject(sts);
  check(typo.some((e) => e.includes("spec.replica")), "self-check: an unknown field is caught",
    JSON.stringify(typo));
  const wrong = structuredClone(objects.find((o) => o.kind === "Service"));
  wrong.spec.ports[0].port = "http";
  const type = await validateObject(wrong);
  check(type.some((e) => e.includes("port must be integer")), "self-check: a wrong type is caught",
    JSON.stringify(type));
  const v2bug = structuredClone(objects.find((o) => o.kind === "StatefulSet"));
  v2bug.spec.volumeClaimTemplates = { metadata: { labels: { a: "b" } } };
  check((await validateObject(v2bug)).length > 0,
    "self-check: kustomize v2.0's volumeClaimTemplates object (commonLabels) is caught");
  check(listDiff(["a", "b"], ["a"]).includes("missing: b") &&
    listDiff(["a"], ["a", "c"]).includes("not wanted: c"), "self-check: package lists are compared");
}

// ---------------------------------------------------------------- checks

const kubectlVersion = spawnSync(kubectl, ["version", "--client"], { encoding: "utf8" });
if (kubectlVersion.error || kubectlVersion.status !== 0) {
  if (skipWithoutKubectl) {
    console.log(`SKIPPED: ${kubectl} does not run (deploy/test unpacks Debian's kubernetes-client there)`);
    process.exit(77);
  }
  console.error(`${kubectl} does not run (${kubectlVersion.error?.message ?? kubectlVersion.stderr}); ` +
    "install Debian's kubernetes-client (deploy/test does) or pass --kubectl PATH");
  process.exit(2);
}
console.log(`kubectl: ${kubectlVersion.stdout.split("\n").filter(Boolean).join("; ")}`);

// 1. Render and validate.
const render = spawnSync(kubectl, ["kustomize", path.join(root, "deploy/k8s")], { encoding: "utf8" });
if (!check(render.status === 0, "kubectl kustomize deploy/k8s renders", render.stderr)) process.exit(1);
const objects = YAML.parseAllDocuments(render.stdout).map((d) => d.toJS());
await selfCheck(objects);
for (const o of objects) {
  const errors = await validateObject(o);
  check(errors.length === 0, `${o.kind} ${o.metadata?.name}: valid against the API schema`, errors.join("\n"));
  check(o.metadata?.labels?.["app.kubernetes.io/part-of"] === "its-sim",
    `${o.kind} ${o.metadata?.name}: labelled app.kubernetes.io/part-of=its-sim`);
}
const find = (kind, name) => objects.find((o) => o.kind === kind && o.metadata.name === name);
const configMap = (base) => objects.find((o) => o.kind === "ConfigMap" &&
  (o.metadata.name === base || o.metadata.name.startsWith(`${base}-`)));
const podSpec = (o) => o?.spec?.template?.spec;
const main = (o) => podSpec(o)?.containers?.[0];
const workloads = objects.filter((o) => o.kind === "Deployment" || o.kind === "StatefulSet");

// 2. The pods' commands, probes, names.
const shipped = parseClusterToml(read("deploy/config/cluster.toml"), "deploy/config/cluster.toml");
const k8sToml = parseClusterToml(read("deploy/k8s/cluster.toml"), "deploy/k8s/cluster.toml");
const instances = [...shipped.entries()].filter(([k]) => /^agate_instance\[\d+\]\.name$/.test(k)).map(([, v]) => v);
check(instances.length > 0, `AGate instances in deploy/config/cluster.toml: ${instances.join(", ")}`);

function servicePort(name, portName) {
  const svc = find("Service", name);
  return svc?.spec?.ports?.find((p) => p.name === portName)?.port;
}
function selects(svcName, workload) {
  const sel = find("Service", svcName)?.spec?.selector ?? {};
  const labels = workload?.spec?.template?.metadata?.labels ?? {};
  return Object.keys(sel).length > 0 && Object.entries(sel).every(([k, v]) => labels[k] === v);
}

const r3 = find("Deployment", "its-r3");
check(same(main(r3)?.command, ["r3_stub", "--config", "/etc/its", "--listen", "0.0.0.0:3200"]),
  "r3: r3_stub --config /etc/its --listen 0.0.0.0:3200", JSON.stringify(main(r3)?.command));
check(r3?.spec?.replicas === 1 && r3?.spec?.strategy?.type === "Recreate", "r3: one pod, never two (Recreate)");
check(main(r3)?.readinessProbe?.grpc?.port === 3200 && main(r3)?.livenessProbe?.grpc?.port === 3200,
  "r3: gRPC health probes on 3200");
check(selects("its-r3", r3) && servicePort("its-r3", "grpc") === 3200, "r3: Service its-r3 :3200 selects it");
check(k8sToml.get("r3.advertise") === "its-r3:3200", "cluster.toml: [r3] advertise is Service its-r3:3200",
  String(k8sToml.get("r3.advertise")));

instances.forEach((name, i) => {
  const lower = name.toLowerCase();
  const sts = find("StatefulSet", `its-${lower}`);
  const c = main(sts);
  if (!check(sts !== undefined, `${name}: StatefulSet its-${lower}`)) return;
  check(sts.spec.replicas === 1 && sts.spec.serviceName === `its-${lower}`,
    `${name}: one pod, serviceName its-${lower}`);
  check(same(c?.command, ["mapping_manager", "--config", "/etc/its", "--instance", name,
    "--listen", "0.0.0.0:3909", "--advertise", "$(POD_IP)"]),
    `${name}: mapping_manager --config /etc/its --instance ${name} --listen 0.0.0.0:3909 --advertise $(POD_IP)`,
    JSON.stringify(c?.command));
  const podIp = c?.env?.find((e) => e.name === "POD_IP");
  check(podIp?.valueFrom?.fieldRef?.fieldPath === "status.podIP", `${name}: POD_IP from the downward API`);
  check(c?.readinessProbe?.grpc?.port === 3909, `${name}: readiness on gRPC health :3909`);
  check(c?.livenessProbe !== undefined && c.livenessProbe.grpc === undefined,
    `${name}: liveness not on gRPC health (NOT_SERVING while draining must not restart it)`);
  const stop = c?.lifecycle?.preStop?.exec?.command ?? [];
  const wait = /^(\d+)([smh])$/.exec(stop[6] ?? "");
  const waitS = wait ? Number(wait[1]) * { s: 1, m: 60, h: 3600 }[wait[2]] : NaN;
  check(same(stop.slice(0, 6), ["itsadm", "--config", "/etc/its", "drain", name, "--wait"]) &&
    stop.length === 7 && waitS > 0, `${name}: preStop itsadm --config /etc/its drain ${name} --wait D`,
    JSON.stringify(stop));
  const grace = podSpec(sts).terminationGracePeriodSeconds;
  check(waitS + 30 <= grace, `${name}: the grace period (${grace} s) outlasts the drain (${waitS} s) by 30 s`);
  const headless = find("Service", `its-${lower}`);
  check(headless?.spec?.clusterIP === "None" && headless?.spec?.publishNotReadyAddresses === true &&
    selects(`its-${lower}`, sts) && servicePort(`its-${lower}`, "grpc") === 3909,
    `${name}: headless Service its-${lower} :3909, names published while not ready`);
  const j = [...k8sToml.entries()].find(([k, v]) => /^agate_instance\[\d+\]\.name$/.test(k) && v === name)?.[0]
    .match(/\[(\d+)\]/)[1];
  check(j !== undefined, `${name}: in deploy/k8s/cluster.toml`);
  check(k8sToml.get(`agate_instance[${j}].mapping_manager`) === `its-${lower}-0.its-${lower}:3909`,
    `${name}: cluster.toml mapping_manager = its-${lower}-0.its-${lower}:3909 (pod 0 of the headless Service)`,
    String(k8sToml.get(`agate_instance[${j}].mapping_manager`)));
  check(k8sToml.get(`agate_instance[${j}].listen_host`) === "0.0.0.0" &&
    k8sToml.get(`agate_instance[${j}].host`) === `its-${lower}-0.its-${lower}`,
    `${name}: cluster.toml listen_host 0.0.0.0, host its-${lower}-0.its-${lower}`);
});
check(objects.filter((o) => o.kind === "StatefulSet").length === instances.length,
  "one StatefulSet per AGate instance, no other");

const wgate = find("Deployment", "its-wgate");
check(same(main(wgate)?.command, ["wgate", "--config", "/etc/its", "--listen", "0.0.0.0:8080"]),
  "wgate: wgate --config /etc/its --listen 0.0.0.0:8080", JSON.stringify(main(wgate)?.command));
check(wgate?.spec?.replicas === 2, "wgate: two replicas");
check(main(wgate)?.readinessProbe?.httpGet?.path === "/healthz", "wgate: readiness on /healthz");
check(main(wgate)?.livenessProbe?.httpGet && main(wgate).livenessProbe.httpGet.path !== "/healthz",
  "wgate: liveness not on /healthz (503 without a serving instance must not restart it)");
check(selects("its-wgate", wgate) && servicePort("its-wgate", "http") === 8080,
  "wgate: Service its-wgate :8080 selects it");

// Every Service and PodDisruptionBudget selects pods of a workload.
for (const o of objects.filter((x) => x.kind === "Service" || x.kind === "PodDisruptionBudget")) {
  const sel = o.kind === "Service" ? o.spec?.selector : o.spec?.selector?.matchLabels;
  const hit = workloads.filter((w) => Object.keys(sel ?? {}).length > 0 &&
    Object.entries(sel).every(([k, v]) => w.spec.template.metadata?.labels?.[k] === v));
  check(hit.length > 0, `${o.kind} ${o.metadata.name} selects pods (${hit.map((w) => w.metadata.name).join(", ")})`);
}
const pdbFor = (name) => objects.find((o) => o.kind === "PodDisruptionBudget" &&
  Object.entries(o.spec.selector.matchLabels).every(([k, v]) =>
    find(...name)?.spec?.template?.metadata?.labels?.[k] === v));
check(pdbFor(["Deployment", "its-wgate"])?.spec?.minAvailable === 1,
  "PodDisruptionBudget: one wgate always serves");
check(instances.every((n) => pdbFor(["StatefulSet", `its-${n.toLowerCase()}`])?.spec?.maxUnavailable === 1),
  "PodDisruptionBudget: one AGate instance at a time drains");

// Every container: config mounted where --config points, logs writable.
for (const w of workloads) {
  for (const c of podSpec(w).containers) {
    const mounts = c.volumeMounts ?? [];
    const vol = (m) => podSpec(w).volumes?.find((v) => v.name === m?.name);
    const clusterMount = mounts.find((m) => m.mountPath === "/etc/its/cluster.toml");
    const cm = vol(clusterMount)?.configMap?.name;
    check(clusterMount?.subPath === "cluster.toml" && cm === configMap("its-cluster")?.metadata.name,
      `${w.metadata.name}/${c.name}: /etc/its/cluster.toml from ConfigMap its-cluster`);
    const needs = c.command[0] === "r3_stub" ? ["r3"] : ["services"];
    for (const dir of needs) {
      const m = mounts.find((x) => x.mountPath === `/etc/its/${dir}`);
      check(vol(m)?.configMap?.name === configMap(`its-${dir}`)?.metadata.name,
        `${w.metadata.name}/${c.name}: /etc/its/${dir} from ConfigMap its-${dir}`);
    }
    if (c.command[0] === "mapping_manager") {
      const m = mounts.find((x) => x.mountPath === k8sToml.get("log_dir"));
      check(vol(m)?.emptyDir !== undefined, `${w.metadata.name}/${c.name}: log_dir ${k8sToml.get("log_dir")} writable`);
    }
    check(c.resources?.requests?.cpu && c.resources?.requests?.memory,
      `${w.metadata.name}/${c.name}: CPU and memory requests`);
  }
}

// 3. ConfigMaps = deploy/config's files; cluster.toml differs only in addresses.
for (const dir of ["r3", "services"]) {
  const files = fs.readdirSync(path.join(root, "deploy/config", dir)).sort();
  const cm = configMap(`its-${dir}`);
  const keys = Object.keys(cm?.data ?? {}).sort();
  check(same(keys, files), `ConfigMap its-${dir} holds deploy/config/${dir}/: ${files.join(" ")}`,
    listDiff(files, keys));
  check(files.every((f) => cm?.data?.[f] === read(`deploy/config/${dir}/${f}`)),
    `ConfigMap its-${dir}: the files' text unchanged`);
}
check(configMap("its-cluster")?.data?.["cluster.toml"] === read("deploy/k8s/cluster.toml"),
  "ConfigMap its-cluster holds deploy/k8s/cluster.toml");
const addressKey = (k) => /(^|\.)(listen|advertise|host|listen_host|mapping_manager|metrics_listen|log_dir)$/.test(k);
const differ = [...new Set([...shipped.keys(), ...k8sToml.keys()])]
  .filter((k) => !addressKey(k) && shipped.get(k) !== k8sToml.get(k));
check(differ.length === 0, "deploy/k8s/cluster.toml = deploy/config/cluster.toml but for addresses and log_dir",
  differ.map((k) => `${k}: ${shipped.get(k)} there, ${k8sToml.get(k)} here`).join("\n"));

// 4. The Containerfile.
const stages = parseContainerfile(read("deploy/k8s/Containerfile"));
const build = stages.find((s) => s.name === "build"), runtime = stages.at(-1);
check(build?.image === "debian:bookworm" && runtime?.image === "debian:bookworm-slim" && build !== runtime,
  "Containerfile: build stage debian:bookworm, runtime debian:bookworm-slim",
  stages.map((s) => `${s.image} ${s.name}`).join("; "));
const want = libPackages();
check(same([...(build?.installs ?? [])].sort(), [...want].sort()),
  `Containerfile: the build stage installs deploy/lib.sh's ITS_PACKAGES (${want.length})`,
  listDiff(want, build?.installs ?? []));
const programs = runtime?.copies ?? [];
check((build?.runs ?? []).some((r) => /^cmake --preset release( |$)/.test(r)),
  "Containerfile: the build stage configures the release preset (as deploy/up and deploy/test)",
  (build?.runs ?? []).join("\n"));
const targets = (build?.runs ?? []).map((r) => /^cmake --build build --target (.*)$/.exec(r)?.[1])
  .filter(Boolean).flatMap((t) => t.split(" "));
check(same([...targets].sort(), [...programs].sort()),
  "Containerfile: it builds exactly the programs it copies", listDiff(programs, targets));
const podPrograms = new Set(workloads.flatMap((w) => podSpec(w).containers.flatMap((c) =>
  [c.command[0], c.lifecycle?.preStop?.exec?.command?.[0]].filter(Boolean))));
podPrograms.add("agate");  // what mapping_manager starts, beside itself
const inBase = new Set(["sleep"]);  // coreutils, in debian:bookworm-slim
const notCopied = [...podPrograms].filter((p) => !programs.includes(p) && !inBase.has(p));
check(notCopied.length === 0, `Containerfile: copies every program a pod runs (${[...podPrograms].join(" ")})`,
  `not copied: ${notCopied.join(" ")}`);

if (binDir) {
  // Packages in debian:bookworm-slim already (Priority required).
  const base = new Set(["libc6", "libgcc-s1", "libstdc++6", "zlib1g"]);
  const libs = new Set();
  for (const p of programs) {
    const out = execFileSync("ldd", [path.join(binDir, p)], { encoding: "utf8" });
    for (const m of out.matchAll(/=> (\/\S+)/g)) libs.add(fs.realpathSync(m[1]));
  }
  // One dpkg -S for all (it names /lib/… or /usr/lib/…: usrmerge).
  const candidates = [...libs].flatMap((l) => [l, l.replace(/^\/usr/, "")]);
  const found = new Map();
  const q = spawnSync("dpkg", ["-S", ...candidates], { encoding: "utf8" });
  for (const m of (q.stdout ?? "").matchAll(/^([^:\s]+)(?::[a-z0-9]+)?: (\/\S+)$/gm)) found.set(m[2], m[1]);
  const owners = new Set();
  for (const lib of libs) {
    const owner = found.get(lib) ?? found.get(lib.replace(/^\/usr/, "")) ?? "";
    check(owner !== "", `${lib}: from a Debian package`);
    if (owner && !base.has(owner)) owners.add(owner);
  }
  const need = [...owners].sort();
  check(same([...runtime.installs].sort(), need),
    `Containerfile: the runtime stage installs the packages of the programs' libraries (${need.length})`,
    listDiff(need, runtime.installs));
}

// 5. The flags, and the configuration as the programs read it.
if (!binDir) {
  console.log("skip  the pods' flags and configuration against the programs: no --bin-dir");
} else {
  const help = (p) => spawnSync(path.join(binDir, p), ["--help"], { encoding: "utf8" }).stdout ?? "";
  if (!help("mapping_manager").includes("--advertise")) {
    console.log("skip  the pods' flags and configuration against the programs: " +
      `${binDir}/mapping_manager has no --advertise yet (the multi-host addresses, issue 14 items 1-2)`);
  } else {
    for (const w of workloads) {
      for (const c of podSpec(w).containers) {
        const text = help(c.command[0]);
        const unknown = c.command.filter((a) => a.startsWith("--") && !text.includes(a));
        check(unknown.length === 0, `${w.metadata.name}: ${c.command[0]} knows ${c.command.filter((a) =>
          a.startsWith("--")).join(" ")}`, `unknown: ${unknown.join(" ")}`);
      }
    }
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "its-k8s-config-"));
    try {
      fs.writeFileSync(path.join(dir, "cluster.toml"), configMap("its-cluster").data["cluster.toml"]);
      for (const sub of ["r3", "services"]) {
        fs.mkdirSync(path.join(dir, sub));
        for (const [k, v] of Object.entries(configMap(`its-${sub}`).data)) fs.writeFileSync(path.join(dir, sub, k), v);
      }
      const r = spawnSync(path.join(binDir, "itsadm"), ["--config", dir, "time"], { encoding: "utf8" });
      check(r.status === 0, "the rendered configuration loads (itsadm --config DIR time)", r.stderr + r.stdout);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
}

console.log(`${passes} passed, ${failures} failed`);
process.exit(failures ? 1 : 0);
