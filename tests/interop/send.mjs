// send.mjs - sends an MLLP-framed file of HL7 messages (as written by
// `carebase simulate --out`) with node-hl7-client, a third-party HL7 client
// from npm, one message at a time, each after the ACK of the previous one.
//
//   node send.mjs HOST PORT FILE [RESULT.json]
//
// Messages in GB 18030 (MSH-18) travel over a second connection whose
// encoding is latin1, so that their bytes go out unchanged (Node has no
// GB 18030 encoder); the others over a UTF-8 one. Prints, and writes to
// RESULT.json, the count of ACK codes and the code of each control id.
// Exit status: 0 when every message got an ACK, 1 otherwise.
import { readFileSync, writeFileSync } from "node:fs";
import { Client, Message } from "node-hl7-client";

const [host, port, file, resultPath] = process.argv.slice(2);
if (!host || !port || !file) {
  console.error("usage: node send.mjs HOST PORT FILE [RESULT.json]");
  process.exit(2);
}

const data = readFileSync(file);
const frames = [];
for (let at = 0; ; ) {
  const sb = data.indexOf(0x0b, at);
  if (sb < 0) break;
  const eb = data.indexOf(Buffer.from([0x1c, 0x0d]), sb);
  if (eb < 0) break;
  frames.push(data.subarray(sb + 1, eb));
  at = eb + 2;
}

const field = (line, n) => line.split("|")[n] ?? "";
let waiting = null;   // { ctl, resolve }

function onAck(res) {
  const msa = res.getMessage().toString().split("\r").find((s) => s.startsWith("MSA|")) ?? "";
  const code = field(msa, 1), ctl = field(msa, 2);
  if (waiting && waiting.ctl === ctl) {
    const w = waiting;
    waiting = null;
    w.resolve(code);
  }
}

const client = new Client({ host, connectionTimeout: 0 });
const utf8 = client.createConnection({ port: Number(port), encoding: "utf-8" }, async (r) => onAck(r));
const binary = client.createConnection({ port: Number(port), encoding: "latin1" }, async (r) => onAck(r));

const counts = {};
const codes = {};
let missing = 0;
for (const raw of frames) {
  const gb = raw.subarray(0, raw.indexOf(0x0d)).includes(Buffer.from("GB 18030"));
  const text = raw.toString(gb ? "latin1" : "utf-8");
  const ctl = field(text.split("\r")[0], 9);
  const code = await new Promise((resolve) => {
    const timer = setTimeout(() => { waiting = null; resolve("none"); }, 15000);
    waiting = { ctl, resolve: (c) => { clearTimeout(timer); resolve(c); } };
    // The library parses the message first: a message it cannot build is
    // still sent, through its own codec, as the bytes it is.
    (gb ? binary : utf8).sendMessage(new Message({ text })).catch((e) => {
      console.error("send failed:", ctl, e.message);
    });
  });
  counts[code] = (counts[code] ?? 0) + 1;
  codes[ctl] = code;
  if (code === "none") missing++;
}
await utf8.close();
await binary.close();
client.closeAll();
const result = { messages: frames.length, counts, missing, codes };
if (resultPath) writeFileSync(resultPath, JSON.stringify(result));
console.log(JSON.stringify({ messages: frames.length, counts, missing }));
process.exit(missing ? 1 : 0);
