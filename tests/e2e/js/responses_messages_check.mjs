// Drives the official OpenAI JS SDK (Responses API) and Anthropic JS SDK (Messages API) against the mock,
// streaming and not, and prints what each assembled as one JSON line.
// Usage: node responses_messages_check.mjs BASE_URL ORIGIN API_KEY [STREAM_KEY]
// STREAM_KEY (another key) makes the stream a first sight of its prompt: the mock caches prefixes per key.
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";

const [baseURL, origin, apiKey, streamKey] = process.argv.slice(2);
const openai = new OpenAI({ baseURL, apiKey, maxRetries: 0 });
const streaming = new OpenAI({ baseURL, apiKey: streamKey ?? apiKey, maxRetries: 0 });
const claude = new Anthropic({ baseURL: origin, apiKey, maxRetries: 0 }); // the SDK adds /v1/messages
const out = {};
const weather = {
  type: "object", properties: { city: { type: "string" } }, required: ["city"], additionalProperties: false,
};

// Responses: the JSON answer, then the same request with stream: true, assembled from the events.
const request = { model: "openai/gpt-4o-mini", instructions: "Be brief.", input: "Hello from JavaScript" };
const created = await openai.responses.create(request);
out.response = { text: created.output_text, usage: created.usage };
const events = await streaming.responses.create({ ...request, stream: true });
const deltas = [];
const types = [];
const sequence = [];
let completed = null;
for await (const event of events) {
  types.push(event.type);
  sequence.push(event.sequence_number);
  if (event.type === "response.output_text.delta") deltas.push(event.delta);
  if (event.type === "response.completed") completed = event.response;
}
out.responseStream = { text: deltas.join(""), usage: completed.usage, types, sequence };

const tools = [{ type: "function", name: "get_weather", parameters: weather, strict: true }];
const toolEvents = await openai.responses.create({ model: "openai/gpt-4o-mini", input: "Weather?", tools, stream: true });
let args = "";
let toolDone = null;
for await (const event of toolEvents) {
  if (event.type === "response.function_call_arguments.delta") args += event.delta;
  if (event.type === "response.completed") toolDone = event.response;
}
out.responseTool = { streamedArguments: args, item: toolDone.output[0] };

// Messages: the JSON answer, then the SDK's stream helper.
const message = { model: "anthropic/claude-sonnet-4-20250514", max_tokens: 200,
  messages: [{ role: "user", content: "Hello from JavaScript" }] };
const plain = await claude.messages.create(message);
out.message = { text: plain.content[0].text, usage: plain.usage, stop: plain.stop_reason };
const stream = claude.messages.stream(message);
const names = [];
let deltaUsage = null;
stream.on("streamEvent", (event) => {
  names.push(event.type);
  if (event.type === "message_delta") deltaUsage = event.usage;
});
const final = await stream.finalMessage();
out.messageStream = { text: await stream.finalText(), usage: final.usage, deltaUsage, stop: final.stop_reason, names };

const claudeTools = [{ name: "get_weather", input_schema: weather }];
const toolStream = claude.messages.stream({ ...message, tools: claudeTools });
const toolMessage = await toolStream.finalMessage();
out.messageTool = { block: toolMessage.content[0], stop: toolMessage.stop_reason };

try {
  await new Anthropic({ baseURL: origin, apiKey: "wrong", maxRetries: 0 }).messages.create(message);
  out.messageWrongKey = null;
} catch (error) {
  out.messageWrongKey = { class: error.constructor.name, status: error.status, body: error.error };
}

console.log(JSON.stringify(out));
