"""The participant page's HTML and script (one static page; it learns each trial from
``/study/<code>/next`` and knows nothing about the stimuli but their opaque URLs).

Per design: buttons (emotion identification, MOS; with extra 1-5 ratings, pick then rate
then Next), a text box (transcription), a 2-D click pad
(valence-arousal), two clips and a 7-point comparison scale (A/B, CCR), or several clips with a
0-100 slider each and an optional labelled reference (MUSHRA). Answers stay disabled until every
clip of the trial has played to its end; the server checks that too.
"""

from __future__ import annotations

import html
import json

CCR_LABELS = [
    [-3, "A much better"], [-2, "A better"], [-1, "A slightly better"], [0, "About the same"],
    [1, "B slightly better"], [2, "B better"], [3, "B much better"],
]  # fmt: skip
"""ITU-T P.800 CCR wording, as B compared with A (the answer is B over A, −3…+3)."""


def page(code: str) -> str:
    """The participant page: plain HTML and script, nothing about the stimuli in it."""
    safe = html.escape(code)
    return (
        _PAGE.replace("__CODE__", json.dumps(code))
        .replace("__CCR__", json.dumps(CCR_LABELS))
        .replace("__SAFE__", safe)
    )


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>Listening study</title>
<style>
body{font-family:system-ui,sans-serif;max-width:760px;margin:2rem auto;padding:0 1rem;color:#222}
button{font-size:1rem;margin:.25rem;padding:.5rem .9rem;border-radius:.4rem;border:1px solid #999;
background:#f4f2ff;cursor:pointer}button:disabled{opacity:.4;cursor:default}
audio,video{width:100%;margin:.4rem 0}#msg{color:#a00;min-height:1.5em}
.clip{border:1px solid #ddd;border-radius:.4rem;padding:.4rem .6rem;margin:.5rem 0}
.clip b{display:inline-block;min-width:5.5rem}.clip input[type=range]{width:70%}
#pad{position:relative;width:280px;height:280px;border:1px solid #888;margin:.5rem 0;
background:linear-gradient(#eee 0 0) center/1px 100% no-repeat,
linear-gradient(#eee 0 0) center/100% 1px no-repeat;cursor:crosshair;touch-action:none}
#dot{position:absolute;width:12px;height:12px;border-radius:6px;background:#5b54c4;
margin:-6px 0 0 -6px;display:none}.axis{position:absolute;font-size:.75rem;color:#666}
</style></head><body>
<h1>Listening study</h1><p id="progress"></p><p id="prompt"></p><div id="player"></div>
<div id="answers"></div><p id="msg"></p>
<script>
const code = __CODE__, CCR = __CCR__;
let trial = null, shownAt = 0, played = 0, ended = new Set(), point = null;
const $ = (id) => document.getElementById(id);
const el = (tag, props = {}) => Object.assign(document.createElement(tag), props);
function clip(url, label, counts) {
  const box = el("div", {className: "clip"});
  const m = el(trial.kind, {src: url, controls: true, preload: "auto"});
  m.controlsList = "nodownload";
  if (counts !== null) m.addEventListener("ended", () => {
    if (!ended.has(counts)) { ended.add(counts); played += Math.round(m.duration * 1000); }
    enable(ended.size === trial.clips.length); });
  if (label) box.append(el("b", {textContent: label}));
  box.append(m); return box;
}
async function load() {
  const r = await fetch(`/study/${code}/next`); const t = await r.json();
  if (!r.ok) { $("msg").textContent = t.detail || "Something went wrong."; return; }
  trial = t; ended = new Set(); played = 0; point = null; $("msg").textContent = "";
  if (t.done) { $("progress").textContent = `All ${t.total} done — thank you!`;
    $("prompt").textContent = ""; $("player").innerHTML = ""; $("answers").innerHTML = ""; return; }
  $("progress").textContent = `Trial ${t.index} of ${t.total}`; $("prompt").textContent = t.prompt;
  const player = $("player"), box = $("answers"); player.replaceChildren(); box.replaceChildren();
  if (t.reference) player.append(clip(t.reference, "Reference", null));
  const names = t.design === "ab" ? ["A", "B"] : t.clips.map((_, i) => `Sample ${i + 1}`);
  t.clips.forEach((url, i) => {
    const c = clip(url, t.clips.length > 1 ? names[i] : "", i);
    if (t.design === "mushra") { const s = el("input", {type: "range", min: 0, max: 100,
        value: 50, className: "score"}); const v = el("span", {textContent: " 50"});
      s.oninput = () => { v.textContent = " " + s.value; }; c.append(s, v); }
    player.append(c); });
  if (t.design === "ab") for (const [value, label] of CCR) {
    box.append(el("button", {textContent: label, onclick: () => send(value)})); }
  else if (t.design === "mushra") box.append(el("button", {textContent: "Next",
    onclick: () => send([...document.querySelectorAll(".score")].map((s) => +s.value))}));
  else if (t.design === "va") {
    const pad = el("div", {id: "pad"}), dot = el("div", {id: "dot"});
    pad.append(dot, el("span", {className: "axis", textContent: "pleasant →",
      style: "right:4px;top:50%"}), el("span", {className: "axis", textContent: "↑ activated",
      style: "left:52%;top:2px"}));
    const where = el("p", {textContent: "Click the square where it belongs."});
    pad.onclick = (e) => { const b = pad.getBoundingClientRect();
      const v = ((e.clientX - b.left) / b.width) * 2 - 1;
      const a = 1 - ((e.clientY - b.top) / b.height) * 2;
      point = [Math.max(-1, Math.min(1, v)), Math.max(-1, Math.min(1, a))];
      dot.style.left = `${(point[0] + 1) * 50}%`; dot.style.top = `${(1 - point[1]) * 50}%`;
      dot.style.display = "block";
      where.textContent = `valence ${point[0].toFixed(2)}, arousal ${point[1].toFixed(2)}`; };
    box.append(pad, where, el("button", {textContent: "Next", onclick: () => point
      ? send(point.map((x) => x.toFixed(3)).join(",")) : ($("msg").textContent =
      "Click the square first.")}));
  }
  else if (t.choices.length && t.ask.length) {  // pick, rate 1-5, then Next
    let chosen = null; const rates = {};
    for (const c of t.choices) { const b = el("button", {textContent: c, className: "pick",
      onclick: () => { chosen = c; $("msg").textContent = "";
        for (const o of box.querySelectorAll(".pick"))
          o.style.outline = o === b ? "3px solid #5b54c4" : ""; }}); box.append(b); }
    for (const q of t.ask) { const row = el("p", {textContent: q.prompt + " "});
      for (let n = 1; n <= 5; n++) { const r = el("input", {type: "radio", name: q.key,
        value: n, onchange: () => { rates[q.key] = n; $("msg").textContent = ""; }});
        row.append(r, `${n} `); }
      box.append(row); }
    box.append(el("button", {textContent: "Next", onclick: () =>
      chosen === null || Object.keys(rates).length < t.ask.length
        ? ($("msg").textContent = "Choose an answer and rate every question.")
        : send({answer: chosen, ...rates})}));
  }
  else if (t.choices.length) for (const c of t.choices) {
    box.append(el("button", {textContent: c, onclick: () => send(c)})); }
  else { const i = el("input", {id: "free", size: 50}); box.append(i,
    el("button", {textContent: "Next", onclick: () => send(i.value)})); }
  shownAt = performance.now(); enable(false);
}
function enable(on) { for (const b of $("answers").querySelectorAll("button")) b.disabled = !on; }
async function send(value) {
  if (ended.size < trial.clips.length) {
    $("msg").textContent = "Please play the whole clip first."; return; }
  enable(false);
  const body = {token: trial.token, response: value, played_ms: played,
                rt_ms: Math.round(performance.now() - shownAt)};
  const r = await fetch(`/study/${code}/answer`, {method: "POST",
    headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)});
  const out = await r.json();
  if (!r.ok) { $("msg").textContent = out.detail || "Not saved."; enable(true); return; }
  load();
}
load();
</script><noscript>This page needs JavaScript.</noscript>
<p style="color:#888;font-size:.8rem">Participant __SAFE__ — keep this link to come back later.</p>
</body></html>"""
