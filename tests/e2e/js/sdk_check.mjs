// Drives the official OpenAI JS SDK against the mock and prints what it saw as one JSON line.
// Usage: node sdk_check.mjs BASE_URL API_KEY
import { errorOf as errorWith } from "./errors.mjs";
import OpenAI from "openai";

const [baseURL, apiKey] = process.argv.slice(2);
const client = new OpenAI({ baseURL, apiKey, maxRetries: 0 });
const errorOf = (promise) => errorWith(promise, ["code", "type"]);
const messages = [{ role: "user", content: "Hello from JavaScript" }];
const out = {};

const chat = await client.chat.completions.create({ model: "openai/gpt-4o-mini", messages });
out.chat = { content: chat.choices[0].message.content, finish: chat.choices[0].finish_reason, usage: chat.usage };

const stream = await client.chat.completions.create({
  model: "openai/gpt-4o-mini", messages, stream: true, stream_options: { include_usage: true },
});
const parts = [];
let lastUsage = null;
let chunks = 0;
for await (const chunk of stream) {
  chunks += 1;
  if (chunk.choices.length) parts.push(chunk.choices[0].delta.content ?? "");
  if (chunk.usage) lastUsage = chunk.usage;
}
out.stream = { content: parts.join(""), chunks, usage: lastUsage };

const embeddings = await client.embeddings.create({ model: "openai/text-embedding-3-small", input: ["a", "b", "c"] });
out.embeddings = embeddings.data.map((d) => ({ index: d.index, length: d.embedding.length, type: typeof d.embedding[0] }));

const models = [];
for await (const model of client.models.list()) models.push(model.id);
out.models = models;

out.wrongKey = await errorOf(new OpenAI({ baseURL, apiKey: "wrong", maxRetries: 0 }).models.list());
out.badBody = await errorOf(client.chat.completions.create({ model: "openai/gpt-4o-mini", messages: [] }));
out.unknownModel = await errorOf(client.chat.completions.create({ model: "nope/nothing", messages }));

console.log(JSON.stringify(out));
