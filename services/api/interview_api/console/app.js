// The console talks to the public API with the token from the sign-in field
// (Authorization: Bearer ...). Streams are read with fetch, not EventSource, because
// EventSource cannot send an Authorization header.
"use strict";
const API = "/api/v1";
const state = { candidate: null, questions: [], interview: null, session: null, watching: false };
const $ = (id) => document.getElementById(id);

function headers(extra = {}) {
  const token = localStorage.getItem("token") || "";
  return token ? { Authorization: `Bearer ${token}`, ...extra } : extra;
}

function say(text) { $("status").textContent = text; }

async function call(method, path, body) {
  const response = await fetch(API + path, {
    method, headers: headers({ "Content-Type": "application/json" }),
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = response.status === 204 ? null : await response.json();
  if (!response.ok) {
    const error = (data && data.error) || { code: String(response.status), message: "" };
    say(`${error.code}: ${error.message}`);
    throw new Error(error.code);
  }
  say("");
  return data;
}

// Yields [event, data] for each Server-Sent Event of a fetch response.
async function* frames(response) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = "message", data = "";
      for (const line of block.split("\n")) {
        if (line.startsWith("event:")) event = line.slice(6).trim();
        else if (line.startsWith("data:")) data += line.slice(5).trim();
      }
      if (data) yield [event, JSON.parse(data)];
    }
  }
}

function showIds() {
  $("ids").textContent = [
    state.candidate && `candidate ${state.candidate}`,
    state.questions.length && `questions ${state.questions.length}`,
    state.interview && `interview ${state.interview}`,
    state.session && `session ${state.session}`,
  ].filter(Boolean).join("\n");
}

function line(role, text) {
  const div = document.createElement("div");
  div.className = role;
  div.textContent = (role === "user" ? "You: " : "Interviewer: ") + text;
  $("chat").appendChild(div);
  $("chat").scrollTop = $("chat").scrollHeight;
  return div;
}

$("sign-in").onclick = () => {
  localStorage.setItem("token", $("token").value.trim());
  say("signed in");
};
$("create-candidate").onclick = async () => {
  const email = $("cand-email").value || `candidate-${Date.now()}@example.com`;
  state.candidate = (await call("POST", "/candidates", { name: $("cand-name").value, email })).id;
  showIds();
};
$("create-question").onclick = async () => {
  const skills = $("q-skills").value.split(",").map((s) => s.trim()).filter(Boolean);
  const question = await call("POST", "/questions", {
    text: $("q-text").value, reference_answer: $("q-ref").value, skills,
  });
  state.questions.push(question.id);
  showIds();
};
$("create-interview").onclick = async () => {
  const interview = await call("POST", "/interviews", {
    candidate_id: state.candidate, title: $("title").value, question_ids: state.questions,
  });
  state.interview = interview.id;
  await call("PATCH", `/interviews/${interview.id}`, { status: "READY" });
  showIds();
  watchScores();
};
$("start-chat").onclick = async () => {
  state.session = (await call("POST", "/chat/sessions", { interview_id: state.interview })).id;
  showIds();
};
$("send").onclick = async () => {
  const content = $("message").value.trim();
  if (!content || !state.session) return;
  $("message").value = "";
  line("user", content);
  const reply = line("assistant", "");
  const response = await fetch(`${API}/chat/sessions/${state.session}/messages`, {
    method: "POST",
    headers: headers({ "Content-Type": "application/json", Accept: "text/event-stream" }),
    body: JSON.stringify({ content }),
  });
  if (!response.ok) { say(`chat: ${response.status}`); return; }
  let text = "";
  for await (const [event, data] of frames(response)) {
    if (event === "chat.reply.delta") { text += data.delta; reply.textContent = "Interviewer: " + text; }
    if (event === "chat.reply.completed") { reply.textContent = "Interviewer: " + data.content; break; }
    if (event === "error") { say(data.message); break; }
  }
};

async function watchScores() {
  if (state.watching) return;
  state.watching = true;
  const response = await fetch(`${API}/interviews/${state.interview}/events`, { headers: headers() });
  for await (const [event, data] of frames(response)) {
    if (event === "answer.evaluated" && data.score !== null) {
      const item = document.createElement("li");
      item.className = "score";
      item.textContent = `${data.score.toFixed(1)} / 100 — ${data.feedback}`;
      $("scores").appendChild(item);
    }
    if (event === "interview.evaluated") say("the report is ready");
  }
}

$("report").onclick = async () => {
  const report = await call("GET", `/interviews/${state.interview}/report`);
  $("report-body").textContent =
    `Overall: ${report.overall_score}\n` + JSON.stringify(report.skills, null, 2);
};
$("token").value = localStorage.getItem("token") || "";
