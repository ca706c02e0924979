// The village-report story, walked by a typed client: types generated from
// openapi/openapi.yaml (openapi-typescript), requests made with openapi-fetch,
// compiled under tsc --strict without a cast. An officer of an office that owes
// the six-month report signs in, reads the inbox and what the unit owes, writes the
// report, attaches a photo, submits; the receiving office returns it with a reason;
// the officer edits and resubmits; the receiving office accepts; the officer
// downloads the photo in two ranges. Every response is written to DANVAN_CLIENT_LOG
// (one JSON line each) for run.py to check against the contract.
import { appendFileSync } from "node:fs";
import createClient, { type Middleware } from "openapi-fetch";
import type { components, paths } from "./gen/api.js";

type Schemas = components["schemas"];
type Submission = Schemas["Submission"];

function env(name: string): string {
  const v = process.env[name];
  if (v === undefined || v === "") throw new Error(`${name} is not set`);
  return v;
}

const baseUrl = env("DANVAN_CLIENT_BASE_URL");
const logFile = env("DANVAN_CLIENT_LOG");

const record: Middleware = {
  async onResponse({ request, response }) {
    const body = Buffer.from(await response.clone().arrayBuffer());
    const headers: [string, string][] = [];
    response.headers.forEach((value, name) => headers.push([name, value]));
    appendFileSync(logFile, JSON.stringify({
      method: request.method, url: request.url, status: response.status,
      headers, body: body.toString("base64"),
    }) + "\n");
    return undefined;
  },
};

function client(token?: string) {
  const c = createClient<paths>({
    baseUrl,
    headers: token === undefined ? {} : { Authorization: `Bearer ${token}` },
  });
  c.use(record);
  return c;
}

// The data of a response with the status expected, else an error that says what came.
function must<T>(r: { data?: T; error?: unknown; response: Response },
  status: number, what: string): T {
  if (r.response.status !== status || r.data === undefined) {
    throw new Error(`${what}: ${r.response.status} ${JSON.stringify(r.error)}`);
  }
  return r.data;
}

// A response that fields= may trim is typed as the whole schema or the trimmed one
// (the contract's anyOf). Read without fields= it is the whole one: this checks the
// member the caller needs came, and narrows to the whole schema.
function isWhole<W extends object>(x: object, key: keyof W & string): x is W {
  return key in x;
}

function whole<W extends object>(x: object, key: keyof W & string, what: string): W {
  if (!isWhole<W>(x, key)) throw new Error(`${what} came without ${key}`);
  return x;
}

function header(r: { response: Response }, name: string): string {
  const v = r.response.headers.get(name);
  if (v === null) throw new Error(`no ${name} header`);
  return v;
}

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(what);
}

async function signIn(username: string, password: string) {
  const r = await client().POST("/api/v1/auth/token", {
    body: { username, password },
  });
  return client(must(r, 200, `sign in as ${username}`).access_token);
}

// A 1x1 PNG: what a phone's photo of the meeting's minutes stands for.
const png = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==",
  "base64");

