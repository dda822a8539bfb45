// Runs the graphql-http server audits (the GraphQL-over-HTTP conformance suite) against a URL
// and prints one JSON line: {"ok": n, "failed": [{"name", "status", "reason"}]}.
import { serverAudits } from 'graphql-http';

const url = process.argv[2];
const failed = [];
let ok = 0;
for (const audit of serverAudits({ url, fetchFn: fetch })) {
  const result = await audit.fn();
  if (result.status === 'ok') ok++;
  else failed.push({ name: audit.name, status: result.status, reason: result.reason });
}
console.log(JSON.stringify({ ok, failed }));
