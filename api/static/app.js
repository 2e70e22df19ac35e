// The students' page: POST /ask/stream, show tokens as they come, then render the verified
// answer with clickable [n] citations. No build step, no library. Every string from the server
// goes in through textContent (never innerHTML), so notes cannot inject markup.
"use strict";

(() => {
  const $ = (sel) => document.querySelector(sel);
  const form = $("#ask-form");
  const question = $("#question");
  const askButton = $("#ask");
  const status = $("#status");
  const result = $("#result");
  const answerText = $("#answer-text");
  const refusal = $("#refusal");
  const errorBox = $("#error");
  const panel = $("#quote-panel");
  const sources = $("#sources");
  const sourceList = $("#source-list");
  const meta = $("#meta");
  const CITE = /\[(\d+(?:\s*,\s*\d+)*)\]/g;
  let controller = null;
  let citations = new Map();
  let sentences = [];

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
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
    meta.textContent = "";
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
    panel.querySelector(".quote-doc").textContent = c.doc;
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

  function renderSources(list) {
    for (const c of list) {
      const li = el("li");
      li.append(citeButton(c.n));
      const where = [c.doc, c.section, c.page == null ? null : `p. ${c.page}`].filter(Boolean).join(" · ");
      li.append(el("span", "source-where", ` ${where}`));
      sourceList.append(li);
    }
    sources.hidden = list.length === 0;
  }

  function finish(answer) {
    answerText.classList.remove("streaming");
    citations = new Map(answer.citations.map((c) => [c.n, c]));
    sentences = answer.sentences || [];
    if (answer.refused) {
      result.classList.add("refused");
      refusal.hidden = false;
      $("#refusal-text").textContent = answer.answer;
      answerText.replaceChildren();
    } else {
      renderAnswer(answer.answer);
      renderSources(answer.citations);
    }
    result.lang = answer.lang || "ko";
    const ms = answer.timings_ms && answer.timings_ms.total;
    meta.textContent = `${answer.generator}${ms ? ` · ${Math.round(ms)} ms` : ""}`;
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
    reset();
    askButton.disabled = true;
    status.textContent = "답을 찾는 중… / Searching the notes…";
    let answered = false;
    try {
      const response = await fetch("/ask/stream", {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "text/event-stream" },
        body: JSON.stringify({ question: q }),
        signal: controller.signal,
      });
      if (!response.ok) {
        let message = `HTTP ${response.status}`;
        try { message = (await response.json()).error.message; } catch (_) { /* keep the status */ }
        fail(message);
        return;
      }
      await readEvents(response, (event, data) => {
        if (event === "token") {
          if (!answerText.firstChild) bringIntoView();
          answerText.append(document.createTextNode(data.text));
        }
        else if (event === "answer") { answered = true; finish(data); }
        else if (event === "error") fail(data.error.message);
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
    if (q) ask(q);
  });
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