async function main(): Promise<void> {
  const officer = await signIn(env("DANVAN_CLIENT_OFFICER"),
    env("DANVAN_CLIENT_OFFICER_PASSWORD"));
  const reviewer = await signIn(env("DANVAN_CLIENT_REVIEWER"),
    env("DANVAN_CLIENT_REVIEWER_PASSWORD"));

  const me = whole<Schemas["Me"]>(must(await officer.GET("/api/v1/me"), 200, "me"),
    "unit_id", "me");
  // The inbox as a village phone reads it: only the members it shows.
  const inbox = must(await officer.GET("/api/v1/assignments", {
    params: { query: { limit: 50, fields: "id,unit_id,status" } },
  }), 200, "inbox");
  check(inbox.items.every((a) => a.unit_id === me.unit_id && a.task_title === undefined),
    "the inbox holds another unit's assignment, or more than was asked");

  // What the unit owes: the six-month report of an issued plan.
  const plans = must(await officer.GET("/api/v1/plans", {
    params: { query: { status: "issued" } },
  }), 200, "plans");
  let owed: components["schemas"]["Obligation"] | undefined;
  for (const item of plans.items) {
    const plan = whole<Schemas["Plan"]>(item, "id", "plan");
    const page = must(await officer.GET("/api/v1/plans/{id}/obligations", {
      params: { path: { id: plan.id }, query: { unit_id: me.unit_id } },
    }), 200, "obligations");
    owed = page.items.map((o) => whole<Schemas["Obligation"]>(o, "milestone_id",
      "obligation")).find((o) => o.milestone_kind === "six_month_report"
      && o.submission_id === null) ?? owed;
  }
  if (owed === undefined) throw new Error("the unit owes no six-month report");

  const created = await officer.POST("/api/v1/submissions", {
    params: { header: { "Idempotency-Key": crypto.randomUUID() } },
    body: {
      unit_id: me.unit_id, kind: "six_month_report",
      milestone_id: owed.milestone_id,
      title: "Báo cáo sơ kết 6 tháng đầu năm 2026 công tác dân vận chính quyền",
      body: "I. Kết quả thực hiện …",
    },
  });
  let sub = whole<Submission>(must(created, 201, "create"), "id", "create");
  check(sub.status === "draft", "a new submission is a draft");

  const attached = must(await officer.POST("/api/v1/submissions/{id}/attachments", {
    params: { path: { id: sub.id }, query: { filename: "bien-ban-hop.png" } },
    headers: { "Content-Type": "image/png" },
    body: "",
    bodySerializer: () => png,
  }), 201, "attach");
  check(attached.size === png.length, "the stored size is the file's");

  const submitted = await officer.POST("/api/v1/submissions/{id}/submit", {
    params: { path: { id: sub.id }, header: { "If-Match": header(created, "ETag") } },
    body: {},
  });
  sub = whole<Submission>(must(submitted, 200, "submit"), "id", "submit");
  check(sub.status === "submitted", "submitted");

  // The receiving office finds it in its review queue and returns it.
  const queue = must(await reviewer.GET("/api/v1/submissions", {
    params: { query: { status: "submitted", limit: 200 } },
  }), 200, "review queue");
  check(queue.items.some((s) => s.id === sub.id), "not in the review queue");
  const returned = await reviewer.POST("/api/v1/submissions/{id}/return", {
    params: { path: { id: sub.id }, header: { "If-Match": header(submitted, "ETag") } },
    body: { reason: "Bổ sung số liệu kết quả đối thoại ở các thôn" },
  });
  check(must(returned, 200, "return").status === "returned", "returned");

  // The officer reads the reason, edits and resubmits.
  const fresh = await officer.GET("/api/v1/submissions/{id}", {
    params: { path: { id: sub.id } },
  });
  check(must(fresh, 200, "get").review_reason !== null, "no reason given");
  const edited = await officer.PATCH("/api/v1/submissions/{id}", {
    params: { path: { id: sub.id }, header: { "If-Match": header(fresh, "ETag") } },
    body: { body: "I. Kết quả thực hiện (đã bổ sung số liệu) …" },
  });
  must(edited, 200, "edit");
  const again = await officer.POST("/api/v1/submissions/{id}/submit", {
    params: { path: { id: sub.id }, header: { "If-Match": header(edited, "ETag") } },
    body: {},
  });
  sub = whole<Submission>(must(again, 200, "resubmit"), "id", "resubmit");
  check(sub.revision === 2, "the resubmission is revision 2");

  const accepted = await reviewer.POST("/api/v1/submissions/{id}/accept", {
    params: { path: { id: sub.id }, header: { "If-Match": header(again, "ETag") } },
    body: {},
  });
  check(must(accepted, 200, "accept").status === "accepted", "accepted");

  // The photo, in two ranges, as a phone on a weak line resumes a download.
  const parts: Buffer[] = [];
  for (const range of ["bytes=0-15", "bytes=16-"]) {
    const part = await officer.GET("/api/v1/attachments/{id}", {
      params: { path: { id: attached.id }, header: { Range: range } },
      parseAs: "arrayBuffer",
    });
    parts.push(Buffer.from(must(part, 206, `download ${range}`)));
    check(header(part, "Content-Range").startsWith("bytes "), "Content-Range");
  }
  check(Buffer.concat(parts).equals(png), "the ranges make the file");
  console.log(`story: submission ${sub.id} accepted, ${parts.length} ranges`);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.stack ?? e.message : String(e));
  process.exit(1);
});
