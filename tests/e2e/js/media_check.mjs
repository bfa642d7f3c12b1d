// Drives the official OpenAI JS SDK's audio and image calls against the mock; the files it receives are written
// to DIR for the test to decode, and what it saw is printed as one JSON line.
// Usage: node media_check.mjs BASE_URL API_KEY DIR   (DIR holds speech input files: hello.wav, photo.png, mask.png)
import fs from "node:fs";
import path from "node:path";
import { errorOf as errorWith } from "./errors.mjs";
import OpenAI, { toFile } from "openai";

const [baseURL, apiKey, dir] = process.argv.slice(2);
const client = new OpenAI({ baseURL, apiKey, maxRetries: 0 });
const errorOf = (promise) => errorWith(promise, ["param", "code"]);
const out = {};
const TEXT = "Welcome to the gateway. This sentence is read aloud by the mock.";


out.speech = {};
for (const format of ["mp3", "opus", "aac", "flac", "wav"]) {
  const speech = await client.audio.speech.create({ model: "openai/tts-1", voice: "alloy", input: TEXT, response_format: format });
  const file = path.join(dir, `speech.${format}`);
  fs.writeFileSync(file, Buffer.from(await speech.arrayBuffer()));
  out.speech[format] = { file, type: speech.headers.get("content-type"), seconds: Number(speech.headers.get("x-audio-duration-seconds")) };
}

const transcript = await client.audio.transcriptions.create({
  model: "openai/whisper-1", file: fs.createReadStream(path.join(dir, "hello.wav")),
});
const verbose = await client.audio.transcriptions.create({
  model: "openai/whisper-1", response_format: "verbose_json",
  file: await toFile(fs.readFileSync(path.join(dir, "hello.wav")), "hello.wav", { type: "audio/wav" }),
});
const srt = await client.audio.transcriptions.create({
  model: "openai/whisper-1", response_format: "srt", file: fs.createReadStream(path.join(dir, "hello.wav")),
});
out.transcription = { text: transcript.text, usage: transcript.usage, verbose: { duration: verbose.duration, text: verbose.text,
  segments: verbose.segments.length }, srt };

const generated = await client.images.generate({ model: "openai/dall-e-2", prompt: "a red kite", n: 2, size: "512x512",
  response_format: "b64_json" });
out.generated = generated.data.map((item, index) => {
  const file = path.join(dir, `generated-${index}.png`);
  fs.writeFileSync(file, Buffer.from(item.b64_json, "base64"));
  return file;
});
out.generatedUsage = generated.usage;

const edited = await client.images.edit({
  model: "openai/gpt-image-1", prompt: "add a sail", response_format: "b64_json",
  image: await toFile(fs.createReadStream(path.join(dir, "photo.png")), "photo.png", { type: "image/png" }),
  mask: await toFile(fs.createReadStream(path.join(dir, "mask.png")), "mask.png", { type: "image/png" }),
});
out.edited = path.join(dir, "edited.png");
fs.writeFileSync(out.edited, Buffer.from(edited.data[0].b64_json, "base64"));

out.wrongMask = await errorOf(client.images.edit({
  model: "openai/gpt-image-1", prompt: "add a sail",
  image: await toFile(fs.readFileSync(path.join(dir, "photo.png")), "photo.png", { type: "image/png" }),
  mask: await toFile(fs.readFileSync(path.join(dir, "small-mask.png")), "mask.png", { type: "image/png" }),
}));
out.wrongVoice = await errorOf(client.audio.speech.create({ model: "openai/tts-1", voice: "nobody", input: TEXT }));

console.log(JSON.stringify(out));
