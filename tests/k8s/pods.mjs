// tests/k8s/pods.mjs — the pods of `kubectl kustomize deploy/k8s`, for
// tests/k8s/pods-in-netns: prints one JSON object
//   {"files": {"cluster.toml": "…", "r3/DEFAULT.PFL": "…", …},
//    "pods": [{"name": "its-wgate-0", "service": "its-wgate",
//              "command": [...], "preStop": [...]}, …],
//    "hosts": {"its-r3": "its-r3-0", "its-it1-0.its-it1": "its-it1-0", …}}
// with one pod per replica, each container's command as Kubernetes runs it
// (before $(VAR) expansion), the ConfigMap files by their path under the
// mount point /etc/its, and the DNS names a pod resolves to other pods
// (a Service's name: its first pod; a headless Service: <pod>.<service>).
//
// Usage: node tests/k8s/pods.mjs RENDERED.yaml
import fs from "node:fs";
import YAML from "yaml";

const [file] = process.argv.slice(2);
if (!file) {
  console.error("usage: node tests/k8s/pods.mjs RENDERED.yaml");
  process.exit(2);
}
const objects = YAML.parseAllDocuments(fs.readFileSync(file, "utf8")).map((d) => d.toJS());
const fail = (why) => {
  console.error(`tests/k8s/pods.mjs: ${why}`);
  process.exit(1);
};

const files = {}, pods = [], hosts = {};
const workloads = objects.filter((o) => o.kind === "Deployment" || o.kind === "StatefulSet");
for (const w of workloads) {
  const spec = w.spec.template.spec;
  if (spec.containers.length !== 1) fail(`${w.metadata.name}: one container expected`);
  const c = spec.containers[0];
  for (const m of c.volumeMounts ?? []) {
    const vol = spec.volumes.find((v) => v.name === m.name);
    if (!m.mountPath.startsWith("/etc/its")) continue;
    const cm = objects.find((o) => o.kind === "ConfigMap" && o.metadata.name === vol?.configMap?.name);
    if (!cm) fail(`${w.metadata.name}: ${m.mountPath} is no ConfigMap`);
    const dir = m.mountPath.slice("/etc/its".length).replace(/^\//, "");
    for (const [k, v] of Object.entries(cm.data)) {
      if (m.subPath && m.subPath !== k) continue;
      files[m.subPath ? dir : dir ? `${dir}/${k}` : k] = v;
    }
  }
  const replicas = w.spec.replicas ?? 1;
  for (let i = 0; i < replicas; ++i) {
    pods.push({
      name: `${w.metadata.name}-${i}`,
      workload: w.metadata.name,
      command: c.command,
      env: (c.env ?? []).map((e) => [e.name, e.valueFrom?.fieldRef?.fieldPath ?? e.value]),
      preStop: c.lifecycle?.preStop?.exec?.command ?? [],
      labels: w.spec.template.metadata.labels,
    });
  }
}
for (const s of objects.filter((o) => o.kind === "Service")) {
  const selected = pods.filter((p) =>
    Object.entries(s.spec.selector).every(([k, v]) => p.labels[k] === v));
  if (!selected.length) fail(`Service ${s.metadata.name} selects no pod`);
  if (s.spec.clusterIP === "None") {
    for (const p of selected) hosts[`${p.name}.${s.metadata.name}`] = p.name;
  } else {
    hosts[s.metadata.name] = selected[0].name;
  }
}
for (const p of pods) delete p.labels;
console.log(JSON.stringify({ files, pods, hosts }, null, 1));
