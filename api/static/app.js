// The students' page: POST /ask/stream, show the quick (quoted) answer at once when a model is
// writing, the model's tokens as they come, then render the verified answer with clickable [n]
// citations in place of the quick one. The page keeps the conversation (earlier turns are sent as
// `history`, so a follow-up such as "How was it pre-trained?" is understood), shows how the
// question was understood, and lets the student mark an answer helpful or wrong (POST /feedback).
// No build step, no library. Every string from the server goes in through textContent (never
// innerHTML), so notes cannot inject markup.
"use strict";

(() => {
  const $ = (sel) => document.querySelector(sel);
  const form = $("#ask-form");
  const question = $("#question");
  const askButton = $("#ask");
  const status = $("#status");
  const result = $("#result");
  const answerText = $("#answer-text");
  const quickBadge = $("#quick-badge");
  const draft = $("#draft");
  const shortBox = $("#short-answer");
  const refusal = $("#refusal");
  const errorBox = $("#error");
  const panel = $("#quote-panel");
  const sources = $("#sources");
  const sourceList = $("#source-list");
  const meta = $("#meta");
  const count = $("#count");
  const formMessage = $("#form-message");
  const asked = $("#asked");
  const understood = $("#understood");
  const threadBox = $("#thread");
  const threadList = $("#thread-list");
  const feedback = $("#feedback");
  const feedbackForm = $("#feedback-form");
  const feedbackStatus = $("#feedback-status");
  const CITE = /\[(\d+(?:\s*,\s*\d+)*)\]/g;
  const main = document.querySelector("main");
  const maxChars = () => Number(main.dataset.maxQuestion) || 2000; // RAG_MAX_QUESTION_CHARS, from the page
  const HISTORY_TURNS = 6; // earlier turns sent with a question
  let controller = null;
  let citations = new Map();
  let sentences = [];
  let thread = []; // earlier turns: {question, answer, understood_as}
  let current = null; // the turn on screen: {question, answer (the Answer object), snapshot}

  const MESSAGES = {
    empty: "질문을 입력해 주세요. / Please type a question.",
    tooLong: (n, max = maxChars()) => `질문이 너무 깁니다: ${n}자 (최대 ${max}자). 줄여서 다시 질문해 주세요. / ` +
      `The question is too long: ${n} characters (at most ${max}). Please shorten it.`,
  };

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function showFormMessage(text) {
    formMessage.textContent = text;
    formMessage.hidden = !text;
  }

  function updateCount() {
    const n = question.value.length;
    count.textContent = `${n} / ${maxChars()}`;
    count.classList.toggle("over", n > maxChars());
    if (n > maxChars()) showFormMessage(MESSAGES.tooLong(n));
    else if (formMessage.dataset.kind !== "sticky") showFormMessage("");
  }

  // Server messages a student may see, in both languages; others are shown as they are.
  function friendly(message) {
    const limit = /longer than (\d+)/.exec(message);
    if (limit) return MESSAGES.tooLong(current ? current.question.length : 0, Number(limit[1]));
    if (/must not be empty/.test(message)) return MESSAGES.empty;
    if (/no_index|no snapshot|rag ingest/.test(message)) {
      return `아직 노트가 색인되지 않았습니다. / The notes are not indexed yet. (${message})`;
    }
    return `오류 / Error: ${message}`;
  }

  function reset() {
    result.hidden = false;
    result.classList.remove("refused");
    refusal.hidden = true;
    errorBox.hidden = true;
    panel.hidden = true;
    sources.hidden = true;
    sourceList.replaceChildren();
    answerText.replaceChildren();
    answerText.classList.add("streaming");
    result.classList.remove("quick");
    quickBadge.hidden = true;
    draft.hidden = true;
    draft.replaceChildren();
    shortBox.hidden = true;
    meta.textContent = "";
    understood.hidden = true;
    feedback.hidden = true;
    citations = new Map();
    sentences = [];
  }

  function citeButton(n) {
    const b = el("button", "cite", `[${n}]`);
    b.type = "button";
    b.dataset.n = String(n);
    b.setAttribute("aria-expanded", "false");
    b.title = "인용 보기 / Show the quoted passage";
    return b;
  }

  // Answer text with each [n] (or [1, 2]) turned into buttons; the rest stays plain text.
  function renderAnswer(text) {
    const frag = document.createDocumentFragment();
    let pos = 0;
    for (const m of text.matchAll(CITE)) {
      frag.append(document.createTextNode(text.slice(pos, m.index)));
      for (const n of m[1].split(/\s*,\s*/)) frag.append(citeButton(Number(n)));
      pos = m.index + m[0].length;
    }
    frag.append(document.createTextNode(text.slice(pos)));
    answerText.replaceChildren(frag);
  }

  function showQuote(n) {
    const c = citations.get(n);
    if (!c) return;
    const open = !panel.hidden && panel.dataset.n === String(n);
    document.querySelectorAll(".cite").forEach((b) => b.setAttribute("aria-expanded", "false"));
    if (open) { panel.hidden = true; return; }
    panel.dataset.n = String(n);
    panel.querySelector(".quote-n").textContent = `[${n}]`;
    panel.querySelector(".quote-doc").textContent = c.title && c.title !== c.doc ? `${c.title} (${c.doc})` : c.doc;
    panel.querySelector(".quote-section").textContent = c.section || "—";
    panel.querySelector(".quote-page").textContent = c.page == null ? "—" : String(c.page);
    const box = panel.querySelector(".quote-text");
    const mark = renderQuote(box, c.quote, n);
    panel.hidden = false;
    box.scrollTop = mark ? Math.max(0, mark.offsetTop - box.offsetTop - 24) : 0;
    document.querySelectorAll(`.cite[data-n="${n}"]`).forEach((b) => b.setAttribute("aria-expanded", "true"));
    panel.scrollIntoView({ block: "nearest", behavior: "smooth" });
  }

  // The quoted passage, with the answer's sentence that cites it marked (as text nodes only).
  // Matching ignores differences in whitespace between the answer and the passage.
  function findClaim(quote, claim) {
    const words = claim.split(/\s+/).filter(Boolean).map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
    if (!words.length) return null;
    const m = new RegExp(words.join("\\s+")).exec(quote);
    return m ? { at: m.index, length: m[0].length } : null;
  }

  function renderQuote(box, quote, n) {
    const found = sentences
      .filter((s) => s.citations.includes(n))
      .map((s) => s.text.replace(CITE, "").replace(/^\s*-\s*/, "").trim())
      .filter((t) => t.length >= 8)
      .map((t) => findClaim(quote, t))
      .filter(Boolean)
      .sort((a, b) => a.at - b.at);
    box.replaceChildren();
    let pos = 0;
    let first = null;
    for (const { at, length } of found) {
      if (at < pos) continue; // overlaps the previous mark
      const mark = el("mark", "", quote.slice(at, at + length));
      box.append(document.createTextNode(quote.slice(pos, at)), mark);
      first = first || mark;
      pos = at + length;
    }
    box.append(document.createTextNode(quote.slice(pos)));
    return first;
  }

  // The short answer (a factoid's exact words) in bold above the answer, its span marked inside
  // the quoted sentence that holds it: in the answer text when the answer quotes that sentence
  // (whitespace aside), else on a line of its own with its citation. Offsets are the document's
  // (short.start, c.start, c.spans); only text nodes are made.
  function renderShort(short) {
    const c = short && citations.get(short.citation);
    if (!c) { shortBox.hidden = true; return; }
    $("#short-text").textContent = short.text;
    const sp = (c.spans || []).find((s) => s.start <= short.start && short.end <= s.end)
      || { start: short.start, end: short.end };
    const sentence = c.quote.slice(sp.start - c.start, sp.end - c.start);
    const at = short.start - sp.start;
    const line = $("#short-sentence");
    shortBox.hidden = false;
    if (markInAnswer(sentence, at, short.text)) { line.hidden = true; return; }
    line.replaceChildren(document.createTextNode(sentence.slice(0, at)),
      el("mark", "short-span", sentence.slice(at, at + short.text.length)),
      document.createTextNode(sentence.slice(at + short.text.length) + " "), citeButton(short.citation));
    line.hidden = false;
  }

  // Mark the short answer inside the answer's quote of its sentence; false when not quoted there.
  function markInAnswer(sentence, at, text) {
    const nth = sentence.slice(0, at).split(text).length - 1; // occurrences before the span
    for (const node of Array.from(answerText.childNodes)) {
      if (node.nodeType !== Node.TEXT_NODE) continue;
      const found = findClaim(node.textContent, sentence.trim());
      if (!found) continue;
      let pos = found.at - 1;
      for (let i = 0; i <= nth; i++) {
        pos = node.textContent.indexOf(text, pos + 1);
        if (pos < 0 || pos >= found.at + found.length) return false;
      }
      const t = node.textContent;
      node.replaceWith(document.createTextNode(t.slice(0, pos)), el("mark", "short-span", text),
        document.createTextNode(t.slice(pos + text.length)));
      return true;
    }
    return false;
  }

  function renderSources(list) {
    sourceList.replaceChildren(); // a final answer's sources replace the quick answer's
    for (const c of list) {
      const li = el("li");
      li.append(citeButton(c.n));
      // c.where names the place: "Title › section", or "section — Title" for a collection of posts
      li.append(el("span", "source-title", ` ${c.where || c.title || c.doc}`));
      const where = [c.where ? null : c.section, c.page == null ? null : `p. ${c.page}`].filter(Boolean).join(" · ");
      if (where) li.append(el("span", "source-where", ` · ${where}`));
      if (c.title && c.title !== c.doc) li.append(el("span", "source-file", ` (${c.doc})`));
      sourceList.append(li);
    }
    sources.hidden = list.length === 0;
  }

  // The extractive answer, ready in milliseconds: shown at once, marked as quick, with its sources;
  // the model's tokens go to the draft line below it until the final answer replaces both.
  function showQuick(answer) {
    if (answer.refused) return;
    answerText.classList.remove("streaming");
    citations = new Map(answer.citations.map((c) => [c.n, c]));
    sentences = answer.sentences || [];
    result.classList.add("quick");
    quickBadge.hidden = false;
    renderAnswer(answer.answer);
    renderSources(answer.citations);
    bringIntoView();
  }

  function finish(answer) {
    answerText.classList.remove("streaming");
    result.classList.remove("quick");
    quickBadge.hidden = true;
    draft.hidden = true;
    draft.replaceChildren();
    panel.hidden = true;
    sources.hidden = true;
    citations = new Map(answer.citations.map((c) => [c.n, c]));
    sentences = answer.sentences || [];
    if (answer.refused) {
      result.classList.add("refused");
      refusal.hidden = false;
      $("#refusal-text").textContent = answer.answer;
      answerText.replaceChildren();
    } else {
      renderAnswer(answer.answer);
      renderShort(answer.short_answer);
      renderSources(answer.citations);
    }
    result.lang = answer.lang || "ko";
    const rewritten = answer.debug && answer.debug.understood_as;
    if (rewritten) {
      understood.replaceChildren(el("span", "understood-label", "이렇게 이해했어요 / Understood as: "),
        el("q", "", rewritten));
      understood.hidden = false;
    }
    meta.textContent = describe(answer);
    current.answer = answer;
    showFeedback();
  }

  // A line a student can read: where the answer came from and how long it took.
  function describe(answer) {
    const ms = answer.timings_ms && answer.timings_ms.total;
    const time = ms ? ` · ${(ms / 1000).toFixed(ms < 10000 ? 1 : 0)}초 / ${(ms / 1000).toFixed(ms < 10000 ? 1 : 0)} s` : "";
    if (answer.refused) return `노트에서 답을 찾지 못했습니다 / Not found in the notes${time}`;
    const how = answer.generator === "extractive"
      ? "노트의 문장을 그대로 인용한 답 / Quoted from the notes"
      : "AI 모델이 노트를 바탕으로 쓴 답 / Written by an AI model from the notes";
    const n = answer.citations.length;
    return `${how} · 출처 ${n}개 / ${n} source${n === 1 ? "" : "s"}${time}`;
  }

  function showFeedback() {
    feedback.hidden = false;
    feedbackForm.hidden = true;
    feedbackStatus.textContent = "";
    for (const b of feedback.querySelectorAll(".feedback-button")) {
      b.disabled = false;
      b.setAttribute("aria-pressed", "false");
    }
    $("#feedback-comment").value = "";
  }

  async function sendFeedback(verdict, comment) {
    if (!current || !current.answer) return;
    const a = current.answer;
    const body = {
      verdict, question: current.question, answer: a.answer, refused: a.refused,
      understood_as: (a.debug && a.debug.understood_as) || null,
      sources: a.citations.map((c) => ({ n: c.n, doc: c.doc, title: c.title, section: c.section, page: c.page,
        start: c.start, end: c.end })),
      snapshot: current.snapshot || null,
    };
    if (comment) body.comment = comment;
    feedbackStatus.textContent = "보내는 중… / Sending…";
    try {
      const r = await fetch("/feedback", {
        method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
      });
      if (r.ok) {
        feedbackStatus.textContent = "고맙습니다! 의견이 저장되었습니다. / Thank you! Your feedback was saved.";
        for (const b of feedback.querySelectorAll(".feedback-button")) b.disabled = true;
        $(verdict === "wrong" ? "#feedback-wrong" : "#feedback-helpful").setAttribute("aria-pressed", "true");
        feedbackForm.hidden = true;
      } else if (r.status === 429) {
        feedbackStatus.textContent = "잠시 후 다시 보내 주세요. / Too many at once: please try again in a minute.";
      } else {
        let message = `HTTP ${r.status}`;
        try { message = (await r.json()).error.message; } catch (_) { /* keep the status */ }
        feedbackStatus.textContent = `보내지 못했습니다 / Not sent: ${message}`;
      }
    } catch (err) {
      feedbackStatus.textContent = `연결 오류 / Connection error: ${err.message}`;
    }
  }

  // The turn on screen moves into the thread when the next question is asked.
  function archiveCurrent() {
    if (!current || !current.answer) return;
    const a = current.answer;
    const turn = { question: current.question, answer: a.answer,
      understood_as: (a.debug && a.debug.understood_as) || null };
    thread.push(turn);
    const li = el("li", "turn");
    li.append(el("p", "turn-q", turn.question));
    if (turn.understood_as) li.append(el("p", "turn-understood", `→ ${turn.understood_as}`));
    const text = a.answer.replace(CITE, "").replace(/\s+/g, " ").trim();
    li.append(el("p", "turn-a", text.length > 280 ? `${text.slice(0, 280)}…` : text));
    threadList.append(li);
    threadBox.hidden = false;
  }

  function newConversation() {
    if (controller) controller.abort();
    thread = [];
    current = null;
    threadList.replaceChildren();
    threadBox.hidden = true;
    result.hidden = true;
    showFormMessage("");
    question.value = "";
    updateCount();
    question.focus();
  }

  // On a phone the answer starts below the fold: scroll it up once it begins to arrive.
  function bringIntoView() {
    if (result.getBoundingClientRect().top > window.innerHeight * 0.6) {
      result.scrollIntoView({ block: "start", behavior: "smooth" });
    }
  }

  function fail(message) {
    answerText.classList.remove("streaming");
    errorBox.textContent = message;
    errorBox.hidden = false;
    feedback.hidden = true;
  }

  // Server-Sent Events over a POST response: frames end with a blank line.
  async function readEvents(response, onEvent) {
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      buffer += decoder.decode(value || new Uint8Array(), { stream: !done });
      buffer = buffer.replace(/\r\n?/g, "\n");
      let cut;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {
        const frame = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        let event = "message";
        const data = [];
        for (const line of frame.split("\n")) {
          if (line.startsWith("event:")) event = line.slice(6).trim();
          else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
        }
        if (data.length) onEvent(event, JSON.parse(data.join("\n")));
      }
      if (done) return;
    }
  }

  async function ask(q) {
    if (controller) controller.abort();
    controller = new AbortController();
    archiveCurrent();
    current = { question: q, answer: null, snapshot: null };
    reset();
    asked.textContent = q;
    askButton.disabled = true;
    status.textContent = "답을 찾는 중… / Searching the notes…";
    let answered = false;
    try {
      const response = await fetch("/ask/stream", {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "text/event-stream" },
        body: JSON.stringify({ question: q, history: thread.slice(-HISTORY_TURNS) }),
        signal: controller.signal,
      });
      current.snapshot = response.headers.get("X-Snapshot-Id");
      if (!response.ok) {
        let message = `HTTP ${response.status}`;
        try { message = (await response.json()).error.message; } catch (_) { /* keep the status */ }
        fail(friendly(message));
        return;
      }
      await readEvents(response, (event, data) => {
        if (event === "quick_answer") showQuick(data);
        else if (event === "token") {
          if (!quickBadge.hidden) { // the quick answer stays; the model's words come in below it
            draft.hidden = false;
            draft.append(document.createTextNode(data.text));
          } else {
            if (!answerText.firstChild) bringIntoView();
            answerText.append(document.createTextNode(data.text));
          }
        }
        else if (event === "answer") { answered = true; finish(data); }
        else if (event === "error") fail(friendly(data.error.message));
      });
      if (!answered && errorBox.hidden) fail("응답이 중간에 끊겼습니다. / The answer was cut off.");
    } catch (err) {
      if (err.name !== "AbortError") fail(`연결 오류 / Connection error: ${err.message}`);
    } finally {
      askButton.disabled = false;
      status.textContent = "";
    }
  }

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const q = question.value.trim();
    if (!q) { showFormMessage(MESSAGES.empty); question.focus(); return; }
    if (question.value.length > maxChars()) { showFormMessage(MESSAGES.tooLong(question.value.length)); return; }
    showFormMessage("");
    question.value = "";
    updateCount();
    ask(q);
  });
  question.addEventListener("input", updateCount);
  updateCount();
  $("#new-conversation").addEventListener("click", newConversation);
  $("#feedback-helpful").addEventListener("click", () => sendFeedback("helpful"));
  $("#feedback-wrong").addEventListener("click", () => {
    feedbackForm.hidden = false;
    $("#feedback-comment").focus();
  });
  $("#feedback-send").addEventListener("click", () => sendFeedback("wrong", $("#feedback-comment").value.trim()));
  question.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      form.requestSubmit();
    }
  });
  document.querySelectorAll(".example").forEach((b) => b.addEventListener("click", () => {
    question.value = b.textContent;
    form.requestSubmit();
  }));
  result.addEventListener("click", (e) => {
    const b = e.target.closest(".cite");
    if (b) showQuote(Number(b.dataset.n));
  });
  $("#quote-close").addEventListener("click", () => { panel.hidden = true; });
})();
